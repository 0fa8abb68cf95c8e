"""Keystroke savings of our predictor beside Presage's, on the same held-out text.

Presage (https://presage.sourceforge.io) is the yardstick EVALUATION.md takes
its KSR definition from. This script installs nothing: it needs Debian's
package (``apt-get install presage``: ``text2ngram``, ``presage_simulator``
and ``libpresage.so.1``) and our own engine from the project's venv::

    .venv/bin/python benchmarks/compare_presage.py \\
        [--bundle assets/models/default] [--train-corpus corpus/train] \\
        [--heldout corpus/heldout/a.txt ...] [--k 3] [--max-words 2000] \\
        [--work /tmp/presage-work] [--json out.json]

Time, measured on the 2-core development machine with the default corpus
(5.4M training words; 6.6M since the chat, stop 31): building Presage's database takes 3-11 minutes the
first time (text2ngram inserts into sqlite row by row; it is then reused);
Presage then needs about 25 ms a prediction, some 70 ms a word, so the ten
held-out texts at the default 2000 words take about a quarter of an hour.

What it does:

1. Trains Presage's n-gram database (n = 1..3, sqlite) with Presage's own
   ``text2ngram`` on the same training corpus as our model (every ``*.txt``
   under ``--train-corpus``), into ``--work``. The database is reused while
   the corpus is unchanged (a stamp file beside it); otherwise it is deleted
   first, because text2ngram cannot rebuild an existing database.
2. Scores each held-out text with our engine's ``evaluate()`` (EVALUATION.md)
   and with ``presage_simulator -i -q`` on the same words, at the same k.
   The simulator's results are kept in ``--work`` (simulator-results.json,
   keyed by a hash of the database stamp, the configuration, the words and
   presage's version) and reused while all of those are unchanged, so a
   second model is compared in minutes; ``--rerun-presage`` runs it anyway.
3. Prints one row per held-out text and a total: words, ``kn`` (keystrokes
   without prediction) and KSR for both sides, then the per-prediction latency
   of both: median and p99 over the same keystroke sequence, ours through
   ``Predictor.suggest``, Presage's through its C library (ctypes). The JSON
   also has the simulator's wall time per prediction.

How presage_simulator counts (read from its source, presage 0.9.1,
src/lib/simulator/simulator.cpp and src/tools/presageSimulator.cpp):

* It splits the file into words with Presage's ForwardTokenizer: blanks and
  the ASCII punctuation ``!"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~`` separate words
  and are not typed or counted. The apostrophe is a separator ("don't" is the
  two words "don" and "t"), digits are word characters, and bytes >= 128
  (UTF-8 letters, curly quotes, dashes) are word characters. ``-i``
  lowercases the words; without it every capitalised word misses.
* Per word: predict with the empty prefix; a hit costs 1 keystroke. Else type
  one letter at a time, predicting after each; a hit after j letters costs
  j + 1 (the letters and the selection). If the word never shows, it costs
  len + 1 (letters and a space). ``kn`` adds len + 1 per word. That is
  EVALUATION.md's definition (the simulator also checks after the last
  letter, which changes no cost). Checked: replaying this through libpresage
  gave the simulator's ki, ks and kn exactly, once the two quirks below were
  allowed for.
* The context Presage sees is the words typed so far joined by single spaces:
  it never sees punctuation or line breaks.
* Differences from EVALUATION.md, and what this script does about them:
  - ``ks`` starts at 1, so every run is charged one keystroke too many. The
    table uses (ki + ks - 1) / kn; the raw figures are in the JSON.
  - A file ending in a blank (a final newline) gives one more, empty, word:
    kn + 1 and one keystroke more. The files given to it end without one.
  - Lengths are in bytes, not characters, so a non-ASCII letter costs two or
    more keystrokes, and the tokenization differs from ours (apostrophes,
    numbers, curly quotes glued to words). So Presage is not given the raw
    text: both its training corpus and the held-out text are rewritten into
    exactly the words our KSR scores (our tokenizer's words: no numbers,
    URLs or e-mail addresses, which our side does not score either),
    lowercased, accents folded to ASCII where Unicode can (café -> cafe),
    separated by spaces, one line per input line. Then both sides score the
    same words and the same ``kn``; an apostrophe inside a word is a
    keystroke for us and a space for Presage, so "don't" costs 6 on both
    sides. The table prints ``kn`` for both so a reader sees they match (a
    letter with no ASCII form, such as "ß", still counts double for Presage).
  - Our side is given the real held-out text, punctuation included, as
    EVALUATION.md says (our model is entitled to it); Presage drops
    punctuation by design. ``--ours-words-only`` gives our side the same
    words-only text as Presage instead.

Presage's settings (benchmarks/presage/presage.xml, filled in per run): HOME
points at an empty folder so no ~/.presage profile or user database is read,
online learning is off and LEARN is false for every predictor, so it never
learns from the text it is tested on; SUGGESTIONS is k; REPEAT_SUGGESTIONS is
yes, matching EVALUATION.md's default (a suggestion passed over may be shown
again). Predictors: ``--presage-predictors`` (default: the smoothed trigram on
the database plus Presage's stock recency predictor, which only looks at the
last 20 words typed and stores nothing).

Exit status: 0, 1 on an error, 2 if Presage is not installed.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import functools
import hashlib
import json
import logging
import os
import platform
import shutil
import statistics
import string
import subprocess
import sys
import tempfile
import time
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable

log = logging.getLogger("compare_presage")

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = Path(__file__).resolve().parent / "presage" / "presage.xml"
TOOLS = ("text2ngram", "presage_simulator")
INSTALL_HINT = (
    "Presage is not installed (need text2ngram, presage_simulator and "
    "libpresage.so.1): run `sudo apt-get install presage` and try again."
)
DEFAULT_PREDICTORS = "DefaultSmoothedNgramPredictor DefaultRecencyPredictor"
#: Bump when the text given to Presage changes, so old databases are rebuilt.
NORMALISATION_VERSION = 1


# --------------------------------------------------------------------------
# The words both sides score


def scored_words(tokenizer, text: str) -> list:
    """The word tokens our KSR scores, in order: evaluate()'s own choice."""
    from keyboard_app.engine.evaluate import typed_words

    return typed_words(tokenizer.iter_tokens(text))


def presage_form(surface: str) -> str:
    """A word as Presage is given it: lowercase, accents folded to ASCII where possible."""
    decomposed = unicodedata.normalize("NFKD", surface.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def presage_line(tokenizer, line: str) -> str:
    return " ".join(presage_form(t.surface) for t in scored_words(tokenizer, line))


def keystrokes(words: Iterable[str]) -> int:
    """kn: a word's letters and a space, summed."""
    return sum(len(w) + 1 for w in words)


@dataclass
class HeldoutText:
    """One held-out file, cut to --max-words scored words."""

    name: str
    text: str  # what our side is given
    words: list[str]  # surfaces of the scored words, as our side counts them
    presage_text: str  # the same words as Presage is given them
    words_text: str  # the same words as written, for --ours-words-only

    @classmethod
    def load(cls, path: Path, tokenizer, max_words: int | None) -> "HeldoutText":
        text = path.read_text(encoding="utf-8", errors="replace")
        tokens = scored_words(tokenizer, text)
        if max_words is not None and len(tokens) > max_words:
            tokens = tokens[:max_words]
            text = text[: tokens[-1].end]
        # Keep the line structure for readability (Presage treats \n as a blank),
        # but no blank at the very end: the simulator would score an empty word.
        lines = [[t.surface for t in scored_words(tokenizer, line)] for line in text.split("\n")]
        presage_text = "\n".join(" ".join(map(presage_form, line)) for line in lines).strip()
        words_text = "\n".join(" ".join(line) for line in lines).strip()
        return cls(path.stem, text, [t.surface for t in tokens], presage_text, words_text)


# --------------------------------------------------------------------------
# Presage: database, configuration, simulator, latency


def check_presage() -> None:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing or _find_libpresage() is None:
        print(INSTALL_HINT, file=sys.stderr)
        raise SystemExit(2)


def _find_libpresage() -> str | None:
    name = ctypes.util.find_library("presage")
    if name:
        return name
    for candidate in ("/usr/lib/x86_64-linux-gnu/libpresage.so.1", "/usr/lib/libpresage.so.1"):
        if Path(candidate).exists():
            return candidate
    return None


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise RuntimeError(f"{Path(cmd[0]).name} failed ({result.returncode}): {' | '.join(tail)}")
    return result


def _corpus_stamp(files: list[Path]) -> str:
    digest = hashlib.sha256(f"normalisation {NORMALISATION_VERSION}\n".encode())
    for f in files:
        st = f.stat()
        digest.update(f"{f.resolve()}\t{st.st_size}\t{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def build_database(train_files: list[Path], tokenizer, work: Path, rebuild: bool) -> Path:
    """Presage's n-gram database (n = 1..3) from the training corpus, via text2ngram."""
    database = work / "presage-ngram.db"
    stamp_file = work / "presage-ngram.db.stamp"
    stamp = _corpus_stamp(train_files)
    if not rebuild and database.exists() and stamp_file.exists():
        if stamp_file.read_text().strip() == stamp:
            log.info("reusing %s (corpus unchanged)", database)
            return database
    t0 = time.perf_counter()
    words_dir = work / "train-words"
    shutil.rmtree(words_dir, ignore_errors=True)
    words_dir.mkdir(parents=True)
    inputs = []
    for i, src in enumerate(train_files):
        dest = words_dir / f"{i:03d}-{src.name}"
        with src.open(encoding="utf-8", errors="replace") as fin, dest.open("w") as fout:
            for line in fin:
                fout.write(presage_line(tokenizer, line) + "\n")
        inputs.append(str(dest))
    # text2ngram aborts on an existing database ("UNIQUE constraint failed").
    database.unlink(missing_ok=True)
    stamp_file.unlink(missing_ok=True)
    for n in (1, 2, 3):
        _run(["text2ngram", "-n", str(n), "-l", "-f", "sqlite", "-o", str(database), *inputs])
    stamp_file.write_text(stamp + "\n")
    shutil.rmtree(words_dir, ignore_errors=True)
    log.info("built %s in %.1f s", database, time.perf_counter() - t0)
    return database


def write_config(work: Path, database: Path, k: int, predictors: str, repeat: bool) -> Path:
    config = work / f"presage-k{k}.xml"
    config.write_text(
        string.Template(TEMPLATE.read_text()).substitute(
            predictors=predictors,
            database=str(database),
            user_database=str(work / "home" / "unused-user.db"),
            k=k,
            repeat="yes" if repeat else "no",
        )
    )
    return config


def presage_env(work: Path) -> dict[str, str]:
    """An environment whose HOME is an empty folder: no ~/.presage profile is read."""
    home = work / "home"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    return {**os.environ, "HOME": str(home), "LC_ALL": "C"}


@dataclass
class SimulatorResult:
    ki: int
    ks: int
    kn: int
    ksr_raw: float  # as the simulator prints it, with ks starting at 1
    wall_s: float

    @property
    def cost(self) -> int:
        return self.ki + self.ks - 1  # the simulator's ks starts at 1, not 0

    @property
    def ksr(self) -> float:
        return 100.0 * (1.0 - self.cost / self.kn) if self.kn else 0.0

    @property
    def predictions(self) -> int:
        # One predict() per keystroke charged: a hit at j letters is j + 1 calls
        # for j + 1 keystrokes; a miss is len + 1 calls for len + 1 keystrokes.
        return self.cost


@functools.lru_cache(maxsize=1)
def _presage_version() -> str:
    """The installed presage package's version ("" where dpkg cannot say)."""
    try:
        done = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "presage"],
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def start_simulator(config: Path, words_file: Path, env: dict) -> subprocess.Popen:
    cmd = ["presage_simulator", "-q", "-i", "-c", str(config), str(words_file)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    proc.started = time.perf_counter()  # type: ignore[attr-defined]
    return proc


def finish_simulator(proc: subprocess.Popen) -> SimulatorResult:
    out, err = proc.communicate()
    wall = time.perf_counter() - proc.started  # type: ignore[attr-defined]
    values = {}
    for line in out.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in ("ki", "ks", "kn", "KSR"):
            values[key.strip()] = value.strip()
    if proc.returncode != 0 or len(values) < 4:
        tail = " | ".join((err or out).strip().splitlines()[-3:])
        raise RuntimeError(f"presage_simulator failed ({proc.returncode}): {tail}")
    return SimulatorResult(
        int(values["ki"]), int(values["ks"]), int(values["kn"]), float(values["KSR"]), wall
    )


class SimulatorPool:
    """presage_simulator runs in the background, at most ``slots`` at a time.

    With a ``cache`` file, a result is kept under a hash of everything it
    depends on (the database's stamp, the configuration, the words file, the
    simulator's version) and reused by a later run: Presage's side does not
    change when only our model does, and it is most of this script's time.
    """

    def __init__(self, config: Path, env: dict, cache: Path | None = None) -> None:
        self.config, self.env = config, env
        self.pending: list[tuple[str, Path]] = []
        self.running: list[tuple[str, subprocess.Popen]] = []
        self.results: dict[str, SimulatorResult] = {}
        self.cache = cache
        self.cached: dict[str, dict] = {}
        self._keys: dict[str, str] = {}
        if cache is not None and cache.is_file():
            try:
                self.cached = json.loads(cache.read_text())
            except (OSError, ValueError):
                self.cached = {}

    def _key(self, words_file: Path) -> str:
        digest = hashlib.sha256()
        stamp = self.config.parent / "presage-ngram.db.stamp"
        for part in (stamp.read_bytes() if stamp.is_file() else b"", self.config.read_bytes(),
                     words_file.read_bytes(), _presage_version().encode()):
            digest.update(hashlib.sha256(part).digest())
        return digest.hexdigest()

    def add(self, name: str, words_file: Path) -> None:
        key = self._key(words_file)
        self._keys[name] = key
        if key in self.cached:
            self.results[name] = SimulatorResult(**self.cached[key])
            log.info("presage  %-20s KSR %.2f (reused from %s)", name, self.results[name].ksr, self.cache)
            return
        self.pending.append((name, words_file))

    def poll(self, slots: int) -> None:
        for name, proc in [r for r in self.running if r[1].poll() is not None]:
            self.running.remove((name, proc))
            self.results[name] = finish_simulator(proc)
            log.info("presage  %-20s KSR %.2f", name, self.results[name].ksr)
            if self.cache is not None:
                self.cached[self._keys[name]] = asdict(self.results[name])
                tmp = self.cache.with_suffix(".tmp")
                tmp.write_text(json.dumps(self.cached, indent=1))
                os.replace(tmp, self.cache)
        while self.pending and len(self.running) < slots:
            name, words_file = self.pending.pop(0)
            self.running.append((name, start_simulator(self.config, words_file, self.env)))

    def wait(self, slots: int) -> dict[str, SimulatorResult]:
        while self.pending or self.running:
            self.poll(slots)
            time.sleep(0.1)
        return self.results


def keystroke_contexts(words: list[str], limit: int) -> Iterable[tuple[int, int]]:
    """(word index, letters typed) for each keystroke of the first ``limit`` words."""
    for i, word in enumerate(words[:limit]):
        for j in range(len(word)):
            yield i, j


def presage_latency(config: Path, env: dict, words: list[str], limit: int) -> list[float]:
    """Seconds per predict() through libpresage (k from the config), in a child process."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"config": str(config), "words": words[:limit]}, f)
        job = f.name
    try:
        result = _run([sys.executable, str(Path(__file__).resolve()), "--_latency-worker", job], env=env)
        return json.loads(result.stdout)["seconds"]
    finally:
        os.unlink(job)


def _latency_worker(job_file: str) -> None:
    """Child process: time presage_predict() over a keystroke sequence, print JSON."""
    job = json.loads(Path(job_file).read_text(encoding="utf-8"))
    lib = ctypes.CDLL(_find_libpresage())
    callback = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p)
    lib.presage_new_with_config.argtypes = [
        callback, ctypes.c_void_p, callback, ctypes.c_void_p, ctypes.c_char_p,
        ctypes.POINTER(ctypes.c_void_p),
    ]
    lib.presage_predict.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.POINTER(ctypes.c_char_p))]
    lib.presage_free_string_array.argtypes = [ctypes.POINTER(ctypes.c_char_p)]
    lib.presage_free.argtypes = [ctypes.c_void_p]

    past = [ctypes.create_string_buffer(b"")]  # kept alive while Presage reads it
    future = ctypes.create_string_buffer(b"")
    past_cb = callback(lambda _arg: ctypes.addressof(past[0]))
    future_cb = callback(lambda _arg: ctypes.addressof(future))
    prsg = ctypes.c_void_p()
    rc = lib.presage_new_with_config(past_cb, None, future_cb, None, job["config"].encode(), ctypes.byref(prsg))
    if rc != 0:
        raise SystemExit(f"presage_new_with_config failed ({rc})")
    words = [w.encode("utf-8") for w in job["words"]]
    seconds = []
    for i, j in keystroke_contexts(words, len(words)):
        history = b" ".join(words[max(0, i - 40) : i])
        past[0] = ctypes.create_string_buffer(history + (b" " if history else b"") + words[i][:j])
        result = ctypes.POINTER(ctypes.c_char_p)()
        t0 = time.perf_counter()
        lib.presage_predict(prsg, ctypes.byref(result))
        seconds.append(time.perf_counter() - t0)
        lib.presage_free_string_array(result)
    lib.presage_free(prsg)
    print(json.dumps({"seconds": seconds}))


# --------------------------------------------------------------------------
# Our side


def our_latency(predictor, text: HeldoutText, tokenizer, limit: int, k: int) -> list[float]:
    """Seconds per suggest() while typing the first ``limit`` words, keystroke by keystroke."""
    tokens = scored_words(tokenizer, text.text)
    predictor.reset()
    seconds = []
    for i, j in keystroke_contexts([t.surface for t in tokens], limit):
        before = text.text[: tokens[i].start] + tokens[i].surface[:j]
        t0 = time.perf_counter()
        predictor.suggest(before, k)
        seconds.append(time.perf_counter() - t0)
    return seconds


def our_ksr(predictor, texts: list[str], k: int, max_words: int | None) -> tuple[float, object]:
    from keyboard_app.engine.evaluate import evaluate

    report = evaluate(predictor, texts, ks=(k,), max_words=max_words)
    ksr = report.ksr[k]
    return float(ksr), report


# --------------------------------------------------------------------------
# Report


@dataclass
class Row:
    text: str
    words: int
    kn_ours: int
    ksr_ours: float
    kn_presage: int
    ksr_presage: float
    presage: dict = field(default_factory=dict)  # raw simulator figures


def latency_summary(seconds: list[float]) -> dict:
    if not seconds:
        return {"n": 0}
    ms = sorted(s * 1000 for s in seconds)
    p99 = ms[min(len(ms) - 1, int(round(0.99 * (len(ms) - 1))))]
    return {"n": len(ms), "median_ms": statistics.median(ms), "p99_ms": p99, "mean_ms": statistics.fmean(ms)}


def format_table(rows: list[Row], total: Row, k: int) -> str:
    name_w = max(12, *(len(r.text) for r in rows + [total]))
    head = (
        f"{'held-out text':<{name_w}} {'words':>7} {'kn ours':>8} {'KSR ours':>9} "
        f"{'kn Presage':>10} {'KSR Presage':>11}"
    )
    lines = [f"KSR at k = {k} (percent of keystrokes saved; higher is better)", head, "-" * len(head)]
    for r in rows + [total]:
        if r is total:
            lines.append("-" * len(head))
        lines.append(
            f"{r.text:<{name_w}} {r.words:>7} {r.kn_ours:>8} {r.ksr_ours:>9.2f} "
            f"{r.kn_presage:>10} {r.ksr_presage:>11.2f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--_latency-worker"]:
        _latency_worker(argv[1])
        return 0

    parser = argparse.ArgumentParser(
        description="Compare our predictor's keystroke savings with Presage's "
        "(needs Debian's presage: apt-get install presage).",
        epilog="Presage is trained with its own text2ngram (n = 1..3) on the same corpus; "
        "see this script's docstring for how both sides are counted.",
    )
    add = parser.add_argument
    add("--bundle", type=Path, default=REPO / "assets/models/default",
        help="our model bundle, a folder or .zip (default assets/models/default)")
    add("--train-corpus", type=Path, default=REPO / "corpus/train",
        help="the training corpus: a folder of *.txt or one file (default corpus/train)")
    add("--heldout", type=Path, nargs="+", help="held-out texts (default corpus/heldout/*.txt)")
    add("--k", type=int, default=3, help="suggestions shown (default 3)")
    add("--max-words", type=int, default=2000,
        help="scored words per held-out text, 0 for all (default 2000: Presage "
        "takes about 25 ms a prediction with a large database)")
    add("--work", type=Path, default=Path(tempfile.gettempdir()) / "presage-work",
        help="Presage's database and configuration go here (default /tmp/presage-work)")
    add("--rebuild", action="store_true", help="rebuild Presage's database even if the corpus is unchanged")
    add("--rerun-presage", action="store_true",
        help="run presage_simulator even where --work holds its result for the same database, "
        "settings and words")
    add("--presage-predictors", default=DEFAULT_PREDICTORS, help=f"default {DEFAULT_PREDICTORS!r}")
    add("--presage-no-repeat", action="store_true",
        help="Presage's stock selector: never show again a suggestion passed over for the current word")
    add("--ours-words-only", action="store_true",
        help="give our side the same words-only text as Presage (no punctuation)")
    add("--latency-words", type=int, default=200,
        help="time both while typing this many words of the first text (default 200; 0 skips)")
    add("--threads", type=int, default=1, help="onnxruntime threads for our predictor (default 1)")
    add("--jobs", type=int, default=2, help="presage_simulator runs at a time once our side is done (default 2)")
    add("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    check_presage()
    try:
        return compare(args)
    except RuntimeError as e:  # a Presage tool failed; the message says which
        print(e, file=sys.stderr)
        return 1


def compare(args: argparse.Namespace) -> int:
    """Everything after the command line: train Presage, score both, print."""
    from keyboard_app.engine.bundle import ModelLoadError
    from keyboard_app.engine.predictor import Predictor

    train_files = sorted(args.train_corpus.glob("*.txt")) if args.train_corpus.is_dir() else [args.train_corpus]
    train_files = [f for f in train_files if f.is_file()]
    if not train_files:
        print(f"No training text found at {args.train_corpus}.", file=sys.stderr)
        return 1
    heldout = args.heldout or sorted((REPO / "corpus/heldout").glob("*.txt"))
    if not heldout:
        print("No held-out texts: pass --heldout or build corpus/heldout/*.txt.", file=sys.stderr)
        return 1
    try:
        predictor = Predictor.load(args.bundle, threads=args.threads)
    except ModelLoadError as e:
        print(e, file=sys.stderr)
        return 1
    tokenizer = predictor.tokenizer
    _check_same_corpus(predictor.bundle.manifest, train_files)

    args.work.mkdir(parents=True, exist_ok=True)
    max_words = args.max_words or None
    texts = [HeldoutText.load(p, tokenizer, max_words) for p in heldout]
    if len({t.name for t in texts}) < len(texts):  # same file name in two folders
        for t, p in zip(texts, heldout):
            t.name = f"{p.parent.name}/{p.stem}"
    for t in [t for t in texts if not t.words]:
        log.warning("warning: %s has no words to score; left out", t.name)
        texts.remove(t)
    if not texts:
        print("The held-out texts have no words to score.", file=sys.stderr)
        return 1
    database = build_database(train_files, tokenizer, args.work, args.rebuild)
    config = write_config(args.work, database, args.k, args.presage_predictors, not args.presage_no_repeat)
    env = presage_env(args.work)

    # presage_simulator runs in child processes while our side runs here: one
    # of them at a time meanwhile, then --jobs at a time.
    pool = SimulatorPool(config, env, None if args.rerun_presage else args.work / "simulator-results.json")
    for i, t in enumerate(texts):
        path = args.work / f"heldout-{i:03d}.words.txt"
        path.write_text(t.presage_text)
        pool.add(t.name, path)
    pool.poll(slots=1)
    rows = []
    for t in texts:
        our_text = t.words_text if args.ours_words_only else t.text
        ksr, report = our_ksr(predictor, [our_text], args.k, max_words)
        log.info("ours     %-20s KSR %.2f", t.name, ksr)
        if report.words != len(t.words):
            log.warning("warning: %s: evaluate() scored %d words, Presage is given %d", t.name, report.words, len(t.words))
        rows.append(Row(t.name, report.words, report.keystrokes, ksr, 0, 0.0))
        pool.poll(slots=1)
    sim_results = pool.wait(slots=max(1, args.jobs))
    for row in rows:
        sim = sim_results[row.text]
        row.kn_presage, row.ksr_presage = sim.kn, sim.ksr
        row.presage = {**asdict(sim), "predictions": sim.predictions, "ksr_corrected": sim.ksr}

    cost_ours = sum(r.kn_ours * (1 - r.ksr_ours / 100) for r in rows)
    cost_presage = sum(sim_results[r.text].cost for r in rows)
    kn_ours = sum(r.kn_ours for r in rows)
    kn_presage = sum(r.kn_presage for r in rows)
    total = Row(
        "total", sum(r.words for r in rows), kn_ours, 100 * (1 - cost_ours / kn_ours) if kn_ours else 0.0,
        kn_presage, 100 * (1 - cost_presage / kn_presage) if kn_presage else 0.0,
    )

    latency = {}
    if args.latency_words > 0:
        latency["ours"] = latency_summary(our_latency(predictor, texts[0], tokenizer, args.latency_words, args.k))
        presage_words = texts[0].presage_text.split()
        latency["presage"] = latency_summary(presage_latency(config, env, presage_words, args.latency_words))
    sim_wall = sum(s.wall_s for s in sim_results.values())
    sim_predictions = sum(s.predictions for s in sim_results.values())
    latency["presage_simulator_mean_ms"] = 1000 * sim_wall / max(1, sim_predictions)

    print(_describe(args, predictor, train_files, database))
    print()
    print(format_table(rows, total, args.k))
    print()
    print(_format_latency(latency, args.latency_words, texts[0].name))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {
                    "k": args.k,
                    "max_words": max_words,
                    "bundle": str(args.bundle),
                    "model": predictor.bundle.manifest.get("name"),
                    "train_corpus": [str(f) for f in train_files],
                    "presage": {
                        "database": str(database),
                        "predictors": args.presage_predictors,
                        "repeat_suggestions": not args.presage_no_repeat,
                        "config": str(config),
                    },
                    "ours_words_only": args.ours_words_only,
                    "rows": [asdict(r) for r in rows],
                    "total": asdict(total),
                    "latency": latency,
                    "machine": platform.platform(),
                },
                indent=2,
            )
            + "\n"
        )
    return 0


def _describe(args, predictor, train_files, database) -> str:
    repeat = "no" if args.presage_no_repeat else "yes"
    return (
        f"Ours:    {predictor.bundle.manifest.get('name', args.bundle)} ({args.bundle})"
        f"{', given the words-only text' if args.ours_words_only else ''}\n"
        f"Presage: {args.presage_predictors}; trigram database {database}, built by "
        f"text2ngram from the {len(train_files)} file(s) of {args.train_corpus}; "
        f"learning off, repeat suggestions {repeat}\n"
        f"Scoring: k = {args.k}, words only, case ignored, "
        f"at most {args.max_words or 'all'} words per text"
    )


def _format_latency(latency: dict, limit: int, name: str) -> str:
    if limit > 0:
        lines = [f"Latency per prediction (typing the first {limit} words of {name}, one call per keystroke):"]
    else:
        lines = ["Latency per prediction:"]
    for side, label in (("ours", "ours (suggest)"), ("presage", "Presage (predict)")):
        s = latency.get(side)
        if s and s.get("n"):
            lines.append(f"  {label:<18} median {s['median_ms']:7.2f} ms   p99 {s['p99_ms']:7.2f} ms   ({s['n']} calls)")
    if len(lines) == 1:  # not timed call by call: the simulator's average is all there is
        lines.append(
            f"  presage_simulator  mean   {latency['presage_simulator_mean_ms']:7.2f} ms   "
            "(wall time / predictions, start-up and other work on the machine included)"
        )
    return "\n".join(lines)


def _check_same_corpus(manifest: dict, train_files: list[Path]) -> None:
    """Warn when the bundle's manifest names other training files than ours."""
    recorded = {Path(f.get("path", "")).name for f in manifest.get("corpus", {}).get("files", []) if isinstance(f, dict)}
    given = {f.name for f in train_files}
    if recorded and recorded != given:
        log.warning(
            "warning: the bundle was trained on %s, Presage will be trained on %s",
            ", ".join(sorted(recorded)), ", ".join(sorted(given)),
        )


if __name__ == "__main__":
    sys.exit(main())
