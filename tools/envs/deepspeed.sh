#!/usr/bin/env bash
# Build the DeepSpeed reference environment that tests/test_against_deepspeed.py compares against:
#   bash tools/envs/deepspeed.sh [DIR]        (DIR defaults to /work/envs/deepspeed)
#   SCHED_DEEPSPEED_PYTHON=DIR/bin/python .venv/bin/python -m pytest -q tests/test_against_deepspeed.py
# torch==2.13.0 (the CPU build) goes in first so that nothing afterwards can pull another torch;
# deepspeed is installed without building its C++/CUDA ops (DS_BUILD_OPS=0: the oracle only needs
# deepspeed.runtime.lr_schedules), and transformers + accelerate are pinned to the releases tools/envs/hf.sh
# pins, for HF's DeepSpeed integration (transformers.integrations.deepspeed). The last step fails if pip
# replaced torch. tensorboard is for the engine's TensorBoard monitor, whose real logs
# tests/test_against_logs.py checks (SCHED_DEEPSPEED_PYTHON; docs/check.md); the engine runs on the CPU
# (DS_ACCELERATOR=cpu), which JIT-builds DeepSpeed's small shm_comm op with the system's C++ compiler once.
set -euo pipefail
DIR="${1:-/work/envs/deepspeed}"
DEEPSPEED="${SCHED_DEEPSPEED_VERSION:-0.19.8}"
TRANSFORMERS="${SCHED_HF_TRANSFORMERS:-5.25.0}"
TENSORBOARD="${SCHED_LOGS_TENSORBOARD:-2.21.0}"
ACCELERATE="${SCHED_HF_ACCELERATE:-1.16.0}"

python3 -m venv "$DIR"
"$DIR/bin/pip" install --quiet torch==2.13.0
if DS_BUILD_OPS=0 "$DIR/bin/pip" install --dry-run "deepspeed==$DEEPSPEED" "transformers==$TRANSFORMERS" \
    "accelerate==$ACCELERATE" 2>/dev/null | grep -i "would install" | grep -qiE '(^| )torch-'; then
    echo "deepspeed.sh: installing deepspeed $DEEPSPEED would replace torch 2.13.0; aborting" >&2
    exit 1
fi
DS_BUILD_OPS=0 "$DIR/bin/pip" install --quiet "deepspeed==$DEEPSPEED" "transformers==$TRANSFORMERS" \
    "accelerate==$ACCELERATE" "tensorboard==$TENSORBOARD"
"$DIR/bin/python" - <<'PY'
import accelerate, tensorboard, torch, transformers
import deepspeed.runtime.lr_schedules  # noqa: F401  (the module the oracle drives)
from importlib.metadata import version
assert torch.__version__.startswith("2.13.0"), torch.__version__
print(f"deepspeed env: torch {torch.__version__}, deepspeed {version('deepspeed')}, "
      f"transformers {transformers.__version__}, accelerate {accelerate.__version__}")
PY
