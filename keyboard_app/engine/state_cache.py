"""Contract 3, second half: recurrent states at checkpoints along the tokens.

``StateCache`` answers "the next-word log-probabilities after the first ``n``
tokens" for a token list that changes a little between calls.  It keeps the
state after some positions (checkpoints) and runs the network only from the
best checkpoint before ``n``: one step after a finished word, nothing after a
backspace to a recent position, one batched run after a paste.

The context is local.  The state at a position depends only on the tokens
since shortly before the last *segment start* at or before it, so the cost
of a fresh engine on a long document is bounded by its last paragraph, not
by the document:

* a paragraph break (the ``<s>`` token, which the text also starts with) is a
  hard start: the position after it holds a *start state*, the one that one
  run over the ``warm`` tokens before it, the ``<s>`` included, from the
  zero state gives (at the text's start that is ``<s>`` alone).  So a new
  paragraph still knows how the text before it ended, as in training, where
  the state flows through ``<s>``, while what lies further back does not
  matter;
* a paragraph longer than ``cap`` tokens restarts too, at the first sentence
  end (``. ! ?``) at least ``cap`` tokens after its previous start, or
  ``2 * cap`` tokens after it if there is none by then (a soft start: the
  position after the mark holds the same start state, as if a new paragraph
  began there).  Soft starts are found left to right from the paragraph's
  hard start, so they are a function of the tokens before them, and a fresh
  engine finds the same ones (``cap=None`` turns them off).

So the suggestions after "A.\\n\\nB c" and after "Y. " * 40 + "A.\\n\\nB c" are
the same, and a fresh engine runs the network over at most one paragraph (at
most ``2 * cap`` tokens) plus the ``warm`` tokens before it.

Exactness.  An int8 graph quantizes its activations per call, so a run over
ten tokens and ten one-token runs give slightly different numbers, and a
cache that sometimes steps and sometimes runs in chunks would not reproduce
what a fresh engine computes.  So the state after each position is defined by
one canonical computation, whatever path the edits took:

* each segment is cut into cells of ``cell`` tokens from its start (the
  position after the ``<s>`` or the sentence end);
* the state at a segment start is its start state (one run over the up to
  ``warm`` tokens before it, from the zero state; the log-probabilities there
  are that run's);
* the state at a cell boundary comes from one run over the whole previous
  cell, from the state at that cell's start;
* the state at any other position comes from one one-token step from the
  position before it;
* the log-probabilities at a position are those of the run that gave its state.

A fresh engine on a pasted text runs cell after cell from the last segment
start (log-probabilities are only needed at the end); typing steps one token
at a time, and every ``cell``-th token of a segment runs its cell again
instead.  The cell size trades the one against the other: a larger cell makes
a paste cheaper per token and that word boundary dearer; ``CELL`` keeps the
boundary inside its budget (docs/ARCHITECTURE.md has the measurements).
With an fp32 graph every path gives the same bits anyway.

Memory stays bounded on a long document.  Checkpoints are kept densely near
two anchors, the position last asked for and the end of the branch (see
``token_cache``), and at cell boundaries thinned with the distance ``d`` to
the nearer anchor: all within ``recent`` tokens, then every 2nd, 4th, 8th...
boundary of their segment, the spacing doubling as ``d`` doubles.  That is
O(log n) checkpoints, and a rewind to ``d`` tokens back recomputes at most
``2 * d * cell / recent`` tokens more than the edit itself requires, and
never more than the segment holds.  The segment starts themselves cost one
integer each.  A thinning drops a couple of hundred states every couple of
hundred words; handing their arrays back to onnxruntime's allocator at once
would make that word boundary the slowest of all (about 0.4 ms), so they are
handed back ``RELEASED_EACH`` at a time, one batch at each later network run.

Running ahead.  A new paragraph's start state is one run over ``warm``
tokens, the dearest single run of ordinary typing, paid at the keystroke
that completes the blank line.  Its tokens are all known one keystroke
earlier, when the text ends with a line break: ``run_ahead`` then computes
that start state on a helper thread (the same session, the same inputs, so
the same numbers), while the person moves a finger to the next key, and
``_start_state`` takes it when the blank line comes (waiting for it if it is
not quite done, which still saves the part already run), or it is dropped.
The counters (``runs``, ``tokens_run``) count such a run when it is used, so
they say the same as without it.  Only a session that may be called from two
threads at once (onnxruntime's) runs ahead.
"""

from __future__ import annotations

import logging
import threading
from array import array
from bisect import bisect_left, bisect_right, insort
from collections import OrderedDict

import numpy as np

from .session import RecurrentSession, State
from .tokenizer import BOS, Tokenizer

log = logging.getLogger(__name__)

CELL = 8  # tokens per canonical run (see the module docstring)
DENSE = 64  # every position's state is kept this close to an anchor
RECENT = 256  # every cell boundary's state is kept this close to an anchor
LOG_PROBS_KEPT = 8  # distributions kept for the most recently used positions
CAP = 2000  # tokens after which a long paragraph restarts at a sentence end
WARM = 64  # tokens before a segment start that its start state is computed from
STARTS_KEPT = 32  # start states kept (most recently used)
AHEAD_KEPT = 2  # start states computed ahead and not used yet


RELEASED_EACH = 16  # dropped states handed back at each network run (module docstring: memory)


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
        cap: int | None = CAP,
        warm: int = WARM,
    ) -> None:
        if cell < 1 or dense < cell or recent < cell or log_probs_kept < 1:
            raise ValueError("need cell >= 1, dense >= cell, recent >= cell, log_probs_kept >= 1")
        if cap is not None and cap < 1:
            raise ValueError(f"cap must be at least 1 (or None), not {cap}")
        if warm < 1:
            raise ValueError(f"warm must be at least 1 (the <s> itself), not {warm}")
        self.warm = warm
        self._session = session
        self._cell = cell
        self._dense = dense
        self._recent = recent
        self._log_probs_kept = log_probs_kept
        self.cap = cap
        vocab = session.bundle.vocab
        tokenizer = Tokenizer(session.bundle.tokenizer_settings)
        self._bos = vocab.id(BOS)
        # per id: ends a sentence (not <s>); a lookup, not np.isin, at every word boundary
        self._ends_sentence = np.zeros(len(vocab), bool)
        self._ends_sentence[[i for i, t in enumerate(vocab.tokens) if t != BOS and tokenizer.is_sentence_end(t)]] = True
        self.runs = 0  # network runs so far (for tests and benchmarks)
        self.run_ahead_enabled = getattr(session, "thread_safe", False)
        self._ahead: OrderedDict[bytes, _Ahead] = OrderedDict()  # warm tokens -> a run started ahead
        self.tokens_run = 0  # tokens fed to the network so far
        self.reset()

    def reset(self) -> None:
        self._positions: list[int] = []  # sorted checkpoint positions (segment starts are not among them)
        self._states: dict[int, State] = {}
        self._log_probs: OrderedDict[int, np.ndarray] = OrderedDict()
        # segment start -> (log-probabilities, state) there: its start state
        self._starts: OrderedDict[int, tuple[np.ndarray, State]] = OrderedDict()
        self._prune_at = 4 * (self._dense + self._recent // self._cell)
        self._released: list[State] = []  # dropped by a thinning, handed back a few at a time
        # Segment starts at or before ``_scanned`` (all of them); 0 stands for
        # the zero state, before the <s> that every token list starts with.
        self._segments = array("q", [0])
        self._scanned = 0

    def __len__(self) -> int:
        """Checkpoints held."""
        return len(self._positions)

    def segment_start(self, ids: array, n: int) -> int:
        """The position where the context of position ``n`` starts (after its ``<s>`` or sentence end)."""
        self._scan(ids, n)
        return self._segments[bisect_right(self._segments, n) - 1]

    def invalidate(self, index: int) -> None:
        """The token at ``index`` (and all after it) changed: forget what depended on it."""
        cut = bisect_left(self._positions, index + 1)
        for position in self._positions[cut:]:
            del self._states[position]
        del self._positions[cut:]
        for position in [p for p in self._log_probs if p > index]:
            del self._log_probs[position]
        for position in [p for p in self._starts if p > index]:  # their warm tokens may have moved
            del self._starts[position]
        del self._segments[bisect_left(self._segments, index + 1):]
        self._scanned = min(self._scanned, index)

    def log_probs(self, ids: array, n: int) -> np.ndarray:
        """Log-probabilities (vocab,) of the token after ``ids[:n]``; ``ids`` is an int64 array."""
        if not 1 <= n <= len(ids):
            raise ValueError(f"position {n} is outside the token list (1..{len(ids)})")
        found = self._log_probs.get(n)
        if found is not None:
            self._log_probs.move_to_end(n)
            return found
        segment = self.segment_start(ids, n)
        if segment == n:
            result = self._start_state(ids, segment)[0]
        else:
            position = self._start_for(n, segment)
            if position == segment:
                state = self._start_state(ids, segment)[1] if segment else self._session.zero_state()
            else:
                state = self._states[position]
            cell = self._cell
            while position < n:
                size = cell if (position - segment) % cell == 0 and position + cell <= n else 1
                tokens = np.frombuffer(ids, np.int64, size, position * 8).reshape(1, size)
                out, state = self._session.run(tokens, state)
                self.runs += 1
                self.tokens_run += size
                position += size
                if position not in self._states:
                    insort(self._positions, position)
                self._states[position] = state
            result = out[0]
            result.flags.writeable = False  # shared with callers and kept for later calls
            del self._released[-RELEASED_EACH:]
        self._log_probs[n] = result
        while len(self._log_probs) > self._log_probs_kept:
            self._log_probs.popitem(last=False)
        if len(self._positions) > self._prune_at:
            self._prune(n, len(ids))
        return result

    def state_at(self, ids: array, n: int) -> State:
        """The recurrent state after ``ids[:n]``: the one ``log_probs(ids, n)`` computed (the
        canonical computation, so the same whatever the path), computed now if it is not kept.
        Read-only: the cache keeps it."""
        self.log_probs(ids, n)
        segment = self.segment_start(ids, n)
        if segment == n:
            return self._start_state(ids, segment)[1]
        found = self._states.get(n)
        if found is None:  # thinned since: compute it again
            self._log_probs.pop(n, None)
            self.log_probs(ids, n)
            found = self._states[n]
        return found

    def _start_state(self, ids: array, segment: int) -> tuple[np.ndarray, State]:
        """The start state of ``segment`` (one run over the ``warm`` tokens before it from
        the zero state), and the log-probabilities there."""
        found = self._starts.get(segment)
        if found is None:
            lo = max(0, segment - self.warm)
            tokens = np.frombuffer(ids, np.int64, segment - lo, lo * 8).reshape(1, segment - lo)
            ahead = self._ahead.pop(tokens.tobytes(), None) if self._ahead else None
            if ahead is not None:
                out, state = ahead.result()
            else:
                out, state = self._session.run(tokens, self._session.zero_state())
            self.runs += 1
            self.tokens_run += segment - lo
            result = out[0]
            result.flags.writeable = False
            found = self._starts[segment] = (result, state)
            while len(self._starts) > STARTS_KEPT:
                self._starts.popitem(last=False)
        else:
            self._starts.move_to_end(segment)
        return found

    def run_ahead(self, ids: array, n: int) -> None:
        """Start computing, on a helper thread, the start state that a paragraph break
        right after ``ids[:n]`` would need (module docstring)."""
        if not self.run_ahead_enabled or n < 1:
            return
        lo = max(0, n + 1 - self.warm)
        tokens = np.empty((1, n + 1 - lo), np.int64)
        tokens[0, :-1] = np.frombuffer(ids, np.int64, n - lo, lo * 8)
        tokens[0, -1] = self._bos
        key = tokens.tobytes()
        if key in self._ahead or n + 1 in self._starts:
            return
        self._ahead[key] = _Ahead(self._session, tokens)
        while len(self._ahead) > AHEAD_KEPT:
            self._ahead.popitem(last=False)

    def _scan(self, ids: array, n: int) -> None:
        """Find the segment starts up to position ``n`` (see the module docstring)."""
        done = self._scanned
        if n <= done:
            return
        segments, cap = self._segments, self.cap
        if n - done <= 16:  # a word or two typed: no NumPy call is quicker
            chunk = ids[done:n]
            hard = [done + 1 + i for i, t in enumerate(chunk) if t == self._bos]
            ends_sentence = self._ends_sentence
            ends = [done + 1 + i for i, t in enumerate(chunk) if ends_sentence[t]]
        else:
            chunk = np.frombuffer(ids, np.int64, n - done, done * 8)
            hard = ((chunk == self._bos).nonzero()[0] + (done + 1)).tolist()
            # positions right after a sentence end, the candidate soft starts
            ends = (self._ends_sentence[chunk].nonzero()[0] + (done + 1)).tolist()
        if cap is None:
            segments.extend(hard)
        else:
            for h in hard + [n + 1]:
                limit = min(h - 1, n)  # a soft start lies before the next hard one, and within the scan
                while segments[-1] + cap <= limit:
                    p = segments[-1]
                    k = bisect_left(ends, p + cap)
                    q = ends[k] if k < len(ends) and ends[k] < p + 2 * cap else p + 2 * cap
                    if q > limit:
                        break
                    segments.append(q)
                if h <= n:
                    segments.append(h)
        self._scanned = n

    def _start_for(self, n: int, segment: int) -> int:
        """The best checkpoint before ``n`` from which the canonical computation reaches ``n``:
        one in ``n``'s own cell (then only steps follow), else a cell boundary, else the
        segment start ``segment``."""
        i = bisect_left(self._positions, n) - 1
        if i < 0 or self._positions[i] <= segment:
            return segment
        if self._positions[i] >= n - (n - segment) % self._cell:
            return self._positions[i]
        while i >= 0 and self._positions[i] > segment:
            if (self._positions[i] - segment) % self._cell == 0:
                return self._positions[i]
            i -= 1
        return segment

    def _prune(self, anchor: int, end: int) -> None:
        """Thin the checkpoints (module docstring), in a few array operations: this runs
        at a word boundary every couple of hundred words."""
        positions = np.array(self._positions, np.int64)
        segments = np.array(self._segments, np.int64)
        offset = positions - segments[segments.searchsorted(positions, "right") - 1]
        distance = np.minimum(np.abs(anchor - positions), np.abs(end - positions))
        # the level is ((distance - 1) // recent).bit_length(), 0 at distance 0 (frexp's
        # exponent of a positive integer is its bit length)
        level = np.frexp(np.where(distance > 0, (distance - 1) // self._recent, 0))[1]
        at_boundary = offset % self._cell == 0
        keep = np.where(at_boundary, (offset // self._cell) & ((1 << level) - 1) == 0, distance <= self._dense)
        pop = self._states.pop
        self._released.extend(pop(p) for p in positions[~keep].tolist())
        kept = positions[keep].tolist()
        self._positions = kept
        self._prune_at = max(4 * (self._dense + self._recent // self._cell), 2 * len(kept))
        log.debug("pruned checkpoints to %d", len(kept))


class _Ahead:
    """One run from the zero state on a helper thread; ``result()`` waits for it."""

    def __init__(self, session: RecurrentSession, tokens: np.ndarray) -> None:
        self._session = session
        self._tokens = tokens
        self._done = threading.Event()
        self._result: tuple[np.ndarray, State] | None = None
        self._error: BaseException | None = None
        # Not a daemon: the interpreter waits for it at exit (a run takes milliseconds).  A
        # daemon thread still inside onnxruntime when the interpreter finalizes aborted the
        # process ("terminate called without an active exception", exit -6).
        threading.Thread(target=self._run, name="warm-start-ahead", daemon=False).start()

    def _run(self) -> None:
        try:
            self._result = self._session.run(self._tokens, self._session.zero_state())
        except BaseException as e:  # handed to the caller, who runs it again itself
            self._error = e
        finally:
            self._done.set()

    def result(self) -> tuple[np.ndarray, State]:
        self._done.wait()
        if self._result is None:
            return self._session.run(self._tokens, self._session.zero_state())
        return self._result
