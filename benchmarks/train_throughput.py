#!/usr/bin/env python3
"""Training throughput of the default model: our loop next to a plain PyTorch loop.

Both loops train the same default-size model (``ModelConfig()``: vocabulary
20k, embedding 256 tied to the output through a 512 -> 256 projection, one
LSTM layer of 512) on the same batches (batch 32 x bptt 35) of synthetic
Zipf-distributed ids, in the same process, one after the other:

* **ours**: ``model_training.train.Trainer.train_step`` as ``keyboard-train``
  runs it (sampled softmax for the output layer: the 1024 most frequent
  words exact plus 1024 shared negatives; fused AdamW; gradient clipping;
  state carried across batches);
* **reference**: the stock loop (``nn.CrossEntropyLoss`` over the full
  logits, ``torch.optim.AdamW`` with its defaults, the same clipping and
  carried state), with no tricks.

Usage::

    python benchmarks/train_throughput.py [--seconds 40] [--threads 0] [--vocab 20000]

Prints tokens/s for each and the ratio.  Figures on a machine shared with
other work are noisy; run it twice.  Perplexity is not measured here (see
the report in the training issue for equal-token comparisons).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as keyboard-train does; see model_training.cli


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=40.0, help="measured time per loop (default 40)")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: all cores)")
    p.add_argument("--vocab", type=int, default=20000)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--bptt", type=int, default=35)
    args = p.parse_args(argv)

    import numpy as np
    import torch

    from keyboard_app.engine.tokenizer import SPECIAL_TOKENS
    from keyboard_app.engine.vocab import Vocabulary
    from model_training.config import ModelConfig, TrainConfig
    from model_training.model import RNNLM
    from model_training.train import Trainer

    threads = args.threads or os.cpu_count() or 1
    torch.set_num_threads(threads)
    rng = np.random.default_rng(0)
    ids = (rng.zipf(1.2, 2_000_000) % args.vocab).astype(np.uint16)  # (tokens,)
    tokens = list(SPECIAL_TOKENS) + [f"w{i}" for i in range(args.vocab - len(SPECIAL_TOKENS))]
    vocab = Vocabulary(tokens, tokens, np.bincount(ids, minlength=args.vocab).tolist())
    model_config = ModelConfig(vocab_size=args.vocab)
    train_config = TrainConfig(batch_size=args.batch_size, bptt=args.bptt)

    def fresh_model() -> RNNLM:
        torch.manual_seed(0)
        return RNNLM(model_config)

    trainer = Trainer(fresh_model(), vocab, train_config, ids, ids[:1000], device=torch.device("cpu"))
    batches = trainer.batches

    def ours(i: int) -> int:
        x, y = batches.get(i)  # (batch, time) each
        trainer.train_step(x, y)
        return y.numel()

    ref_model = fresh_model().train()
    ref_opt = torch.optim.AdamW(ref_model.parameters(), lr=train_config.lr)
    criterion = torch.nn.CrossEntropyLoss()
    ref_state = [ref_model.init_state(args.batch_size)]

    def reference(i: int) -> int:
        x, y = batches.get(i)  # (batch, time) each
        logits, state = ref_model(x, ref_state[0])  # (batch, time, vocab)
        ref_state[0] = tuple(s.detach() for s in state)
        loss = criterion(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        ref_opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(ref_model.parameters(), train_config.clip)
        ref_opt.step()
        return y.numel()

    def measure(step) -> tuple[float, int]:
        for i in range(3):  # warm-up: allocations, first-call costs
            step(i)
        n, i = 0, 3
        start = time.perf_counter()
        while time.perf_counter() - start < args.seconds:
            n += step(i % len(batches))
            i += 1
        return n / (time.perf_counter() - start), i - 3

    print(f"default model: vocab {args.vocab}, embedding {model_config.embedding_dim} (tied), "
          f"{model_config.num_layers} x {model_config.cell.upper()} {model_config.hidden_size}, "
          f"batch {args.batch_size} x bptt {args.bptt}, {threads} thread(s), torch {torch.__version__}")
    ours_rate, ours_steps = measure(ours)
    print(f"ours      (sampled softmax {train_config.num_exact} exact + {train_config.num_samples} sampled, fused AdamW): "
          f"{ours_rate:8.0f} tokens/s  ({ours_steps} steps)")
    ref_rate, ref_steps = measure(reference)
    print(f"reference (full-softmax CrossEntropyLoss, stock AdamW):                        "
          f"{ref_rate:8.0f} tokens/s  ({ref_steps} steps)")
    print(f"ratio: {ours_rate / ref_rate:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
