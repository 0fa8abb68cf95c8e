#!/usr/bin/env python3
"""One training run on a borrowed GPU machine, data and all, and its results brought back.

GPU time here comes in short loans (minutes, on a machine that starts bare, cannot
reach the network, and hands back only a few files of limited size), so the run is
prepared here, runs there as one command, and is unpacked here:

    # here: the corpus as one compressed file under build/ (ignored by git)
    python3 scripts/gpu_train.py pack corpus/train --to build/gpu-run

    # there (in a copy of this repository, build/gpu-run carried along; the
    # machine's own python3 with torch, onnx, onnxruntime and numpy, no install):
    python3 scripts/gpu_train.py run build/gpu-run --out "$OUT" --minutes 6 -- \\
        --hidden-size 1024 --layers 2 --quantize

    # here: join the parts, check them, and validate the bundle
    python3 scripts/gpu_train.py collect FILES_FOLDER --to runs/gpu1

``run`` trains with ``keyboard-train`` (every option after ``--`` is passed on;
``--device cuda``, the output and work folders and the time budget are set here),
then packs the bundle, a slim checkpoint (the best weights, the model and training
settings and the vocabulary, for ``--init-from`` on any machine; not the optimizer
state, which ``--resume`` would need and which is twice the weights) and the log
into one tar, cut into parts no larger than ``--part-mb``, with their SHA-256 in
``parts.json``. The slim checkpoint is stored in bfloat16 when float32 would not fit
in ``--total-mb``. ``collect`` refuses a missing or damaged part with one sentence.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS_ARCHIVE = "corpus.tar.xz"
RESULT = "result.tar"
PARTS = "parts.json"


class RunError(Exception):
    """One sentence for the person at the terminal."""


def pack(corpus: Path, to: Path) -> Path:
    """The corpus folder's text files as ``to/corpus.tar.xz`` (paths relative to it)."""
    files = sorted(p for p in corpus.rglob("*") if p.is_file())
    if not files:
        raise RunError(f"{corpus}: no files to pack.")
    to.mkdir(parents=True, exist_ok=True)
    archive = to / CORPUS_ARCHIVE
    tmp = archive.with_name(archive.name + ".tmp")
    with tarfile.open(tmp, "w:xz") as tar:
        for path in files:
            tar.add(path, arcname=str(path.relative_to(corpus)))
    os.replace(tmp, archive)
    return archive


def _unpack_corpus(data: Path, into: Path) -> Path:
    archive = data / CORPUS_ARCHIVE
    if not archive.is_file():
        raise RunError(f"{archive}: no packed corpus (run 'pack' here first and carry {data}).")
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into


def slim_checkpoint(src: Path, dst: Path, *, bf16: bool) -> None:
    """``src``'s best weights, settings and vocabulary, without the optimizer state."""
    import torch

    ckpt = torch.load(src, map_location="cpu", weights_only=True)
    weights = ckpt.get("best_model") or ckpt["model"]
    if bf16:
        weights = {k: v.to(torch.bfloat16) if v.is_floating_point() else v for k, v in weights.items()}
    slim = dict(ckpt, model=weights, best_model=None, optimizer={}, anchor=None,
                recurrent_state=[], rank_rng=[])
    torch.save(slim, dst)


def _cut(tar_path: Path, out: Path, part_bytes: int) -> list[dict]:
    parts = []
    with open(tar_path, "rb") as f:
        for i in range(1000):
            chunk = f.read(part_bytes)
            if not chunk:
                break
            name = f"{RESULT}.{i:02d}"
            (out / name).write_bytes(chunk)
            parts.append({"name": name, "bytes": len(chunk), "sha256": hashlib.sha256(chunk).hexdigest()})
    return parts


def run(data: Path, out: Path, minutes: float, train_args: list[str], *, part_mb: float,
        total_mb: float, device: str) -> int:
    out.mkdir(parents=True, exist_ok=True)
    log_path = out / "train.log"
    with tempfile.TemporaryDirectory(prefix="gpu-run-") as tmp_name:
        tmp = Path(tmp_name)
        corpus = _unpack_corpus(data, tmp / "corpus")
        bundle, work = tmp / "bundle", tmp / "work"
        cmd = [sys.executable, "-m", "model_training.cli", str(corpus), "--out", str(bundle),
               "--work-dir", str(work), "--keep-work", "--device", device,
               "--max-minutes", str(minutes), "--quiet", *train_args]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]), PYTHONUNBUFFERED="1")
        started = time.monotonic()
        with open(log_path, "w", encoding="utf-8") as log:
            log.write("$ " + " ".join(cmd) + "\n")
            log.flush()
            proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True, errors="replace")
            for line in proc.stdout:  # the log as it goes, for a run cut short
                sys.stdout.write(line)
                log.write(line)
                log.flush()
            code = proc.wait()
            log.write(f"exit {code} after {time.monotonic() - started:.0f} s\n")
        if code != 0:
            return code
        checkpoint = work / "checkpoint.pt"
        if not checkpoint.is_file():
            raise RunError(f"the run left no checkpoint in {work}.")
        slim = tmp / "checkpoint-slim.pt"
        slim_checkpoint(checkpoint, slim, bf16=False)
        bundle_bytes = sum(p.stat().st_size for p in bundle.iterdir())
        bf16 = bundle_bytes + slim.stat().st_size > total_mb * 2**20 * 0.95
        if bf16:
            slim_checkpoint(checkpoint, slim, bf16=True)
        tar_path = tmp / RESULT
        with tarfile.open(tar_path, "w") as tar:
            tar.add(bundle, arcname="bundle")
            tar.add(slim, arcname="checkpoint.pt")
            tar.add(log_path, arcname="train.log")
        if tar_path.stat().st_size > total_mb * 2**20:
            raise RunError(f"the results take {tar_path.stat().st_size / 2**20:.1f} MiB, more than "
                           f"--total-mb {total_mb:g} can bring back: train a smaller model.")
        parts = _cut(tar_path, out, int(part_mb * 2**20))
        (out / PARTS).write_text(json.dumps({"parts": parts, "checkpoint_bf16": bf16}, indent=1))
        print(f"gpu_train: {len(parts)} part(s) in {out}; checkpoint in "
              f"{'bfloat16' if bf16 else 'float32'}", flush=True)
    return 0


def collect(files: Path, to: Path) -> Path:
    """Join and check the parts in ``files``, unpack them into ``to`` and validate the bundle."""
    try:
        listing = json.loads((files / PARTS).read_text())
        parts = listing["parts"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise RunError(f"{files / PARTS}: missing or not a parts list ({e}).") from None
    joined = io.BytesIO()
    for part in parts:
        path = files / part["name"]
        try:
            chunk = path.read_bytes()
        except OSError:
            raise RunError(f"{path}: missing; the run's results are incomplete.") from None
        if hashlib.sha256(chunk).hexdigest() != part["sha256"]:
            raise RunError(f"{path}: damaged (its checksum does not match parts.json).")
        joined.write(chunk)
    if to.exists() and any(to.iterdir()):
        raise RunError(f"{to}: not empty; collect into a new folder.")
    joined.seek(0)
    with tarfile.open(fileobj=joined) as tar:
        tar.extractall(to, filter="data")
    from keyboard_app.engine.bundle import ModelLoadError, load_bundle

    try:
        load_bundle(to / "bundle")
    except ModelLoadError as e:
        raise RunError(f"the bundle that came back does not load: {e}") from None
    return to


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    train_args: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, train_args = argv[:cut], argv[cut + 1:]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pack", help="here: the corpus folder as one compressed file")
    p.add_argument("corpus", type=Path)
    p.add_argument("--to", type=Path, default=REPO / "build" / "gpu-run")
    r = sub.add_parser("run", help="on the GPU machine: train, then cut the results into parts")
    r.add_argument("data", type=Path, help="the folder 'pack' wrote")
    r.add_argument("--out", type=Path, required=True, help="the folder whose files come back")
    r.add_argument("--minutes", type=float, required=True, help="training budget")
    r.add_argument("--device", default="cuda")
    r.add_argument("--part-mb", type=float, default=15.0, help="largest part (MiB)")
    r.add_argument("--total-mb", type=float, default=60.0, help="most that can come back (MiB)")
    c = sub.add_parser("collect", help="here: join, check and unpack the parts")
    c.add_argument("files", type=Path)
    c.add_argument("--to", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        if args.command == "pack":
            print(pack(args.corpus, args.to))
        elif args.command == "run":
            return run(args.data, args.out, args.minutes, train_args, part_mb=args.part_mb,
                       total_mb=args.total_mb, device=args.device)
        else:
            print(collect(args.files, args.to))
    except RunError as e:
        print(f"gpu_train: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
