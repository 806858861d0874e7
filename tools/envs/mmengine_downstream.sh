#!/usr/bin/env bash
# Unpack the downstream OpenMMLab packages whose schedulers and LR hooks sched replays, for
# tests/test_against_mmengine.py (tools/mmengine_oracle.py loads their scheduler and hook modules
# from these files; nothing is installed, so none of their dependencies are needed).
# Usage: bash tools/envs/mmengine_downstream.sh [DIR] [PYTHON]   (default /work/envs/mmengine-downstream,
#        python3: any Python with pip downloads and unpacks the wheels)
# Then:  SCHED_MMENGINE_DOWNSTREAM=DIR/src SCHED_MMENGINE_PYTHON=... python -m pytest -q tests/test_against_mmengine.py
set -euo pipefail
DIR="${1:-/work/envs/mmengine-downstream}"
PYTHON="${2:-python3}"
mkdir -p "$DIR/wheels" "$DIR/src"
for package in mmdet==3.3.0 mmpose==1.3.2 mmsegmentation==1.2.2 mmagic==1.2.0 mmyolo==0.6.0; do
  "$PYTHON" -m pip download -q --no-deps -d "$DIR/wheels" "$package"
done
for wheel in "$DIR"/wheels/*.whl; do
  "$PYTHON" -m zipfile -e "$wheel" "$DIR/src"
done
for file in mmdet/engine/schedulers/quadratic_warmup.py mmpose/engine/schedulers/quadratic_warmup.py \
    mmseg/engine/schedulers/poly_ratio_scheduler.py mmagic/engine/schedulers/linear_lr_scheduler_with_interval.py \
    mmyolo/engine/hooks/yolov5_param_scheduler_hook.py mmyolo/engine/hooks/ppyoloe_param_scheduler_hook.py; do
  test -f "$DIR/src/$file" || { echo "missing $file" >&2; exit 1; }
done
echo "downstream sources: ok ($DIR/src)"
