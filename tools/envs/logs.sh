#!/usr/bin/env bash
# Build the "real logs" reference environment that tests/test_against_logs.py uses: real trainers
# (Hugging Face Trainer, Lightning, MMEngine's Runner) run short trainings on tiny models and write their real logs
# (trainer_state.json, TensorBoard event files, Lightning's metrics.csv, MMEngine's scalars.json), which `sched check` then
# reads against the plan of the same run.
#   bash tools/envs/logs.sh [DIR]        (DIR defaults to /work/envs/logs)
#   SCHED_LOGS_PYTHON=DIR/bin/python .venv/bin/python -m pytest -q tests/test_against_logs.py
# torch==2.13.0 (the CPU build) goes in first; the other releases are pinned, and the last step
# fails if pip replaced torch.
set -euo pipefail
DIR="${1:-/work/envs/logs}"
TRANSFORMERS="${SCHED_HF_TRANSFORMERS:-5.25.0}"
ACCELERATE="${SCHED_HF_ACCELERATE:-1.16.0}"
LIGHTNING="${SCHED_LOGS_LIGHTNING:-2.6.6}"
TENSORBOARD="${SCHED_LOGS_TENSORBOARD:-2.21.0}"

python3 -m venv "$DIR"
"$DIR/bin/pip" install --quiet torch==2.13.0
"$DIR/bin/pip" install --quiet "transformers==$TRANSFORMERS" "accelerate==$ACCELERATE" \
    "lightning==$LIGHTNING" "tensorboard==$TENSORBOARD" \
    "mmengine-lite==0.10.7" "opencv-python-headless==5.0.0.93" "matplotlib==3.11.2"
"$DIR/bin/python" - <<'PY'
import lightning, mmengine, tensorboard, torch, transformers
from mmengine.runner import Runner
assert torch.__version__.startswith("2.13.0"), torch.__version__
print(f"logs env: torch {torch.__version__}, transformers {transformers.__version__}, "
      f"lightning {lightning.__version__}, tensorboard {tensorboard.__version__}")
PY
