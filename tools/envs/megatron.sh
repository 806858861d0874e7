#!/usr/bin/env bash
# Build the Megatron reference environment that tests/test_against_megatron.py compares against:
#   bash tools/envs/megatron.sh [DIR]        (DIR defaults to /work/envs/megatron)
#   SCHED_MEGATRON_PYTHON=DIR/bin/python .venv/bin/python -m pytest -q tests/test_against_megatron.py
# torch==2.13.0 (the CPU build) goes in first so that nothing afterwards can pull another torch;
# megatron-core is pinned to the release docs/megatron.md reports (its scheduler and
# num-microbatches calculator need no GPU), and the last step fails if pip replaced torch.
# tensorboard writes Megatron-LM's LR tags in tests/test_against_logs.py (SCHED_MEGATRON_PYTHON; docs/check.md).
set -euo pipefail
DIR="${1:-/work/envs/megatron}"
MCORE="${SCHED_MEGATRON_CORE:-0.16.1}"
TENSORBOARD="${SCHED_LOGS_TENSORBOARD:-2.21.0}"

python3 -m venv "$DIR"
"$DIR/bin/pip" install --quiet torch==2.13.0
# A dry run first: refuse to go on if resolving megatron-core would replace torch.
if "$DIR/bin/pip" install --dry-run "megatron-core==$MCORE" 2>/dev/null \
    | grep -i "would install" | grep -qiE '(^| )torch-'; then
    echo "megatron.sh: installing megatron-core $MCORE would replace torch 2.13.0; aborting" >&2
    exit 1
fi
"$DIR/bin/pip" install --quiet "megatron-core==$MCORE" "tensorboard==$TENSORBOARD"
"$DIR/bin/python" - <<'PY'
import tensorboard, torch
from megatron.core import package_info
from megatron.core.num_microbatches_calculator import RampupBatchsizeNumMicroBatchesCalculator  # noqa: F401
from megatron.core.optimizer_param_scheduler import OptimizerParamScheduler  # noqa: F401
assert torch.__version__.startswith("2.13.0"), torch.__version__
print(f"megatron env: torch {torch.__version__}, megatron-core {package_info.__version__}")
PY
