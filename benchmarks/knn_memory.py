"""A memory of the user's text, searched at each word boundary (issue 12): kNN-LM.

    .venv/bin/python benchmarks/knn_memory.py ADAPTED USER_TRAIN.txt UNSEEN.txt
        [--skip 2000] [--words 2000] [--weights 0,0.1,0.2,0.3] [--temperatures 0.5,1]
        [--dims 64] [--lists 512] [--probe 8] [--neighbours 32]

The retrained network has learned the user's text, but a small network keeps
only what many passes teach it; the text itself holds more: what followed
*this kind* of context, word for word.  A kNN language model (Khandelwal et
al., 2020) keeps, for each position of the user's training text, the
network's hidden state there and the word that came next; at a word boundary
the states nearest to the cursor's vote for their next words, and the vote is
mixed into the network's distribution (here, like ``network_mixture``'s second
network, right after the network, before the document cache and the phrase
tables): ``P = (1 - w) P_net + w P_knn``.

The keys are the LSTM's last hidden state (the graph's ``h``) projected on
its first ``--dims`` principal components; the search is an inverted file
(``--lists`` k-means cells, the ``--probe`` nearest searched), so a boundary
costs a few thousand distances rather than one per position of the text.
The vote: neighbour i weighs ``exp(-(d_i - d_min) / (t * mean d))``.
Prints KSR at k = 1 and 3 per weight and temperature, the change from weight
0, and the search's cost per boundary (median and p99, this process).
A measurement, not a feature: nothing in the app uses it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from keyboard_app.engine.components import Component, Part, Stage  # noqa: E402
from keyboard_app.engine.evaluate import evaluate, typed_words  # noqa: E402
from keyboard_app.engine.predictor import Predictor  # noqa: E402
from keyboard_app.engine.session import RecurrentSession  # noqa: E402
from tune_recency import floats  # noqa: E402

STREAMS = 64  # the text is cut into this many pieces, run side by side


def hidden_states(bundle, text: str) -> tuple[np.ndarray, np.ndarray]:
    """(keys (n, hidden), next ids (n,)): the top layer's h after each token of ``text`` and the
    token that followed, the text run as ``STREAMS`` contiguous pieces at once."""
    from keyboard_app.engine.tokenizer import Tokenizer

    tokenizer = Tokenizer(bundle.tokenizer_settings)
    ids = np.array(bundle.vocab.encode(tokenizer.tokenize(text)), np.int64)
    session = RecurrentSession.open(bundle, 2)
    length = (len(ids) - 1) // STREAMS
    pieces = ids[: STREAMS * length + 1]
    inputs = np.stack([pieces[i * length:(i + 1) * length] for i in range(STREAMS)])
    targets = np.stack([pieces[i * length + 1:(i + 1) * length + 1] for i in range(STREAMS)])
    state = session.zero_state(STREAMS)
    keys = np.empty((STREAMS, length, session.hidden_size), np.float32)
    for t in range(length):
        _, state = session.run(inputs[:, t:t + 1], state)
        keys[:, t] = state[0][-1]
    return keys.reshape(-1, session.hidden_size), targets.reshape(-1)


class Memory:
    """The keys projected and filed by cell; ``search`` gives the next-word vote."""

    def __init__(self, keys: np.ndarray, values: np.ndarray, dims: int, lists: int, seed: int = 0) -> None:
        self.mean = keys.mean(0)
        centred = keys - self.mean
        eigenvalues, vectors = np.linalg.eigh(centred.T @ centred / len(keys))
        self.projection = vectors[:, ::-1][:, :dims].astype(np.float32).copy()
        projected = centred @ self.projection
        rng = np.random.default_rng(seed)
        centroids = projected[rng.choice(len(projected), lists, replace=False)]
        for _ in range(12):
            cell = self._nearest(projected, centroids)
            for c in range(lists):
                members = projected[cell == c]
                if len(members):
                    centroids[c] = members.mean(0)
        cell = self._nearest(projected, centroids)
        order = np.argsort(cell, kind="stable")
        self.centroids = centroids
        self.keys = np.ascontiguousarray(projected[order])
        self.norms = (self.keys ** 2).sum(1)
        self.values = values[order]
        self.starts = np.searchsorted(cell[order], np.arange(lists + 1))
        self.times: list[float] = []

    @staticmethod
    def _nearest(points: np.ndarray, centroids: np.ndarray) -> np.ndarray:
        out = np.empty(len(points), np.int64)
        norms = (centroids ** 2).sum(1)
        for lo in range(0, len(points), 20000):
            block = points[lo:lo + 20000]
            out[lo:lo + 20000] = np.argmin(norms - 2 * block @ centroids.T, 1)
        return out

    def search(self, h: np.ndarray, probe: int, neighbours: int, temperature: float):
        started = time.perf_counter()
        q = (h - self.mean) @ self.projection
        cells = np.argpartition(((self.centroids - q) ** 2).sum(1), probe)[:probe]
        rows = np.concatenate([np.arange(self.starts[c], self.starts[c + 1]) for c in cells])
        d = self.norms[rows] - 2 * self.keys[rows] @ q + q @ q
        k = min(neighbours, len(rows))
        best = np.argpartition(d, k - 1)[:k]
        d = d[best]
        w = np.exp(-(d - d.min()) / (temperature * max(d.mean(), 1e-6)))
        ids, inverse = np.unique(self.values[rows[best]], return_inverse=True)
        p = np.bincount(inverse, weights=w) / w.sum()
        self.times.append(time.perf_counter() - started)
        return ids, np.log(p)


class KnnStage(Component):
    def __init__(self, memory: Memory, probe: int, neighbours: int) -> None:
        self.memory, self.probe, self.neighbours = memory, probe, neighbours
        self.weight, self.temperature = 0.0, 1.0

    def stage(self, at) -> Stage | None:
        if self.weight <= 0.0:
            return None
        h = np.asarray(at.state()[0][-1, 0], np.float32)
        ids, log_p = self.memory.search(h, self.probe, self.neighbours, self.temperature)
        return Stage([Part(self.weight, ids.astype(np.int64), log_p)])


def cut(text: str, tokenizer, skip: int) -> str:
    if not skip:
        return text
    found = typed_words(tokenizer.iter_tokens(text))
    start = found[skip].start
    return text[text.rfind("\n", 0, start) + 1:]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("bundle", type=Path)
    p.add_argument("train", type=Path, help="the user's training text (the memory)")
    p.add_argument("unseen", type=Path, help="the text to type")
    p.add_argument("--skip", type=int, default=2000)
    p.add_argument("--words", type=int, default=2000)
    p.add_argument("--weights", type=floats, default=floats("0,0.1,0.2,0.3"))
    p.add_argument("--temperatures", type=floats, default=floats("1"))
    p.add_argument("--dims", type=int, default=64)
    p.add_argument("--lists", type=int, default=512)
    p.add_argument("--probe", type=int, default=8)
    p.add_argument("--neighbours", type=int, default=32)
    args = p.parse_args(argv)
    predictor = Predictor.load(args.bundle)
    started = time.perf_counter()
    keys, values = hidden_states(predictor.bundle, args.train.read_text(encoding="utf-8"))
    ran = time.perf_counter() - started
    memory = Memory(keys, values, args.dims, args.lists)
    print(f"memory: {len(keys)} positions, states in {ran:.1f} s, filed in {time.perf_counter() - started - ran:.1f} s, "
          f"{memory.keys.nbytes / 1e6:.1f} MB of keys", flush=True)
    knn = KnnStage(memory, args.probe, args.neighbours)
    predictor.add_component(knn, first=True)
    text = cut(args.unseen.read_text(encoding="utf-8"), predictor.tokenizer, args.skip)
    base = None
    weights = [0.0] + [w for w in args.weights if w != 0]  # the network alone first: the changes' base
    for temperature in args.temperatures:
        for weight in weights:
            if weight == 0 and base is not None:
                continue
            knn.weight, knn.temperature = weight, temperature
            memory.times.clear()
            predictor.reset()
            report = evaluate(predictor, [text], ks=(1, 3), max_words=args.words)
            k1, k3 = report.ksr[1], report.ksr[3]
            if weight == 0:
                base = (k1, k3)
            t = np.array(memory.times or [0.0]) * 1e3
            print(f"w {weight:<5g} t {temperature:<5g} KSR@1 {k1:6.2f} ({k1 - base[0]:+.2f})  KSR@3 {k3:6.2f} "
                  f"({k3 - base[1]:+.2f})  search p50 {np.median(t):.3f} ms p99 {np.percentile(t, 99):.3f} ms",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
