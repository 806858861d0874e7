#!/usr/bin/env bash
# Build the timm reference environment used by tests/test_against_timm.py.
#
#   bash tools/envs/timm.sh [DIR]        # default DIR: /work/envs/timm
#   SCHED_TIMM_PYTHON=DIR/bin/python pytest -q tests/test_against_timm.py
#
# torch goes in first, pinned (the CPU build); timm goes in with --no-deps because it requires
# torchvision, which only timm's models need: tools/timm_oracle.py loads the timm.scheduler
# package alone, without running timm/__init__.py. The scheduler modules import torch and numpy.
set -euo pipefail
DIR="${1:-/work/envs/timm}"
TIMM_VERSION="${TIMM_VERSION:-1.0.31}"
python3 -m venv "$DIR"
"$DIR/bin/pip" install -q torch==2.13.0
"$DIR/bin/pip" install -q numpy
"$DIR/bin/pip" install -q --no-deps "timm==$TIMM_VERSION"
"$DIR/bin/python" - <<'PY'
import importlib.util, pathlib, sys, types
spec = importlib.util.find_spec("timm")
root = pathlib.Path(spec.submodule_search_locations[0])
stub = types.ModuleType("timm")
stub.__path__ = [str(root)]
sys.modules["timm"] = stub
import timm.scheduler as s
print("timm.scheduler loaded from", root, "-", ", ".join(sorted(n for n in dir(s) if n.endswith("Scheduler"))))
PY
