"""What an adapted model takes on disk, where it comes from, and what storing it smaller costs.

    nice -n 5 .venv/bin/python benchmarks/adapted_bundle_size.py [ADAPTED_BUNDLE] [--source BUNDLE] [--runs 7]

H33's finding 4: a retrained model took ~52 MB, against the built-in model's 18 MB,
while the retrain dialog called it compact.  Three parts:

1. **The parts**: each file of the adapted bundle and of its source (the built-in model),
   and their phrase tables' arrays.
2. **Whose phrases**: the adapted tables' entries (context, follower) that the source's
   tables hold too (compared by the words, since adapting grows the vocabulary and so
   re-numbers the ids), how many of those kept the source's count, and how many are the
   user's corpus's alone.
3. **Compressing it**: the time ``phrases.compress_file`` adds to a retrain
   (``keyboard-train --compress-phrases``) and its file, at its level and at zlib's default.
4. **Loading it**: the app's load of a model (``load_bundle`` with its phrase-table cache
   and remembered checksums, then the ``Predictor`` and a first suggestion, as a model
   switch does) of the adapted bundle as keyboard-train writes it today (tables stored:
   the same-process baseline), of a copy with its tables compressed when the stored copy
   is in the cache (what every later load of such a bundle is), and of that copy with no
   stored copy yet (the first load; it inflates the tables and writes the copy on a
   thread).  Interleaved, ``--runs`` times each; medians and ratios against the baseline.
   Then a word boundary and a keystroke inside a word in each engine (the tables are
   read through the same memory-mapped form, so they must be the same).
5. **Adopting it**: what Use New Model (or keeping the model) costs after a retrain,
   ``ModelStore.adopt``, stored against compressed with the copy the comparison made.

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from keyboard_app.checksum_memo import ChecksumMemo  # noqa: E402
from keyboard_app.engine.bundle import load_bundle, sha256_file  # noqa: E402
from keyboard_app.engine.phrases import compress_file  # noqa: E402
from keyboard_app.engine.predictor import Predictor  # noqa: E402
from keyboard_app.engine.vocab import Vocabulary  # noqa: E402

DEFAULT_ADAPTED = ROOT / "build/adaptation/bundles/handbook-20000-app-022f86832c3663bc/bundle"
DEFAULT_SOURCE = ROOT / "assets/models/default"
TEXT = "The default value of the option is set in the configuration file, and the "


def mb(n: float) -> str:
    return f"{n / 1e6:6.1f} MB"


def parts(bundle: Path) -> None:
    total = sum(p.stat().st_size for p in bundle.iterdir() if p.is_file())
    print(f"{bundle}: {mb(total)}")
    for p in sorted(bundle.iterdir()):
        if p.is_file():
            print(f"  {p.name:<18} {mb(p.stat().st_size)}")
    npz = bundle / "phrases.npz"
    if npz.is_file():
        with np.load(npz, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files if z[k].size > 1}
        print("  phrases.npz's arrays: " + ", ".join(f"{k} {a.dtype} {a.nbytes / 1e6:.1f}" for k, a in arrays.items()))


def words_of(bundle: Path) -> list[str]:
    """Every id's word: the vocabulary's, then the lexicon's."""
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    vocab = Vocabulary.load(bundle / manifest["vocab"]["file"])
    words = list(vocab.tokens)
    lexicon = manifest.get("lexicon")
    if lexicon:
        words += json.loads((bundle / lexicon["file"]).read_text(encoding="utf-8"))["words"]
    return words


def entry_keys(z, order: int, space: int, remap: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Each entry as one int64 (context ids then follower id, digits in base ``space``),
    ids first mapped through ``remap``; and its count."""
    contexts = z[f"context_{order}"].astype(np.int64)
    old_space = int(z["vocab_size"]) + int(z["lexicon_size"])
    digits = []
    for _ in range(order - 1):
        digits.append(contexts % old_space)
        contexts = contexts // old_space
    digits.reverse()
    followers = z[f"followers_{order}"].astype(np.int64)
    next_ids = z[f"next_{order}"].astype(np.int64)
    key = np.zeros(len(next_ids), np.int64)
    for d in digits:
        d = remap[d] if remap is not None else d
        key = key * space + np.repeat(d, followers)
    key = key * space + (remap[next_ids] if remap is not None else next_ids)
    return key, z[f"count_{order}"].astype(np.int64)


def whose(adapted: Path, source: Path) -> None:
    new_words, old_words = words_of(adapted), words_of(source)
    index = {w: i for i, w in enumerate(new_words)}
    missing = [w for w in old_words if w not in index]
    remap = np.array([index.get(w, -1) for w in old_words], np.int64)
    space = len(new_words)
    print(f"ids: source {len(old_words):,}, adapted {len(new_words):,} ({len(missing):,} of the source's "
          "words not in the adapted model's vocabulary or lexicon)")
    with np.load(adapted / "phrases.npz", allow_pickle=False) as za, np.load(source / "phrases.npz",
                                                                              allow_pickle=False) as zs:
        for order in (2, 3):
            new_keys, new_counts = entry_keys(za, order, space)
            old_keys, old_counts = entry_keys(zs, order, space, remap)
            shared = np.isin(new_keys, old_keys)
            order_old = np.argsort(old_keys)
            at = order_old[np.searchsorted(old_keys[order_old], new_keys[shared])]
            same = int(np.sum(new_counts[shared] == old_counts[at]))
            print(f"order {order}: adapted {len(new_keys):,} entries, source {len(old_keys):,}; "
                  f"{int(shared.sum()):,} ({shared.mean():.1%}) are the source's ({same:,} with the source's count), "
                  f"{int((~shared).sum()):,} the user's corpus's alone; "
                  f"source entries not kept: {len(old_keys) - int(shared.sum()):,}")


def compression(adapted: Path) -> None:
    """``phrases.compress_file`` (zlib level ``COMPRESS_LEVEL``) against the default level
    (``np.savez_compressed``'s): the time it adds to a retrain and the file it gives."""
    import zipfile
    import zlib

    from keyboard_app.engine import phrases as phrases_module

    with tempfile.TemporaryDirectory(prefix="adapted-compress-") as tmp:
        path = Path(tmp) / "phrases.npz"
        print(f"\ncompressing the stored phrases.npz ({mb((adapted / 'phrases.npz').stat().st_size)}):")
        for level in (phrases_module.COMPRESS_LEVEL, zlib.Z_DEFAULT_COMPRESSION):
            shutil.copy(adapted / "phrases.npz", path)
            original = phrases_module.COMPRESS_LEVEL
            phrases_module.COMPRESS_LEVEL = level
            try:
                began = time.perf_counter()
                phrases_module.compress_file(path)
                seconds = time.perf_counter() - began
            finally:
                phrases_module.COMPRESS_LEVEL = original
            with zipfile.ZipFile(path) as archive:
                assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in archive.infolist())
            name = "default level" if level == zlib.Z_DEFAULT_COMPRESSION else f"level {level}"
            print(f"  {name:<14} {seconds:6.2f} s  {mb(path.stat().st_size)}")


def load_once(bundle: Path, cache: Path, memo_file: Path) -> tuple[float, Predictor]:
    began = time.perf_counter()
    memo = ChecksumMemo(memo_file)
    loaded = load_bundle(bundle, phrase_cache=cache, checksums=memo)
    memo.save()
    predictor = Predictor(loaded, threads=1)
    predictor.suggest(TEXT, 3)
    return time.perf_counter() - began, predictor


def keystrokes(engines: dict[str, Predictor], runs: int) -> dict[str, tuple[float, float]]:
    """Median seconds of a word boundary (a new text each time: no cached state) and of a
    keystroke inside a word after it, in each engine, the engines taking turns."""
    times = {name: ([], []) for name in engines}
    for i in range(runs * 20):
        text = f"{TEXT}{i} and the "
        for name, predictor in engines.items():
            t0 = time.perf_counter()
            predictor.suggest(text, 3)
            t1 = time.perf_counter()
            predictor.suggest(text + "co", 3)
            t2 = time.perf_counter()
            times[name][0].append(t1 - t0)
            times[name][1].append(t2 - t1)
    return {name: (statistics.median(b), statistics.median(k)) for name, (b, k) in times.items()}


def compressed_copy(bundle: Path, dest: Path) -> Path:
    """``bundle`` with its phrase tables compressed as ``keyboard-train --compress-phrases``
    writes them (``phrases.compress_file``), the manifest's checksum made to match."""
    shutil.copytree(bundle, dest)
    compress_file(dest / "phrases.npz")
    manifest = json.loads((dest / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"]["phrases.npz"] = sha256_file(dest / "phrases.npz")
    (dest / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return dest


def loading(adapted: Path, runs: int) -> None:
    with tempfile.TemporaryDirectory(prefix="adapted-size-") as tmp:
        tmp = Path(tmp)
        compressed = compressed_copy(adapted, tmp / "compressed")
        print(f"compressed copy: {mb(sum(p.stat().st_size for p in compressed.iterdir()))} "
              f"(phrases.npz {mb((compressed / 'phrases.npz').stat().st_size)})")
        kinds = {"stored (today)": (adapted, tmp / "cache-stored", False),
                 "compressed, copy in the cache": (compressed, tmp / "cache-warm", False),
                 "compressed, no copy yet": (compressed, tmp / "cache-cold", True)}
        times: dict[str, list[float]] = {k: [] for k in kinds}
        engines: dict[str, Predictor] = {}
        # a first load of each, not timed: the copy written, the checksums remembered
        for name, (bundle, cache, _) in kinds.items():
            _, predictor = load_once(bundle, cache, tmp / f"{cache.name}.json")
            if predictor.bundle.phrases is not None and predictor.bundle.phrases.copying is not None:
                predictor.bundle.phrases.copying.join()
            predictor.bundle.close()
        for _ in range(runs):
            for name, (bundle, cache, cold) in kinds.items():
                if cold:
                    shutil.rmtree(cache, ignore_errors=True)
                seconds, predictor = load_once(bundle, cache, tmp / f"{cache.name}.json")
                times[name].append(seconds)
                copying = predictor.bundle.phrases.copying if predictor.bundle.phrases is not None else None
                if copying is not None:
                    copying.join()  # not timed: on a thread, after the load
                if name in engines:
                    predictor.bundle.close()
                else:
                    engines[name] = predictor
        base = statistics.median(times["stored (today)"])
        print(f"\nload of the model as a switch does it, median of {runs} (interleaved):")
        for name, values in times.items():
            med = statistics.median(values)
            print(f"  {name:<31} {med * 1000:7.1f} ms  ({min(values) * 1000:.1f}-{max(values) * 1000:.1f})  "
                  f"{med / base:5.2f}x")
        print(f"\nword boundary / keystroke in a word, median of {runs * 20} (engines loaded above, taking turns):")
        figures = keystrokes(engines, runs)
        b0, k0 = figures["stored (today)"]
        for name, (b, k) in figures.items():
            print(f"  {name:<31} boundary {b * 1e3:6.3f} ms ({b / b0:4.2f}x)   in a word {k * 1e3:6.3f} ms "
                  f"({k / k0:4.2f}x)")
        for predictor in engines.values():
            predictor.bundle.close()


def adopting(adapted: Path, runs: int) -> None:
    """``ModelStore.adopt`` (Use New Model, or Keep, after a retrain: the bundle checked where
    it lies, then moved into the models folder), of the bundle with stored tables and of
    the compressed one whose copy the comparison has made; interleaved, the folder copied
    afresh (not timed) before each."""
    from keyboard_app.model_store import ModelStore

    with tempfile.TemporaryDirectory(prefix="adapted-adopt-") as tmp:
        tmp = Path(tmp)
        compressed = compressed_copy(adapted, tmp / "compressed")
        cache = tmp / "cache"
        os.environ["XDG_CACHE_HOME"] = str(cache)  # the store reads paths.phrase_cache_dir()
        from keyboard_app import paths

        load_once(compressed, paths.phrase_cache_dir(), tmp / "memo.json")[1].bundle.close()  # the comparison's
        store = ModelStore(models_dir=tmp / "models", default_path=DEFAULT_SOURCE)
        times: dict[str, list[float]] = {"stored (today)": [], "compressed, copy in the cache": []}
        for i in range(runs):
            for name, source in (("stored (today)", adapted), ("compressed, copy in the cache", compressed)):
                folder = tmp / f"run-{i}-{len(times[name])}-{name[:4]}"
                shutil.copytree(source, folder)
                began = time.perf_counter()
                store.adopt(folder, name=f"{name} {i}")
                times[name].append(time.perf_counter() - began)
        base = statistics.median(times["stored (today)"])
        print(f"\nadopting it (Use New Model), median of {runs} (interleaved):")
        for name, values in times.items():
            med = statistics.median(values)
            print(f"  {name:<31} {med * 1000:7.1f} ms  ({min(values) * 1000:.1f}-{max(values) * 1000:.1f})  "
                  f"{med / base:5.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("adapted", nargs="?", type=Path, default=DEFAULT_ADAPTED)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--skip-load", action="store_true", help="the sizes and the entries only")
    options = parser.parse_args()
    parts(options.adapted)
    parts(options.source)
    print()
    whose(options.adapted, options.source)
    if not options.skip_load:
        compression(options.adapted)
        loading(options.adapted, options.runs)
        adopting(options.adapted, options.runs)


if __name__ == "__main__":
    main()
