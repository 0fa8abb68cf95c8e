"""Build-time tools for ``build.spec``: what the PyInstaller recipe does to the collected files.

The spec keeps the data (what to exclude, which Qt plugins and ICU items to
keep, which packages must never ship); these modules hold the mechanisms, so
that tests can reach them:

* ``elf``        reading sections and dynamic symbols of 64-bit ELF files
* ``libraries``  Qt plugin and translation filtering, pruning libraries nothing links to
* ``icu``        cutting Qt's ICU data down and rebuilding ``libicudata`` with a C compiler
* ``debuginfo``  stripping debug information from the libraries that carry it
* ``checks``     keeping the training stack out, and the output folder's size report

This package is not part of the app: pyproject's ``packages.find`` includes
``keyboard_app*`` and ``model_training*`` only, and the app never imports it.
PyInstaller itself is imported lazily, where it is needed.
"""
