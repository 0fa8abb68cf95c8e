"""Training side of the predictive keyboard: corpus -> vocabulary -> LSTM -> ONNX bundle.

Needs torch and onnx; the app never imports it.  One concept per module:

``config``      ModelConfig and TrainConfig (frozen dataclasses, commented defaults)
``corpus``      finding and streaming text files; the held-out split
``vocabulary``  counting (pass 1) and choosing the vocabulary with display forms
``data``        token ids in compact arrays (pass 2) and BPTT batches
``model``       RNNLM (embedding, LSTM/GRU, projection, tied output) and the exported graph
``losses``      full and sampled softmax (training only)
``train``       the training loop, checkpoints, held-out scoring
``export``      ONNX export, parity check, int8 quantization, the bundle
``init_from``   fine-tuning from a bundle or checkpoint
``pipeline``    all of the above in one call (``train_bundle``)
``progress``    the progress bar and the JSON progress lines
``cli``         ``keyboard-train``
"""
