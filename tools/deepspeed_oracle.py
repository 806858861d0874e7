"""Ask the real DeepSpeed (and Hugging Face's DeepSpeed integration) for the LR of every optimizer update, as JSON.

Run it with a Python that has deepspeed, transformers and torch (``tools/envs/deepspeed.sh`` builds
one; see docs/deepspeed.md); it is not part of ``sched_cli`` and imports nothing from it. One JSON
request on stdin, one line of JSON on stdout; whatever the libraries print goes to stderr.

    python tools/deepspeed_oracle.py < request.json

Request: ``{"cases": [case, ...]}``. A case is ``{"config": ds_config, "lr": optimizer LR or null,
"updates": N, "skipped": [update indices]}``; with ``"hf": TrainingArguments fields`` and
``"max_steps"`` (the Trainer's num_training_steps) and ``"world_size"``, the config first goes
through ``transformers.integrations.deepspeed.HfTrainerDeepSpeedConfig`` exactly as the Trainer
drives it (``trainer_config_process`` on ``TrainingArguments``, ``trainer_config_finalize`` with
``num_training_steps``), and the optimizer's LR is then ``optimizer.params.lr`` of the filled
config, or ``learning_rate`` without an optimizer block (HF's own AdamW).

The schedule is replayed as ``DeepSpeedEngine`` replays it without a GPU: the scheduler is built
as ``_scheduler_from_config`` builds it (``deepspeed.runtime.lr_schedules.<type>`` if it is one of
DeepSpeed's, else ``torch.optim.lr_scheduler.<type>``) on a real torch optimizer whose LR is the
optimizer's; for each update the LR in the param group is recorded (what ``optimizer.step()`` uses),
then ``lr_scheduler.step()`` is called unless the update is in ``skipped`` (the engine's
``_take_model_step`` skips it after an fp16 overflow).

File mode: ``{"file": path, "updates": N}`` reads a ``ds_config.json`` as ``DeepSpeedConfig`` does
(``json.load`` refusing duplicate keys) and replays it at its ``optimizer.params.lr``; a config without a
``scheduler`` block keeps that LR (the engine's ``lr_scheduler`` is ``None`` without a client one).

Answer: ``{"results": [...]}``, per case ``{"lrs": [...]}`` (plus ``"filled"``: the config after
HF's filling) or ``{"error": "Type: message"}``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from typing import Any

os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("DS_ACCELERATOR", "cpu")


def _error(exc: BaseException) -> dict[str, str]:
    return {"error": f"{type(exc).__name__}: {exc}"}


def _scheduler(optimizer: Any, config: dict[str, Any]) -> Any:
    """``DeepSpeedEngine._scheduler_from_config``: DeepSpeed's class by name, else torch's."""
    import torch
    from deepspeed.runtime import lr_schedules

    block = config["scheduler"]
    name, params = block["type"], block.get("params", {})
    if hasattr(lr_schedules, name):
        return getattr(lr_schedules, name)(optimizer, **params)
    return getattr(torch.optim.lr_scheduler, name)(optimizer, **params)


def _replay(config: dict[str, Any], lr: float, updates: int, skipped: set[int]) -> list[float]:
    import torch

    weight = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.AdamW([weight], lr=lr)
    # Without a scheduler block (and no client scheduler) the engine's lr_scheduler is None: nothing steps.
    scheduler = _scheduler(optimizer, config) if "scheduler" in config else None
    lrs = []
    for k in range(updates):
        lrs.append(float(optimizer.param_groups[0]["lr"]))
        optimizer.step()  # the engine's _take_model_step: the optimizer first, then the scheduler
        if scheduler is not None and k not in skipped:
            scheduler.step()
    return lrs


def _file_case(case: dict[str, Any]) -> dict[str, Any]:
    """File mode: the config file read as ``DeepSpeedConfig`` reads it (duplicate keys refused), the
    optimizer built at its ``optimizer.params.lr``, replayed over ``updates``."""
    from deepspeed.runtime.config_utils import dict_raise_error_on_duplicate_keys

    with open(case["file"], encoding="utf-8") as handle:
        config = json.load(handle, object_pairs_hook=dict_raise_error_on_duplicate_keys)
    lr = config.get("optimizer", {}).get("params", {}).get("lr")
    if lr is None:
        raise ValueError("the config has no optimizer.params.lr: the client's optimizer decides the LR")
    return {"lrs": _replay(config, float(lr), case["updates"], set(case.get("skipped", ())))}


def _hf_fill(case: dict[str, Any]) -> tuple[dict[str, Any], float]:
    """The DeepSpeed config after Hugging Face fills and checks it, and the optimizer's LR."""
    from transformers.integrations.deepspeed import HfTrainerDeepSpeedConfig

    class _Args:  # the TrainingArguments fields trainer_config_process and get_warmup_steps read
        def __init__(self, fields: dict[str, Any], world_size: int) -> None:
            from transformers import TrainingArguments

            defaults = {
                f.name: f.default
                for f in TrainingArguments.__dataclass_fields__.values()
                if f.default is not f.default_factory
            }
            self.__dict__.update(defaults)
            self.__dict__.update(fields)
            self.world_size = world_size
            self.save_on_each_node = False

        def get_warmup_steps(self, num_training_steps: int) -> int:
            from transformers import TrainingArguments

            return TrainingArguments.get_warmup_steps(self, num_training_steps)

    args = _Args(case["hf"], case.get("world_size", 1))
    hf_config = HfTrainerDeepSpeedConfig(json.loads(json.dumps(case["config"])))
    hf_config.trainer_config_process(args)
    hf_config.trainer_config_finalize(args, None, case["max_steps"])
    filled = hf_config.config
    lr = filled.get("optimizer", {}).get("params", {}).get("lr") if "optimizer" in filled else args.learning_rate
    return filled, float(lr)


def _answer(case: dict[str, Any]) -> dict[str, Any]:
    try:
        if "file" in case:
            return _file_case(case)
        config, lr = case["config"], case.get("lr")
        out: dict[str, Any] = {}
        if "hf" in case:
            config, lr = _hf_fill(case)
            out["filled"] = config
        if "scheduler" not in config:  # HF's own scheduler is in force: nothing of DeepSpeed's to replay
            out["lrs"] = None
            return out
        out["lrs"] = _replay(config, 1.0 if lr is None else lr, case["updates"], set(case.get("skipped", ())))
        return out
    except Exception as exc:  # noqa: BLE001 - every library error is an answer
        return _error(exc)


def main() -> None:
    request = json.load(sys.stdin)
    logging.disable(logging.WARNING)
    with contextlib.redirect_stdout(sys.stderr):
        import deepspeed.runtime.lr_schedules  # noqa: F401

        results = [_answer(case) for case in request["cases"]]
    print(json.dumps({"results": results}))


if __name__ == "__main__":
    main()
