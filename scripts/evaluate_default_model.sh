#!/usr/bin/env bash
# The held-out figures of the default model's card: keyboard-eval on the
# held-out part of each corpus source, then the comparison with Presage.
#
#   scripts/evaluate_default_model.sh [BUNDLE] [OUTDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
BUNDLE=${1:-assets/models/default}
OUT=${2:-runs/eval}
WORDS=${WORDS:-2000}
mkdir -p "$OUT"
for text in corpus/heldout/*.txt; do
    name=$(basename "$text" .txt)
    .venv/bin/keyboard-eval "$BUNDLE" "$text" --max-words "$WORDS" --json > "$OUT/$name.json"
    echo "$name: $(cat "$OUT/$name.json")"
    # the same with the network and lexicon alone (no document cache, no phrase tables), for the last column
    .venv/bin/keyboard-eval "$BUNDLE" "$text" --max-words "$WORDS" --json --network-only > "$OUT/$name.network"
done
# A Markdown table for the model card (the total weighs each text by its words;
# the last column is KSR k=3 with the network and lexicon alone: no document cache, no phrase tables).
.venv/bin/python - "$OUT" <<'PY'
import json, math, sys
from pathlib import Path
paths = sorted(Path(sys.argv[1]).glob("*.json"))
rows = [json.loads(p.read_text()) for p in paths]
for p, r in zip(paths, rows):
    r["alone"] = json.loads(p.with_suffix(".network").read_text())["ksr"]["3"]
print("| held-out text | words | perplexity | top-1 | top-3 | KSR k=1 | KSR k=3 | KSR k=5 | k=3, network and lexicon alone |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
def line(name, r):
    print(f"| {name} | {r['words']:,} | {r['perplexity']:.1f} | {r['topk']['1']*100:.1f}% | "
          f"{r['topk']['3']*100:.1f}% | {r['ksr']['1']:.1f}% | {r['ksr']['3']:.1f}% | {r['ksr']['5']:.1f}% | "
          f"{r['alone']:.1f}% |")
for r in rows:
    line(Path(r["texts"][0]).stem, r)
words = sum(r["words"] for r in rows)
keys = sum(r["keystrokes"] for r in rows)
tokens = sum(r["heldout_tokens"] for r in rows)
total = {
    "words": words,
    "perplexity": math.exp(sum(math.log(r["perplexity"]) * r["heldout_tokens"] for r in rows) / tokens),
    "topk": {k: sum(r["topk"][k] * r["words"] for r in rows) / words for k in ("1", "3")},
    "ksr": {k: sum(r["ksr"][k] * r["keystrokes"] for r in rows) / keys for k in ("1", "3", "5")},
    "alone": sum(r["alone"] * r["keystrokes"] for r in rows) / keys,
}
line("**all**", total)
PY
