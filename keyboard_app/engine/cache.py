"""Contract 3, second half: recurrent states at checkpoints along the tokens.

``StateCache`` answers "the next-word log-probabilities after the first ``n``
tokens" for a token list that changes a little between calls.  It keeps the
state after some positions (checkpoints) and runs the network only from the
best checkpoint before ``n``: one step after a finished word, nothing after a
backspace to a recent position, one batched run after a paste.

Exactness.  An int8 graph quantizes its activations per call, so a run over
ten tokens and ten one-token runs give slightly different numbers (about
1e-3), and a cache that sometimes steps and sometimes runs in chunks would
not reproduce what a fresh engine computes.  So the state after each position
is defined by one canonical computation, whatever path the edits took:

* the text is cut into cells of ``cell`` tokens (8) from its start;
* the state at a cell boundary comes from one run over the whole previous
  cell, from the state at that cell's start;
* the state at any other position comes from one one-token step from the
  position before it;
* the log-probabilities at a position are those of the run that gave its state.

A fresh engine on a pasted text runs cell after cell (log-probabilities are
only needed at the end); typing steps one token at a time, and every 8th
token runs its cell again instead.  The cell size trades the one against the
other, measured on the default int8 model (2 x 512): a run of 8 tokens takes
about 0.75 ms (16: 1.3 ms), inside the 2 ms budget for a word boundary,
while a long paste costs about 92 us a token (16: 81 us; one 512-token run:
65 us).  With an fp32 graph every path gives the same bits anyway.

Memory stays bounded on a long document.  Checkpoints are kept densely near
two anchors, the position last asked for and the end of the branch (see
``textcache``), and at cell boundaries thinned with the distance ``d`` to the
nearer anchor: all within ``recent`` tokens, then every 2nd, 4th, 8th...
boundary, the spacing doubling as ``d`` doubles.  That is O(log n)
checkpoints (about 8 KB each for the default model), and a rewind to ``d``
tokens back recomputes at most ``2 * d * cell / recent`` (d / 16) tokens more
than the edit itself requires.
"""

from __future__ import annotations

import logging
from array import array
from bisect import bisect_left, insort
from collections import OrderedDict

import numpy as np

from .session import RecurrentSession, State

log = logging.getLogger(__name__)

CELL = 8  # tokens per canonical run (see the module docstring)
DENSE = 64  # every position's state is kept this close to an anchor
RECENT = 256  # every cell boundary's state is kept this close to an anchor
LOG_PROBS_KEPT = 8  # distributions kept for the most recently used positions


class StateCache:
    """States at checkpoints along a token list (see the module docstring)."""

    def __init__(
        self,
        session: RecurrentSession,
        *,
        cell: int = CELL,
        dense: int = DENSE,
        recent: int = RECENT,
        log_probs_kept: int = LOG_PROBS_KEPT,
    ) -> None:
        if cell < 1 or dense < cell or recent < cell or log_probs_kept < 1:
            raise ValueError("need cell >= 1, dense >= cell, recent >= cell, log_probs_kept >= 1")
        self._session = session
        self._cell = cell
        self._dense = dense
        self._recent = recent
        self._log_probs_kept = log_probs_kept
        self.runs = 0  # network runs so far (for tests and benchmarks)
        self.tokens_run = 0  # tokens fed to the network so far
        self.reset()

    def reset(self) -> None:
        self._positions: list[int] = [0]  # sorted checkpoint positions
        self._states: dict[int, State] = {0: self._session.zero_state()}
        self._log_probs: OrderedDict[int, np.ndarray] = OrderedDict()
        self._prune_at = 4 * (self._dense + self._recent // self._cell)

    def __len__(self) -> int:
        """Checkpoints held."""
        return len(self._positions)

    def invalidate(self, index: int) -> None:
        """The token at ``index`` (and all after it) changed: forget what depended on it."""
        cut = bisect_left(self._positions, index + 1)
        for position in self._positions[cut:]:
            del self._states[position]
        del self._positions[cut:]
        for position in [p for p in self._log_probs if p > index]:
            del self._log_probs[position]

    def log_probs(self, ids: array, n: int) -> np.ndarray:
        """Log-probabilities (vocab,) of the token after ``ids[:n]``; ``ids`` is an int64 array."""
        if not 1 <= n <= len(ids):
            raise ValueError(f"position {n} is outside the token list (1..{len(ids)})")
        found = self._log_probs.get(n)
        if found is not None:
            self._log_probs.move_to_end(n)
            return found
        position = self._start_for(n)
        state = self._states[position]
        cell = self._cell
        while position < n:
            size = cell if position % cell == 0 and position + cell <= n else 1
            tokens = np.frombuffer(ids, np.int64, size, position * 8).reshape(1, size)
            out, state = self._session.run(tokens, state)
            self.runs += 1
            self.tokens_run += size
            position += size
            if position not in self._states:
                insort(self._positions, position)
            self._states[position] = state
        result = out[0]
        self._log_probs[n] = result
        while len(self._log_probs) > self._log_probs_kept:
            self._log_probs.popitem(last=False)
        if len(self._positions) > self._prune_at:
            self._prune(n, len(ids))
        return result

    def _start_for(self, n: int) -> int:
        """The best checkpoint before ``n`` from which the canonical computation reaches ``n``:
        one in ``n``'s own cell (then only steps follow), else a cell boundary."""
        i = bisect_left(self._positions, n) - 1
        if self._positions[i] >= n - n % self._cell:
            return self._positions[i]
        while self._positions[i] % self._cell:
            i -= 1
        return self._positions[i]

    def _prune(self, anchor: int, end: int) -> None:
        kept = [0]
        for p in self._positions[1:]:
            distance = min(abs(anchor - p), abs(end - p))
            if p % self._cell:
                keep = distance <= self._dense
            else:
                level = ((distance - 1) // self._recent).bit_length() if distance else 0
                keep = (p // self._cell) % (1 << level) == 0
            if keep:
                kept.append(p)
            else:
                del self._states[p]
        self._positions = kept
        self._prune_at = max(4 * (self._dense + self._recent // self._cell), 2 * len(kept))
        log.debug("pruned checkpoints to %d", len(kept))
