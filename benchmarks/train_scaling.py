"""Training on several processes, and data preparation's memory against corpus size.

Two measurements (figures printed, never asserted here):

``scaling``
    tokens/s of ``keyboard-train`` with 1 and with 2 processes (torchrun, DDP
    over gloo, 1 thread each) on the same generated corpus, the default model's
    size unless told otherwise, and the scaling efficiency
    ``tokens/s(2) / (2 * tokens/s(1))``.  With ``--device cuda`` the same on a GPU
    (untested here: this machine has none).
``prep``
    the peak memory of data preparation (count, vocabulary, lexicon, encoded ids,
    phrase tables) of a generated corpus of ``--tokens`` tokens, and of writing
    the phrase tables into a bundle's ``phrases.npz`` (as the export does), in a
    process of its own: peak resident memory less the memory before preparing,
    overall and stage by stage.  ``--in-memory`` counts everything in one piece
    (the path before issue 16) for comparison.

Usage::

    python benchmarks/train_scaling.py scaling [--tokens 1000000] [--max-tokens 60000]
    python benchmarks/train_scaling.py prep --tokens 10000000 [--prep-memory-mb 2048] [--json]
    python benchmarks/train_scaling.py prep-curve --sizes 10000000,50000000

The corpus is Zipf-distributed made-up words (``--words`` of them), a tenth
capitalised, in sentences and paragraphs: what matters for memory is the number
of distinct words, pairs and triples, which grows with the corpus as in real text.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def made_up_words(n: int, rng: np.random.Generator) -> list[str]:
    letters = np.array(list("etaoinshrdlcumwfgypbvkjxqz"))
    weights = np.linspace(2.0, 0.2, len(letters))
    weights /= weights.sum()
    lengths = rng.integers(2, 10, n)
    chars = rng.choice(letters, size=(n, 10), p=weights)
    seen, words = set(), []
    for i in range(n):
        word = "".join(chars[i, : lengths[i]])
        while word in seen:
            word += letters[rng.integers(0, len(letters))]
        seen.add(word)
        words.append(word)
    return words


def generate_corpus(path: Path, *, tokens: int, words: int = 100_000, seed: int = 0,
                    zipf: float = 1.1) -> Path:
    """About ``tokens`` tokens of text over ``words`` made-up words, written in chunks."""
    rng = np.random.default_rng(seed)
    vocab = made_up_words(words, rng)
    shown = [w.capitalize() if i % 10 == 3 else w for i, w in enumerate(vocab)]
    ranks = np.arange(1, words + 1, dtype=np.float64)
    p = ranks ** -zipf
    p /= p.sum()
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with open(path, "w", encoding="utf-8") as f:
        while written < tokens:
            n = min(200_000, tokens - written)
            ids = rng.choice(words, size=n, p=p)
            lengths = rng.integers(6, 18, n // 6 + 2)
            out, i, s = [], 0, 0
            while i < n:
                k = min(int(lengths[s]), n - i)
                sentence = " ".join(shown[j] for j in ids[i : i + k])
                out.append(sentence[:1].upper() + sentence[1:] + (" ." if k > 1 else ""))
                i += k
                s += 1
                if s % 8 == 0:
                    out.append("\n")
            text = "\n".join(out) + "\n"
            f.write(text)
            written += n + n // 12  # the periods are tokens too
    return path


def rss_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


# -- prep -----------------------------------------------------------------------------

def measure_prep(corpus: Path, work: Path, memory_mb: float, in_memory: bool, vocab_size: int = 20000,
                 min_count: int = 3) -> dict:
    """Prepare ``corpus`` as keyboard-train does; what it cost."""
    from keyboard_app.engine.tokenizer import Tokenizer
    from model_training import streaming
    from model_training.corpus import find_files, heldout_splits
    from model_training.data import encode_corpus
    from model_training.pipeline import MAX_HELDOUT_BYTES, corpus_phrases
    from model_training.streaming import max_word_types, peak_rss_bytes, reset_peak_rss
    from model_training.vocabulary import build_vocabulary, corpus_lexicon, count_corpus_tokens

    spills = {"words": 0, "phrase_shards": 0}
    spill_counts, shard_codes = streaming.spill_counts, streaming._shard_codes

    def counting_spill(*args, **kwargs):
        spills["words"] += 1
        return spill_counts(*args, **kwargs)

    def counting_shard(ids, order, *args):
        spills["phrase_shards"] += order == 2
        return shard_codes(ids, order, *args)

    streaming.spill_counts, streaming._shard_codes = counting_spill, counting_shard
    memory = int(memory_mb * 2**20)
    tok = Tokenizer()
    stages: dict[str, int] = {}  # each stage's peak, less the memory before preparing

    def stage_done(name: str) -> None:
        stages[name] = peak_rss_bytes() - before
        reset_peak_rss()  # the next stage's peak from here (Linux)

    reset_peak_rss()
    before = rss_bytes()
    started = time.perf_counter()
    files = find_files([corpus])
    starts = heldout_splits(files, 0.02, MAX_HELDOUT_BYTES)
    counts = count_corpus_tokens(files, starts, tok, max_types=None if in_memory else max_word_types(memory),
                                 spill_dir=work, keep_words=vocab_size, min_count=min_count)
    vocab = build_vocabulary(counts, vocab_size, min_count)
    lexicon = corpus_lexicon(counts, vocab)
    stage_done("count")
    encoded = encode_corpus(files, starts, vocab, tok, train_tokens=counts.train_tokens,
                            heldout_tokens=counts.heldout_tokens, work_dir=work)
    stage_done("encode")
    phrases, _ = corpus_phrases(files, starts, vocab, lexicon, tok, memory_bytes=0 if in_memory else memory,
                                spill_dir=work)
    stage_done("phrases")
    seconds = time.perf_counter() - started
    if phrases is not None:  # into a bundle, as the export writes them
        phrases.save(work / "phrases.npz")
        phrases_bytes = (work / "phrases.npz").stat().st_size
        (work / "phrases.npz").unlink()
        if hasattr(phrases, "close"):
            phrases.close()
    stage_done("export")
    peak = max(stages.values())
    return {
        "tokens": counts.train_tokens + counts.heldout_tokens,
        "distinct_words": len(counts.counts) + (0 if not counts.dropped else -1),
        "words_dropped_after_merge": counts.dropped,
        "peak_bytes": peak,
        "stage_peak_bytes": stages,
        "rss_before_bytes": before,
        "ceiling_bytes": None if in_memory else memory,
        "seconds": round(seconds, 1),
        "phrase_entries": 0 if phrases is None else len(phrases),
        "phrases_npz_bytes": 0 if phrases is None else phrases_bytes,
        "lexicon_words": 0 if lexicon is None else len(lexicon),
        "ids_on_disk": isinstance(encoded.train, np.memmap),
        "spills": spills,
        "in_memory": in_memory,
    }


def prep_main(args) -> dict:
    folder = Path(args.folder) if args.folder else Path(tempfile.mkdtemp(prefix="train-scaling-"))
    corpus = folder / f"corpus-{args.tokens}-{args.words}.txt"
    if not corpus.exists():  # in another process: its memory must not count here
        subprocess.run([sys.executable, __file__, "generate", "--tokens", str(args.tokens), "--words",
                        str(args.words), "--out", str(corpus)], check=True)
    work = folder / "work"
    result = measure_prep(corpus, work, args.prep_memory_mb, args.in_memory)
    result["corpus_bytes"] = corpus.stat().st_size
    return result


def _stages(row: dict) -> str:
    return ", ".join(f"{name} {peak / 2**20:.0f}" for name, peak in row["stage_peak_bytes"].items())


def prep_curve(args) -> None:
    rows = []
    for size in [int(s) for s in args.sizes.split(",")]:
        for in_memory in ([False, True] if args.compare else [False]):
            cmd = [sys.executable, __file__, "prep", "--tokens", str(size), "--words", str(args.words),
                   "--prep-memory-mb", str(args.prep_memory_mb), "--json"]
            if args.folder:
                cmd += ["--folder", args.folder]
            if in_memory:
                cmd.append("--in-memory")
            out = subprocess.run(cmd, capture_output=True, text=True, check=True)
            row = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(f"{row['tokens']:>12,} tokens  {'in memory' if in_memory else 'streamed':9}  peak "
                  f"{row['peak_bytes'] / 2**20:8.0f} MiB  (ceiling {args.prep_memory_mb:.0f} MiB; "
                  f"{_stages(row)})  {row['seconds']:7.0f} s  spills {row['spills']}", flush=True)
    print(json.dumps(rows))


# -- scaling ----------------------------------------------------------------------------

def train_once(corpus: Path, nproc: int, args) -> dict:
    out = Path(tempfile.mkdtemp(prefix="train-scaling-run-")) / "model"
    cmd = [sys.executable, "-m", "model_training.cli", str(corpus), "--out", str(out), "--threads", "1",
           "--max-tokens", str(args.max_tokens), "--ksr-words", "0", "--device", args.device, "-q",
           "--warmup", "20", "--vocab-size", str(args.vocab_size)]
    if args.size != 1:  # the default model's size times args.size (in parameters, about)
        scale = args.size ** 0.5
        cmd += ["--embedding-dim", str(int(256 * scale)), "--hidden-size", str(int(512 * scale))]
    if nproc > 1:
        cmd += ["--nproc", str(nproc)]
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    if proc.returncode != 0:
        raise SystemExit(f"keyboard-train failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    manifest = json.loads((out / "manifest.json").read_text())
    training = manifest["training"]
    return {"processes": nproc, "tokens_per_s": training["tokens_per_s"], "tokens": training["tokens_seen"],
            "train_time_s": training["train_time_s"], "wall_s": round(time.perf_counter() - started, 1),
            "val_ppl": training["history"][-1]["val_ppl"] if training["history"] else None,
            "device": training["device"]}


def scaling_main(args) -> None:
    folder = Path(args.folder) if args.folder else Path(tempfile.mkdtemp(prefix="train-scaling-"))
    corpus = folder / f"corpus-{args.tokens}-{args.words}.txt"
    if not corpus.exists():
        generate_corpus(corpus, tokens=args.tokens, words=args.words, seed=0)
    rows = [train_once(corpus, n, args) for n in (1, 2)]
    one, two = rows
    efficiency = two["tokens_per_s"] / (2 * one["tokens_per_s"])
    for row in rows:
        print(f"{row['processes']} process(es), 1 thread each: {row['tokens_per_s']:8.0f} tokens/s "
              f"({row['tokens']:,} tokens in {row['train_time_s']} s of training, {row['wall_s']} s in all; "
              f"validation perplexity {row['val_ppl']:.1f})", flush=True)
    print(f"speed-up {two['tokens_per_s'] / one['tokens_per_s']:.2f}x, scaling efficiency {efficiency:.0%}")
    print(json.dumps({"rows": rows, "efficiency": efficiency}))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--tokens", type=int, required=True)
    g.add_argument("--words", type=int, default=100_000)
    g.add_argument("--out", required=True)
    for name in ("prep", "prep-curve"):
        q = sub.add_parser(name)
        q.add_argument("--tokens", type=int, default=10_000_000)
        q.add_argument("--sizes", default="10000000,50000000")
        q.add_argument("--words", type=int, default=100_000)
        q.add_argument("--prep-memory-mb", type=float, default=2048)
        q.add_argument("--in-memory", action="store_true")
        q.add_argument("--compare", action="store_true", help="prep-curve: the in-memory path too")
        q.add_argument("--folder")
        q.add_argument("--json", action="store_true")
    s = sub.add_parser("scaling")
    s.add_argument("--tokens", type=int, default=1_000_000, help="corpus size")
    s.add_argument("--words", type=int, default=30_000)
    s.add_argument("--max-tokens", type=int, default=60_000, help="tokens trained per run")
    s.add_argument("--vocab-size", type=int, default=20000)
    s.add_argument("--size", type=float, default=1.0, help="model size, times the default's")
    s.add_argument("--device", default="cpu")
    s.add_argument("--folder")
    args = p.parse_args()
    if args.command == "generate":
        generate_corpus(Path(args.out), tokens=args.tokens, words=args.words)
    elif args.command == "prep":
        result = prep_main(args)
        if args.json:
            print(json.dumps(result))
        else:
            print(f"{result['tokens']:,} tokens: peak {result['peak_bytes'] / 2**20:.0f} MiB ({_stages(result)}) "
                  f"in {result['seconds']} s; {result['phrase_entries']:,} phrase entries, phrases.npz "
                  f"{result['phrases_npz_bytes'] / 2**20:.0f} MiB; spills {result['spills']}")
    elif args.command == "prep-curve":
        prep_curve(args)
    else:
        scaling_main(args)


if __name__ == "__main__":
    main()
