#!/usr/bin/env bash
# Build the Composer 0.32.1 reference environment used by tests/test_against_composer.py.
#
#   bash tools/envs/composer.sh [DIR]        (default DIR: /work/envs/composer)
#
# Idempotent: re-running on a built environment only checks it. torch==2.13.0 (CPU) goes in
# first and nothing afterwards may replace it: Composer pins an older torch, so it and the
# packages that pin torch are installed with --no-deps. Composer imports torchvision on load;
# no torchvision wheel matches torch 2.13, so a stand-in package is written (see
# docs/composer.md). Then: SCHED_COMPOSER_PYTHON=DIR/bin/python pytest tests/test_against_composer.py
# tests/test_against_logs.py (Composer's LRMonitor logs; docs/check.md).
set -euo pipefail

DIR="${1:-/work/envs/composer}"
PYTHON="${PYTHON:-python3}"

if [ ! -x "$DIR/bin/python" ]; then
  "$PYTHON" -m venv "$DIR"
fi
PIP=("$DIR/bin/python" -m pip install -q --disable-pip-version-check)

"${PIP[@]}" "torch==2.13.0"
"${PIP[@]}" --no-deps "mosaicml==0.32.1"
# tensorboard, for Composer's TensorboardLogger in the real logs of tests/test_against_logs.py
# (it requires no torch).
"${PIP[@]}" "tensorboard==2.21.0"
# Composer's pure-Python dependencies; none of them requires torch.
"${PIP[@]}" "pyyaml<7,>=6.0" "tqdm<5,>=4.62.3" "requests<3,>=2.26.0" "numpy<2.3.0,>=1.21.5" \
  "psutil<8,>=5.8.0" "coolname<3,>=1.1.0" "tabulate==0.9.0" "py-cpuinfo<10,>=8.0.0" \
  "packaging<25.1,>=21.3.0" "importlib-metadata<9,>=5.0.0" "pillow<12,>=10.3.0" \
  lightning-utilities "mosaicml-cli==0.7.5"
# These declare a torch requirement of their own.
"${PIP[@]}" --no-deps "torchmetrics==1.7.4" "torch_optimizer==0.3.0" "pytorch_ranger==0.1.1"

SITE="$("$DIR/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
mkdir -p "$SITE/torchvision"
cat > "$SITE/torchvision/__init__.py" <<'PY'
"""Stand-in for torchvision, written by sched's tools/envs/composer.sh.

Composer and torchmetrics import torchvision when they load; nothing on the scheduler or
Trainer path uses it. Every attribute and every ``torchvision.*`` submodule is a placeholder;
calling or instantiating a placeholder raises, so a real use fails loudly.
"""

import importlib.abc
import importlib.machinery
import sys
import types

__version__ = "0.0.0+stub"


class _Placeholder:
    """Stands for any torchvision class or function; using it raises."""

    def __init__(self, *args, **kwargs):
        raise RuntimeError("torchvision is a stand-in in this environment (sched's Composer oracle)")

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)


def _placeholder(name):
    return type(name, (_Placeholder,), {"__module__": "torchvision"})


class _StubModule(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        value = _placeholder(name)
        setattr(self, name, value)
        return value


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path=None, target=None):
        if fullname.startswith("torchvision."):
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        module = _StubModule(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module):
        pass


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    return _placeholder(name)


if not any(isinstance(f, _Finder) for f in sys.meta_path):
    sys.meta_path.insert(0, _Finder())
PY

"$DIR/bin/python" - <<'PY'
import torch, composer, tensorboard
from composer import Trainer  # noqa: F401
from composer.loggers import TensorboardLogger  # noqa: F401
assert torch.__version__.startswith("2.13.0"), torch.__version__
assert composer.__version__ == "0.32.1", composer.__version__
print(f"composer {composer.__version__} with torch {torch.__version__}: ok")
PY
