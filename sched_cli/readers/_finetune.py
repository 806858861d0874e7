"""What the fine-tuning front-ends (axolotl, LLaMA-Factory) share on the way to Hugging Face's
Trainer: the eval split that shrinks the training set, the ``deepspeed`` config they pass on, and
the reading of counts and numbers from their YAML files."""

from __future__ import annotations

import json
import math
import numbers
from pathlib import Path
from typing import Any

from sched_cli.readers import ReaderError

__all__ = ["split_train_size", "deepspeed_scheduler_check", "number", "whole", "flag", "hf_scheduler_of"]


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


def deepspeed_scheduler_check(source: str, value: Any) -> list[str]:
    """Notes about the ``deepspeed`` config the tool passes to the Trainer; a refusal if it has a
    ``scheduler`` block, which replaces the Trainer's schedule.

    HOOK(deepspeed): once ``sched_cli.readers.deepspeed`` is on main, a ``scheduler`` block is read
    by that reader ("a DeepSpeed scheduler block wins, ``auto`` filled as HF does") instead of refused.
    """
    if value is None or value is False or value == "":
        return []
    config: Any = value
    if isinstance(value, str):
        path = Path(value)
        candidates = [path] if path.is_absolute() else [Path(source).parent / path, Path.cwd() / path]
        found = next((p for p in candidates if p.is_file()), None)
        if found is None:
            return [
                f"{source}: deepspeed: {value} was not found (looked beside the file and in the working directory), "
                "so sched cannot tell whether it has a scheduler block, which would replace the schedule shown"
            ]
        try:
            config = json.loads(found.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ReaderError(f"{source}: deepspeed: {value} is not a readable JSON file ({exc})") from None
    if not isinstance(config, dict):
        raise ReaderError(f"{source}: deepspeed: expected a path to a JSON config or a mapping, got {value!r}")
    if config.get("scheduler") is not None:
        kind = config["scheduler"].get("type") if isinstance(config["scheduler"], dict) else config["scheduler"]
        raise ReaderError(
            f"{source}: deepspeed: its config has a scheduler block ({kind}), which replaces the Trainer's schedule; "
            "sched does not read DeepSpeed schedulers in this file yet: remove the block to preview the tool's schedule"
        )
    return []


def hf_scheduler_of(spec: dict[str, Any]) -> dict[str, Any]:
    """The one scheduler config of a spec made by the HF reader."""
    return spec["schedulers"][0]
