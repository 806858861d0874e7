#!/usr/bin/env bash
# Build the LLaMA-Factory reference environment that tests/test_against_llamafactory.py compares against:
#   bash tools/envs/llamafactory.sh [DIR]        (DIR defaults to /work/envs/llamafactory)
#   SCHED_LLAMAFACTORY_PYTHON=DIR/bin/python .venv/bin/python -m pytest -q tests/test_against_llamafactory.py
# torch==2.13.0 (the CPU build) goes in first; transformers and accelerate at the versions
# tools/envs/hf.sh pins; then llamafactory itself WITHOUT its dependencies, plus only what
# importing its argument parser and trainer helpers needs. The last step fails if pip replaced torch.
set -euo pipefail
DIR="${1:-/work/envs/llamafactory}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TRANSFORMERS="$(sed -n 's/^TRANSFORMERS="${SCHED_HF_TRANSFORMERS:-\(.*\)}"$/\1/p' "$HERE/hf.sh")"
ACCELERATE="$(sed -n 's/^ACCELERATE="${SCHED_HF_ACCELERATE:-\(.*\)}"$/\1/p' "$HERE/hf.sh")"
LLAMAFACTORY="${SCHED_LLAMAFACTORY_VERSION:-0.9.5}"

python3 -m venv "$DIR"
"$DIR/bin/pip" install --quiet torch==2.13.0
"$DIR/bin/pip" install --quiet "transformers==$TRANSFORMERS" "accelerate==$ACCELERATE"
"$DIR/bin/pip" install --quiet --no-deps "llamafactory==$LLAMAFACTORY"
"$DIR/bin/python" - <<'PY'
import importlib.metadata as md

import torch

assert torch.__version__.startswith("2.13.0"), f"torch was replaced: {torch.__version__}"
print(f"llamafactory env: torch {torch.__version__}, transformers {md.version('transformers')}, llamafactory {md.version('llamafactory')}")
PY
