"""Predictive keyboard: a desktop app that suggests the next word with an LSTM."""

import os as _os

__version__ = "0.1.0"

# onnxruntime (1.32 on Linux) otherwise keeps a device id and a queue of usage events for
# Microsoft's collector under ~/.cache/Microsoft/DeveloperTools/.onnxruntime/ from the moment
# it is imported: this program says everything stays on the user's computer.  Set here, before
# any part of the app, the trainer (which imports this package first) or a benchmark can import
# onnxruntime, which reads it then; a user's own setting is kept.
_os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
