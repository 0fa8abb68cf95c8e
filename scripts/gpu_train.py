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
    .venv/bin/python scripts/gpu_train.py collect FILES_FOLDER --to runs/gpu1

``run`` trains with ``keyboard-train`` (every option after ``--`` is passed on;
``--device cuda``, the output and work folders and the time budget are set here),
then packs the bundle, a slim checkpoint (the best weights, the model and training
settings and the vocabulary, for ``--init-from`` on any machine; not the optimizer
state, which ``--resume`` would need and which is twice the weights) and the log
into one tar, cut into parts no larger than ``--part-mb``, with their SHA-256 in
``parts.json``. The slim checkpoint is stored in bfloat16 when float32 would not fit
in ``--total-mb``, and left out (the bundle alone comes back) when even that would not.
``--minutes`` bounds the training loop only: unpacking, data preparation (about a
minute for 6M words), export, quantization and packing come on top, so leave the
machine's command limit a few minutes beyond it. A SIGTERM (the limit's kill) is
passed on to the trainer, which writes a checkpoint, and the slim checkpoint and the
log are still packed. Every option of ``run`` is checked before the corpus is
unpacked. ``collect`` refuses a missing, damaged or crafted part with one sentence,
unpacks into a staging folder and renames it into place only once the bundle loads.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import re
import shutil
import signal
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
PART_NAME = re.compile(r"result\.tar\.\d{2}")
# What the loaned machine hands back: at most 8 files, each at most 16 MiB, 64 MiB in all;
# two of the files are parts.json and train.log.
MAX_FILES, MAX_FILE_MB, MAX_TOTAL_MB = 8, 16.0, 64.0
MAX_PARTS = MAX_FILES - 2
OWN_OPTIONS = ("--out", "-o", "--work-dir", "--device", "--max-minutes", "--keep-work")


class RunError(Exception):
    """One sentence for the person at the terminal."""


def pack(corpus: Path, to: Path) -> Path:
    """The text files ``keyboard-train`` would read under ``corpus`` (links followed as it
    follows them) as ``to/corpus.tar.xz``, written atomically."""
    from model_training.corpus import CorpusError, find_files

    corpus, to = Path(corpus), Path(to)
    if to.resolve() == corpus.resolve() or corpus.resolve() in to.resolve().parents:
        raise RunError(f"{to}: inside the corpus; pack it somewhere else (build/gpu-run, say).")
    try:
        files = find_files([corpus])
    except CorpusError as e:
        raise RunError(str(e)) from None
    archive = to / CORPUS_ARCHIVE
    tmp = None
    try:
        to.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=to, prefix=f".{CORPUS_ARCHIVE}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:xz") as tar:
            for file in files:
                info = tar.gettarinfo(file.path.resolve(), arcname=file.name)
                with open(file.path, "rb") as f:
                    tar.addfile(info, f)
        os.replace(tmp, archive)
    except OSError as e:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise RunError(f"{to}: the corpus could not be packed there ({e.strerror or e}).") from None
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
        while chunk := f.read(part_bytes):
            name = f"{RESULT}.{len(parts):02d}"
            (out / name).write_bytes(chunk)
            parts.append({"name": name, "bytes": len(chunk), "sha256": hashlib.sha256(chunk).hexdigest()})
    return parts


def check_run_options(out: Path, minutes: float, train_args: list[str], *, part_mb: float,
                      total_mb: float) -> None:
    """Everything ``run`` could refuse after training, refused before it."""
    if not 0 < part_mb <= MAX_FILE_MB:
        raise RunError(f"--part-mb must be above 0 and at most {MAX_FILE_MB:g} (the largest file "
                       "the machine hands back).")
    if not 0 < total_mb <= MAX_TOTAL_MB:
        raise RunError(f"--total-mb must be above 0 and at most {MAX_TOTAL_MB:g}.")
    if -(-total_mb // part_mb) > MAX_PARTS:
        raise RunError(f"--total-mb {total_mb:g} in parts of {part_mb:g} MiB makes more than "
                       f"{MAX_PARTS} parts, more files than the machine hands back; raise --part-mb.")
    if minutes <= 0:
        raise RunError("--minutes must be above 0.")
    own = [a for a in train_args if a.split("=", 1)[0] in OWN_OPTIONS]
    if own:
        raise RunError(f"{own[0].split('=', 1)[0]} is set by this script; leave it out after '--'.")
    if out.exists() and not out.is_dir():
        raise RunError(f"{out}: not a folder.")


def _signal_code(code: int) -> int:
    return 128 - code if code < 0 else code  # killed by signal N: the shell's 128 + N


def run(data: Path, out: Path, minutes: float, train_args: list[str], *, part_mb: float,
        total_mb: float, device: str) -> int:
    check_run_options(out, minutes, train_args, part_mb=part_mb, total_mb=total_mb)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise RunError(f"{out}: cannot be made ({e.strerror or e}).") from None
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
            # The loan's limit kills with SIGTERM: the trainer checkpoints on it, and what
            # it wrote is still packed below.
            previous = signal.signal(signal.SIGTERM, lambda signum, frame: proc.send_signal(signum))
            try:
                for line in proc.stdout:  # the log as it goes, for a run cut short
                    sys.stdout.write(line)
                    log.write(line)
                    log.flush()
                code = _signal_code(proc.wait())
            finally:
                signal.signal(signal.SIGTERM, previous)
            log.write(f"exit {code} after {time.monotonic() - started:.0f} s\n")
        checkpoint = work / "checkpoint.pt"
        if code != 0 and not checkpoint.is_file():
            return code
        if not checkpoint.is_file():
            raise RunError(f"the run left no checkpoint in {work}.")
        _pack_results(tmp, bundle if code == 0 else None, checkpoint, log_path, out,
                      part_mb=part_mb, total_mb=total_mb)
    return code


def _pack_results(tmp: Path, bundle: Path | None, checkpoint: Path, log_path: Path, out: Path, *,
                  part_mb: float, total_mb: float) -> None:
    """The bundle (when the run finished), the slim checkpoint (float32, else bfloat16,
    else left out) and the log, as one tar cut into parts in ``out``."""
    limit = total_mb * 2**20 * 0.98  # (the tar's own headers)
    bundle_bytes = sum(p.stat().st_size for p in bundle.iterdir()) if bundle else 0
    slim = tmp / "checkpoint-slim.pt"
    kind = "float32"
    slim_checkpoint(checkpoint, slim, bf16=False)
    if bundle_bytes + slim.stat().st_size > limit:
        kind = "bfloat16"
        slim_checkpoint(checkpoint, slim, bf16=True)
    if bundle_bytes + slim.stat().st_size > limit:
        kind = None
    if bundle_bytes > limit or (bundle is None and kind is None):
        raise RunError(f"the results take more than --total-mb {total_mb:g} MiB can bring back: "
                       "train a smaller model.")
    tar_path = tmp / RESULT
    with tarfile.open(tar_path, "w") as tar:
        if bundle is not None:
            tar.add(bundle, arcname="bundle")
        if kind is not None:
            tar.add(slim, arcname="checkpoint.pt")
        tar.add(log_path, arcname="train.log")
    parts = _cut(tar_path, out, int(part_mb * 2**20))
    (out / PARTS).write_text(json.dumps({"parts": parts, "checkpoint": kind,
                                         "finished": bundle is not None}, indent=1))
    print(f"gpu_train: {len(parts)} part(s) in {out}; "
          f"{'the bundle, ' if bundle is not None else 'no bundle (the run was stopped), '}"
          f"checkpoint {kind or 'left out (too large)'}", flush=True)


def _listed_parts(files: Path) -> list[dict]:
    try:
        parts = json.loads((files / PARTS).read_text())["parts"]
        if not parts or not all(isinstance(p, dict) and isinstance(p.get("name"), str)
                                and PART_NAME.fullmatch(p["name"]) and isinstance(p.get("sha256"), str)
                                for p in parts):
            raise ValueError("its entries are not result.tar.NN parts with checksums")
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise RunError(f"{files / PARTS}: missing or not a parts list ({e}).") from None
    return parts


def collect(files: Path, to: Path) -> Path:
    """Join and check the parts in ``files``, unpack them into a staging folder beside
    ``to``, validate the bundle, then rename the folder to ``to`` (a new or empty folder)."""
    files, to = Path(files), Path(to)
    joined = io.BytesIO()
    for part in _listed_parts(files):
        path = files / part["name"]
        try:
            chunk = path.read_bytes()
        except OSError:
            raise RunError(f"{path}: missing; the run's results are incomplete.") from None
        if hashlib.sha256(chunk).hexdigest() != part["sha256"]:
            raise RunError(f"{path}: damaged (its checksum does not match parts.json).")
        joined.write(chunk)
    if to.exists() and (not to.is_dir() or any(to.iterdir())):
        raise RunError(f"{to}: not a new or empty folder; collect into a new folder.")
    from keyboard_app.engine.bundle import ModelLoadError, load_bundle

    staging = None
    try:
        to.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=to.parent, prefix=f".{to.name}.", suffix=".partial"))
        os.chmod(staging, 0o755)  # (mkdtemp's 0700 is for the staging only)
        joined.seek(0)
        with tarfile.open(fileobj=joined) as tar:
            tar.extractall(staging, filter="data")
        if (staging / "bundle").is_dir():
            load_bundle(staging / "bundle").close()
        elif not (staging / "checkpoint.pt").is_file():
            raise RunError("the parts hold neither a bundle nor a checkpoint.")
        if to.exists():
            to.rmdir()
        os.replace(staging, to)
        staging = None
    except (tarfile.TarError, ModelLoadError) as e:
        raise RunError(f"the results that came back cannot be used: {e}") from None
    except OSError as e:
        raise RunError(f"{to}: the results could not be written there ({e.strerror or e}).") from None
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
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
