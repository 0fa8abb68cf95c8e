"""Training losses for the output layer.

The full softmax over a 20k vocabulary costs more than the recurrent layers
on a CPU.  ``SampledSoftmax`` scores each target against a shared set of
negatives drawn from the unigram distribution raised to 0.75, with the
log-Q correction (Jean et al. 2015), which keeps the estimate of the full
softmax's gradient unbiased enough that perplexity measured with the full
softmax stays close.  It is used for training only: evaluation and the
exported graph always use the full softmax.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def full_softmax_loss(features: Tensor, targets: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    logits = F.linear(features, weight, bias)  # (tokens, vocab)
    return F.cross_entropy(logits, targets)


class SampledSoftmax:
    """Sampled softmax with an exact head.

    The ``num_exact`` most frequent words are always scored exactly (they hold
    most of the probability mass, so the partition estimate barely varies);
    ``num_samples`` negatives are drawn, with replacement, from the remaining
    words in proportion to count^0.75, and their logits get the log-Q
    correction (minus the log of their expected count among the samples), so
    that head + target + corrected samples (draws of the target removed) is
    an unbiased estimate of the softmax's normaliser.  The target's own logit
    is exact: the loss then estimates the full cross-entropy (what the
    progress bar shows), and its gradient the full softmax's.
    """

    def __init__(self, counts: Tensor, num_samples: int, num_exact: int = 0,
                 power: float = 0.75) -> None:
        vocab = len(counts)
        order = torch.argsort(counts.double(), descending=True, stable=True)
        num_exact = min(num_exact, vocab)
        self.head = order[:num_exact].clone()  # (exact,)
        in_head = torch.zeros(vocab, dtype=torch.bool)
        in_head[self.head] = True
        self.in_head = in_head  # (vocab,)
        q = counts.double().clamp(min=1).pow(power).masked_fill(in_head, 0.0)
        if q.sum() == 0:  # everything is in the head
            q = (~in_head).double() + 1e-12
        self.q = (q / q.sum()).float()  # (vocab,) zero on the head
        self.num_samples = num_samples if num_exact < vocab else 0
        # log of each tail word's expected count among the samples
        self.log_expected = (self.q * max(self.num_samples, 1)).clamp(min=1e-30).log()  # (vocab,)
        self.log_expected = self.log_expected.masked_fill(in_head, 0.0)

    def to(self, device: torch.device | str) -> "SampledSoftmax":
        for name in ("head", "in_head", "q", "log_expected"):
            setattr(self, name, getattr(self, name).to(device))
        return self

    def __call__(self, features: Tensor, targets: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
        """Mean loss over ``features`` (tokens, dim) with ``targets`` (tokens,)."""
        n = targets.shape[0]
        if self.num_samples:
            samples = torch.multinomial(self.q, self.num_samples, replacement=True)  # (samples,)
        else:
            samples = targets.new_empty(0)
        # One gather for targets, head and samples: one dense gradient for the tied matrix.
        rows = torch.cat([targets, self.head, samples])  # (tokens + exact + samples,)
        w, b = weight[rows], bias[rows]  # (rows, dim), (rows,)
        target_head = self.in_head[targets]  # (tokens,)
        true_logits = (features * w[:n]).sum(-1) + b[:n]  # (tokens,) exact
        others = torch.addmm(b[n:] - self.log_expected[rows[n:]], features, w[n:].t())  # (tokens, exact + samples)
        # A sample equal to the target is not a negative; a head target is already a column.
        hits = samples.unsqueeze(0) == targets.unsqueeze(1)  # (tokens, samples)
        others[:, len(self.head):] = others[:, len(self.head):].masked_fill(hits, float("-inf"))
        true_column = true_logits.masked_fill(target_head, float("-inf"))  # (tokens,)
        logits = torch.cat([true_column.unsqueeze(1), others], dim=1)  # (tokens, 1 + exact + samples)
        return (torch.logsumexp(logits, dim=1) - true_logits).mean()
