#!/usr/bin/env bash
# Build the MMEngine reference environment for tests/test_against_mmengine.py.
# Usage: bash tools/envs/mmengine.sh [DIR]   (default /work/envs/mmengine)
# Then:  SCHED_MMENGINE_PYTHON=DIR/bin/python python -m pytest -q tests/test_against_mmengine.py
# torch==2.13.0 (CPU) goes in first and alone; then mmengine-lite (MMEngine without the
# dependency on the GUI OpenCV wheel), which must not replace it: the check at the end fails
# the build if pip touched torch.
set -euo pipefail
DIR="${1:-/work/envs/mmengine}"
python3 -m venv "$DIR"
PIP="$DIR/bin/pip"
"$PIP" install -q --upgrade pip
"$PIP" install -q torch==2.13.0
# mmengine imports packaging without declaring it, and its hooks (ParamSchedulerHook's module,
# which the Runner imports) import cv2: the headless OpenCV wheel, no GUI libraries needed.
"$PIP" install -q mmengine-lite==0.10.7 packaging opencv-python-headless==5.0.0.93
"$DIR/bin/python" - <<'PY'
import torch, mmengine
from mmengine.config import Config
from mmengine.optim.scheduler import LinearLR, OneCycleLR, CosineRestartLR
from mmengine.hooks import ParamSchedulerHook
from mmengine.runner import Runner
assert torch.__version__.startswith("2.13.0"), f"pip replaced torch: {torch.__version__}"
print(f"mmengine {mmengine.__version__}, torch {torch.__version__}: ok")
PY
