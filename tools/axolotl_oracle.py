"""Ask the real axolotl (and the Hugging Face code under it) for the LR of every optimizer update, as JSON.

Run it with a Python that has axolotl, transformers and torch (``tools/envs/axolotl.sh`` builds one;
see docs/axolotl.md); it is not part of ``sched_cli`` and imports nothing from it. One JSON request
on stdin, one line of JSON on stdout; whatever the libraries print goes to stderr.

    python tools/axolotl_oracle.py < request.json

Request: ``{"cases": [case, ...]}``; a case has ``cfg`` (axolotl config keys, as a YAML file holds
them), ``dataset_size`` (tokenized samples before the eval split) and ``devices`` (the world size).
Per case, axolotl's own code does each step it does in a run:

- ``validate_config`` (its schema and defaults) and ``normalize_config`` with ``WORLD_SIZE`` set
  (the batch size across devices), stopped where it would download the model's config;
- a ``streaming`` or ``pretraining_dataset`` run: ``max_steps``, as ``_prepare_streaming_dataset`` returns it;
  else ``_handle_train_dataset_split`` on a real ``datasets.Dataset`` of ``dataset_size`` rows (the
  ``val_set_size`` split), then ``calculate_total_num_steps`` on the training split (and the
  ``min(..., max_steps)`` of ``prepare_datasets``; preference runs, ``rl:``, count without it, as
  ``load_preference_datasets`` does);
- ``TrainerBuilderBase._set_base_training_args`` (its warmup defaults, ``max_steps`` and
  ``_configure_scheduler``), run from the installed module's source text: importing the builders
  pulls in every trainer integration, so only these methods are compiled, on a builder whose other
  ``_configure_*`` helpers (precision, saving, logging, the optimizer) do nothing;
- ``AxolotlTrainingArguments`` from those keyword arguments, and ``SchedulerMixin.create_scheduler``
  (axolotl's choice among HF's, ``OneCycleLR``, ``RexLR``, its cosines, jagged restarts) on a real
  optimizer, stepped ``max_steps`` times as the Trainer does: the LR of update ``k`` is read before
  the scheduler's ``k``-th step.

Answer: ``{"results": [...]}``, per case ``{"lrs": [...], "max_steps": int, "total_num_steps": int,
"train_samples": int, "warmup_steps": float}`` or ``{"error": "Type: message"}``.
"""

from __future__ import annotations

import ast
import contextlib
import json
import logging
import os
import sys
import tempfile
import warnings
from typing import Any

os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("ACCELERATE_USE_CPU", "1")

#: The keys ``_set_base_training_args`` sets that change the schedule, and the scheduler switches
#: ``HFCausalTrainerBuilder`` adds; the rest (logging, saving...) is left out of the arguments.
_ARGS = (
    "learning_rate",
    "gradient_accumulation_steps",
    "per_device_train_batch_size",
    "max_steps",
    "num_train_epochs",
    "warmup_steps",
    "lr_scheduler_type",
    "alternate_lr_scheduler_type",
    "lr_scheduler_kwargs",
    "cosine_min_lr_ratio",
    "cosine_constant_lr_ratio",
)
_CAUSAL = ("lr_quadratic_warmup", "jagged_restart_steps", "jagged_restart_warmup_steps", "jagged_restart_anneal_steps")


class _Stop(Exception):
    """Raised where ``normalize_config`` would fetch the model's config from the Hub."""


def _builder_methods() -> dict[str, Any]:
    """``TrainerBuilderBase``'s warmup, scheduler and base-arguments methods, compiled from the
    installed ``axolotl/core/builders/base.py``."""
    import importlib.util

    spec = importlib.util.find_spec("axolotl")
    assert spec is not None and spec.submodule_search_locations
    path = os.path.join(list(spec.submodule_search_locations)[0], "core", "builders", "base.py")
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    wanted = ("_configure_warmup_and_logging", "_configure_scheduler", "_set_base_training_args")
    body = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "TrainerBuilderBase":
            body = [n for n in node.body if isinstance(n, ast.FunctionDef) and n.name in wanted]
    module = ast.Module(body=body, type_ignores=[])
    namespace: dict[str, Any] = {"Any": Any}
    exec(compile(module, path, "exec"), namespace)  # noqa: S102 - axolotl's own installed source
    return {name: namespace[name] for name in wanted}


class _Builder:
    """A builder with axolotl's real methods for the schedule and no-ops for everything else."""

    def __init__(self, cfg: Any, methods: dict[str, Any]) -> None:
        self.cfg = cfg
        self.methods = methods

    def __getattr__(self, name: str) -> Any:
        if name in self.methods:
            return self.methods[name].__get__(self)
        if name.startswith("_configure_"):
            return lambda *args, **kwargs: None
        raise AttributeError(name)


def _case(case: dict[str, Any], methods: dict[str, Any]) -> dict[str, Any]:
    import axolotl.utils.config as config_module
    import datasets
    import torch
    from axolotl.core.trainers.mixins.scheduler import SchedulerMixin
    from axolotl.core.training_args import AxolotlTrainingArguments
    from axolotl.utils.config import normalize_config, validate_config
    from axolotl.utils.data.sft import _handle_train_dataset_split
    from axolotl.utils.dict import DictDefault
    from axolotl.utils.trainer import calculate_total_num_steps

    os.environ["WORLD_SIZE"] = str(case["devices"])
    raw = {"base_model": "oracle/none", "datasets": [{"path": "oracle.jsonl", "type": "alpaca"}], **case["cfg"]}
    raw["output_dir"] = tempfile.mkdtemp(prefix="axolotl-oracle-")
    cfg = validate_config(DictDefault(raw))

    def stop(*args: Any, **kwargs: Any) -> None:
        raise _Stop

    config_module.load_model_config = stop
    with contextlib.suppress(_Stop):
        normalize_config(cfg)
    # Only normalize_config reads the world size here; TrainingArguments would start torch.distributed.
    del os.environ["WORLD_SIZE"]
    train = None
    if cfg.streaming or cfg.pretraining_dataset:
        # prepare_datasets' streaming path (_prepare_streaming_dataset): no count, max_steps or -1.
        total = cfg.max_steps if cfg.max_steps else -1
        if total < 1:
            raise ValueError("a streaming / pretraining dataset without max_steps: axolotl has no step count")
    else:
        dataset = datasets.Dataset.from_dict({"input_ids": [[1, 2]] * case["dataset_size"]})
        train, _ = _handle_train_dataset_split(dataset, cfg)
        # The token totals only matter with sample packing, which these cases do not use.
        cfg.total_num_tokens = cfg.total_supervised_tokens = 1
        total = calculate_total_num_steps(cfg, train)
        if cfg.max_steps and not cfg.rl:
            total = min(total, cfg.max_steps)

    kwargs, _ = methods["_set_base_training_args"].__get__(_Builder(cfg, methods))(total)
    for key in _CAUSAL:
        if cfg.get(key) is not None:
            kwargs[key] = cfg[key]
    args = AxolotlTrainingArguments(
        output_dir=cfg.output_dir, report_to="none", **{k: kwargs[k] for k in _ARGS + _CAUSAL if k in kwargs}
    )
    weight = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([weight], lr=args.learning_rate)
    trainer = object.__new__(type("OracleTrainer", (SchedulerMixin,), {}))
    trainer.args = args
    trainer.lr_scheduler = None
    trainer.optimizer = optimizer
    steps = args.max_steps
    scheduler = trainer.create_scheduler(steps, optimizer)
    lrs = []
    for _ in range(steps):
        lrs.append(float(optimizer.param_groups[0]["lr"]))
        optimizer.step()
        scheduler.step()
    return {
        "lrs": lrs,
        "max_steps": steps,
        "total_num_steps": total,
        "train_samples": None if train is None else len(train),
        "warmup_steps": args.warmup_steps,
    }


def main() -> None:
    request = json.load(sys.stdin)
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    methods = _builder_methods()
    results = []
    with contextlib.redirect_stdout(sys.stderr):
        for case in request["cases"]:
            try:
                results.append(_case(case, methods))
            except Exception as exc:  # noqa: BLE001 - every failure is an answer
                results.append({"error": f"{type(exc).__name__}: {exc}"})
    print(json.dumps({"results": results}))


if __name__ == "__main__":
    main()
