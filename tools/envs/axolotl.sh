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
# What tools/axolotl_oracle.py's imports need (config, data split, step count, training args,
# scheduler mixin), at axolotl 0.19.0's pins where it pins them; their own dependencies by hand,
# so that nothing can pull another torch.
"$DIR/bin/pip" install --quiet --no-deps "datasets==4.8.4" "trl==1.9.0" "peft==0.20.0" triton
# mistral-common: axolotl's config validation imports it for Mistral-tokenizer models (tools/corpus_survey.py's
# Magistral example).
"$DIR/bin/pip" install --quiet --no-deps "mistral-common==1.11.5"
"$DIR/bin/pip" install --quiet pyarrow dill xxhash multiprocess pandas "pydantic==2.12.5" addict httpx requests \
    pillow psutil "numba>=0.63.1,<1.0" colorama posthog distro platformdirs protobuf
"$DIR/bin/python" - <<'PY'
import importlib.metadata as md

import torch

assert torch.__version__.startswith("2.13.0"), f"torch was replaced: {torch.__version__}"
import axolotl.utils.schedulers  # noqa: F401
from axolotl.core.trainers.mixins.scheduler import SchedulerMixin  # noqa: F401
from axolotl.utils.data.sft import _handle_train_dataset_split  # noqa: F401
from axolotl.utils.trainer import calculate_total_num_steps  # noqa: F401

print(f"axolotl env: torch {torch.__version__}, transformers {md.version('transformers')}, axolotl {md.version('axolotl')}")
PY
