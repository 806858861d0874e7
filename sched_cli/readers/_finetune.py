"""What the fine-tuning front-ends (axolotl, LLaMA-Factory) share on the way to Hugging Face's
Trainer: the eval split that shrinks the training set, the ``deepspeed`` config they pass on, and
the reading of counts and numbers from their YAML files."""

from __future__ import annotations

import math
import numbers
from typing import Any

from sched_cli.readers import ReaderError

__all__ = ["split_train_size", "deepspeed_replaces", "number", "whole", "flag", "hf_scheduler_of"]


def number(source: str, key: str, value: Any) -> float:
    """A YAML number (YAML 1.1 reads ``2e-5`` as text: both tools turn it into a float)."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ReaderError(f"{source}: {key}: expected a number, got text {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ReaderError(f"{source}: {key}: expected a number, got {value!r}")
    return value


def whole(source: str, key: str, value: Any, low: int = 1) -> int:
    """A whole number of at least ``low``."""
    value = number(source, key, value)
    if not float(value).is_integer() or value < low:
        raise ReaderError(f"{source}: {key}: expected a whole number of at least {low}, got {value!r}")
    return int(value)


def flag(source: str, key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ReaderError(f"{source}: {key}: expected true or false, got {value!r}")
    return value


def split_train_size(source: str, key: str, size: int, value: float) -> tuple[int, int]:
    """``(train, held out)`` of ``size`` samples after the eval split both tools make:
    ``train_test_split(test_size=int(v) if v > 1 else float(v))`` of ``datasets``, which holds out
    ``ceil(v x size)`` samples for a fraction and ``int(v)`` for a count, and trains on the rest."""
    if value > 1:
        held = int(value)
    elif 0 < value < 1:
        held = math.ceil(value * size)
    else:
        raise ReaderError(
            f"{source}: {key}: {value!r} as a fraction must lie strictly between 0 and 1 (datasets raises)"
        )
    if held >= size:
        raise ReaderError(
            f"{source}: {key}: holding out {held:,} of {size:,} samples leaves no training set (datasets raises "
            "ValueError); use a smaller value or a larger --dataset-size"
        )
    return size - held, held


def deepspeed_replaces(data: dict[str, Any], source: str, options: dict[str, Any]) -> bool:
    """Whether the ``deepspeed`` config the tool passes to the Trainer has a ``scheduler`` block,
    which replaces the Trainer's schedule (and the tool's own): the HF reader then reads it
    (:func:`sched_cli.readers.deepspeed.under_hf`: the block wins, ``auto`` filled as HF does)."""
    if not data.get("deepspeed") and options.get("deepspeed_config") is None:
        return False
    from sched_cli.readers.deepspeed import load_config

    config, _ = load_config(data, source, options)
    return config.get("scheduler") is not None


def hf_scheduler_of(spec: dict[str, Any]) -> dict[str, Any]:
    """The one scheduler config of a spec made by the HF reader."""
    return spec["schedulers"][0]
