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
# What tools/llamafactory_oracle.py's imports need, at LLaMA-Factory 0.9.5's pins; their own
# dependencies by hand, so that nothing can pull another torch (torchaudio, torchvision...).
"$DIR/bin/pip" install --quiet --no-deps "peft==0.18.1" "datasets==4.0.0" "trl==0.24.0"
"$DIR/bin/pip" install --quiet pyarrow dill xxhash multiprocess pandas httpx requests pillow psutil omegaconf
"$DIR/bin/python" - <<'PY'
import importlib.metadata as md

import torch

assert torch.__version__.startswith("2.13.0"), f"torch was replaced: {torch.__version__}"
import os

os.environ["DISABLE_VERSION_CHECK"] = "1"  # LLaMA-Factory 0.9.5 wants transformers <= 5.6
from llamafactory.train.trainer_utils import create_custom_scheduler  # noqa: F401

print(f"llamafactory env: torch {torch.__version__}, transformers {md.version('transformers')}, llamafactory {md.version('llamafactory')}")
PY
