#!/usr/bin/env bash
# The oldest releases sched-cli declares in pyproject.toml, to run its test suite against:
#   bash tools/envs/lowest.sh [/work/envs/lowest] && /work/envs/lowest/bin/python -m pytest -q
# Keep the pins here equal to pyproject.toml's lower bounds (tests/test_dependencies.py checks).
set -euo pipefail
ENV="${1:-/work/envs/lowest}"
HERE="$(cd "$(dirname "$0")/../.." && pwd)"
python3 -m venv "$ENV"
# torch first, pinned (a CPU build); any other resolution may pull a multi-GB CUDA build.
"$ENV/bin/pip" install -q torch==2.13.0
"$ENV/bin/pip" install -q \
    "numpy==1.24.4" "typer==0.19.0" "rich==13.0.0" "matplotlib==3.7.0" "orjson==3.9.0" \
    "uniplot==0.21.0" "pyyaml==6.0.1" "pytest==8.0.0" "hypothesis==6.100.0" "deptry==0.25.1" \
    "playwright==1.40.0" "pandas==1.5.3" "mmengine-lite==0.10.7" "packaging==24.0" "tensorboardX==2.6"
"$ENV/bin/pip" install -q --no-deps -e "$HERE"
