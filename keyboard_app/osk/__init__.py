"""The on-screen keyboard: the predictor's suggestions over keys that type into any application.

``keyboard-app --osk`` opens it alone; the main window's View menu opens it
beside the editor, sharing its engine.  The parts: ``layout`` (the keys, from
a small JSON file), ``settings`` (its own validated file), ``access`` (dwell
and switch scanning, with an injectable clock), ``context`` (what was typed
since the focus changed), ``backend`` (key events through pynput),
``controller`` (typing and predicting) and ``window`` (the widget that never
takes the focus).
"""
