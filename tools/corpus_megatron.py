"""The Megatron-LM flags of a corpus file, as ``tools/megatron_oracle.py`` takes them (argparse's names).

A functional test's ``model_config.yaml`` holds them as ``MODEL_ARGS`` (``--flag: value``; ``true`` for
a switch); a launch script's words are split as bash splits them by ``sched_cli.readers.shell`` (bash
words only, no Megatron semantics), every command's ``--flag value...`` read, the last occurrence
winning as argparse does. Only the flags the schedule reads are kept, with argparse's types (those
of ``megatron/training/arguments.py``); the oracle adds megatron-core's defaults for the others.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from sched_cli.readers.shell import parse_script

_INT = (
    "train_iters train_samples global_batch_size micro_batch_size tensor_model_parallel_size "
    "pipeline_model_parallel_size context_parallel_size lr_warmup_iters lr_warmup_samples lr_decay_iters "
    "lr_decay_samples lr_wsd_decay_iters lr_wsd_decay_samples exit_interval"
).split()
_FLOAT = "lr min_lr lr_warmup_init lr_warmup_fraction start_weight_decay end_weight_decay".split()
_STR = "lr_decay_style lr_wsd_decay_style weight_decay_incr_style".split()
_INTS = "rampup_batch_size iterations_to_skip".split()
_SWITCH = ["decrease_batch_size_if_needed"]


def _flags(file: Path) -> dict[str, list[str] | bool]:
    if file.suffix in (".yaml", ".yml"):
        model_args = (yaml.safe_load(file.read_text()) or {}).get("MODEL_ARGS") or {}
        out: dict[str, list[str] | bool] = {}
        for flag, value in model_args.items():
            if value is True:
                out[flag] = True
            elif value is not False and value is not None:
                out[flag] = str(value).split()
        return out
    out = {}
    for command in parse_script(file.read_text()).commands:
        flag = None
        for word in command:
            name, eq, rest = word.text.partition("=")
            if name.startswith("--"):
                flag = name
                out[flag] = [rest] if eq else []
            elif flag is not None:
                values = out[flag]
                assert isinstance(values, list)
                values.append(word.text)
    return out


def megatron_args(file: Path) -> dict[str, Any]:
    """The schedule's flags of ``file`` as argparse names them (``--lr-warmup-iters``: ``lr_warmup_iters``)."""
    args: dict[str, Any] = {}
    for flag, values in _flags(file).items():
        name = flag[2:].replace("-", "_")
        if name in _SWITCH:
            args[name] = True
        elif isinstance(values, bool) or not values:
            continue
        elif name in _INT:
            args[name] = int(values[0])
        elif name in _FLOAT:
            args[name] = float(values[0])
        elif name in _STR:
            args[name] = values[0]
        elif name in _INTS:
            args[name] = [int(v) for v in values]
    return args
