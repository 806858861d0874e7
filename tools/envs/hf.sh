#!/usr/bin/env bash
# Build the Hugging Face reference environment that tests/test_against_hf.py compares against:
#   bash tools/envs/hf.sh [DIR]        (DIR defaults to /work/envs/hf)
#   SCHED_HF_PYTHON=DIR/bin/python .venv/bin/python -m pytest -q tests/test_against_hf.py
# torch==2.13.0 (the CPU build) goes in first so that nothing afterwards can pull another torch;
# transformers and accelerate (what Trainer needs) are pinned to the releases the parity doc
# reports, and the last step fails if pip replaced torch.
set -euo pipefail
DIR="${1:-/work/envs/hf}"
TRANSFORMERS="${SCHED_HF_TRANSFORMERS:-5.25.0}"
ACCELERATE="${SCHED_HF_ACCELERATE:-1.16.0}"

python3 -m venv "$DIR"
"$DIR/bin/pip" install --quiet torch==2.13.0
# A dry run first: refuse to go on if resolving transformers would replace torch.
if "$DIR/bin/pip" install --dry-run "transformers==$TRANSFORMERS" "accelerate==$ACCELERATE" 2>/dev/null \
    | grep -i "would install" | grep -qiE '(^| )torch-'; then
    echo "hf.sh: installing transformers $TRANSFORMERS would replace torch 2.13.0; aborting" >&2
    exit 1
fi
"$DIR/bin/pip" install --quiet "transformers==$TRANSFORMERS" "accelerate==$ACCELERATE"
"$DIR/bin/python" - <<'PY'
import accelerate, torch, transformers
assert torch.__version__.startswith("2.13.0"), torch.__version__
print(f"hf env: torch {torch.__version__}, transformers {transformers.__version__}, accelerate {accelerate.__version__}")
PY
