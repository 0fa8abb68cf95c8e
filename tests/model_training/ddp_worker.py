"""``keyboard-train`` as torchrun starts it, with what the DDP tests need to see.

Run as ``torchrun ... tests/model_training/ddp_worker.py ARGS`` with
``DDP_TEST_OUT`` set to a folder: each rank leaves there its final weights
(``rank{R}.pt``, also after a stop) and, when it exported a bundle,
``exported-by-rank{R}``.  ``DDP_TEST_SIGTERM_AT=RANK:STEP`` makes that rank
send itself SIGTERM after that optimizer step, as a scheduler would.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import torch

from model_training import pipeline
from model_training import train as training
from model_training.cli import console_main

OUT = Path(os.environ["DDP_TEST_OUT"])
RANK = int(os.environ.get("RANK", "0"))

_run = training.Trainer.run
_step = training.Trainer.train_step
_export = pipeline.export_bundle


def run(self, checkpoint_path=None):
    try:
        return _run(self, checkpoint_path)
    finally:
        weights = {k: v.detach().cpu().clone() for k, v in self.model.state_dict().items()}
        torch.save({"weights": weights, "step": self.counters.step}, OUT / f"rank{RANK}.pt")


def train_step(self, x, y):
    loss = _step(self, x, y)
    target = os.environ.get("DDP_TEST_SIGTERM_AT")
    if target:
        rank, step = map(int, target.split(":"))
        if rank == RANK and self.counters.step + 1 == step:
            signal.raise_signal(signal.SIGTERM)
    return loss


def export_bundle(*args, **kwargs):
    (OUT / f"exported-by-rank{RANK}").touch()
    return _export(*args, **kwargs)


training.Trainer.run = run
training.Trainer.train_step = train_step
pipeline.export_bundle = export_bundle

if __name__ == "__main__":
    sys.exit(console_main())
