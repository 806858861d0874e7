#!/usr/bin/env bash
# Build the axolotl reference environment that tests/test_against_axolotl.py compares against:
#   bash tools/envs/axolotl.sh [DIR]        (DIR defaults to /work/envs/axolotl)
#   SCHED_AXOLOTL_PYTHON=DIR/bin/python .venv/bin/python -m pytest -q tests/test_against_axolotl.py
# torch==2.13.0 (the CPU build) goes in first; transformers and accelerate at the versions
# tools/envs/hf.sh pins; then axolotl itself WITHOUT its dependencies (its full set pulls CUDA
# kernels), plus only what importing axolotl.utils.schedulers and the step-count code needs.
# The last step fails if pip replaced torch.
set -euo pipefail
DIR="${1:-/work/envs/axolotl}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TRANSFORMERS="$(sed -n 's/^TRANSFORMERS="${SCHED_HF_TRANSFORMERS:-\(.*\)}"$/\1/p' "$HERE/hf.sh")"
ACCELERATE="$(sed -n 's/^ACCELERATE="${SCHED_HF_ACCELERATE:-\(.*\)}"$/\1/p' "$HERE/hf.sh")"
AXOLOTL="${SCHED_AXOLOTL_VERSION:-0.19.0}"

python3 -m venv "$DIR"
"$DIR/bin/pip" install --quiet torch==2.13.0
"$DIR/bin/pip" install --quiet "transformers==$TRANSFORMERS" "accelerate==$ACCELERATE"
"$DIR/bin/pip" install --quiet --no-deps "axolotl==$AXOLOTL"
"$DIR/bin/python" - <<'PY'
import importlib.metadata as md

import torch

assert torch.__version__.startswith("2.13.0"), f"torch was replaced: {torch.__version__}"
import axolotl.utils.schedulers  # noqa: F401

print(f"axolotl env: torch {torch.__version__}, transformers {md.version('transformers')}, axolotl {md.version('axolotl')}")
PY
