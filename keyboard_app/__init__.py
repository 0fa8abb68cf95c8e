"""Predictive keyboard: a desktop app that suggests the next word with an LSTM."""

__version__ = "0.1.0"
