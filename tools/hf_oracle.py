"""Ask the real Hugging Face ``transformers`` Trainer for the LR of every optimizer update, as JSON.

Run it with a Python that has transformers, accelerate and torch (``tools/envs/hf.sh`` builds
one; see docs/hf.md); it is not part of ``sched_cli`` and imports nothing from it. One
JSON request on stdin, one line of JSON on stdout; whatever the libraries print goes to stderr.

    python tools/hf_oracle.py < request.json

Request: ``{"cases": [case, ...]}``; a case has ``args`` (``TrainingArguments`` fields, as a
JSON/YAML file would hold them), ``dataset_size`` and ``devices`` (the world size), and ``mode``:
(file mode: with ``"only_known": true``, ``args`` may be a whole recipe file of a tool built on
``TrainingArguments`` (TRL, LLaMA-Factory): keys that are not ``TrainingArguments`` fields are left
out, as the tool's own parser hands them to its other dataclasses, and named in the answer's
``ignored``; a transformers 4.x ``warmup_ratio`` becomes 5.x's ``warmup_steps`` below 1 when
``warmup_steps`` is 0, the rule that gives the same warmup, ``ceil(ratio x max_steps)``; keys for
the hardware and the Hub (``bf16``, ``fp16``, ``tf32``, ``push_to_hub``, ``hub_*``), which a CPU
without network cannot honour and the schedule does not read, are left out too)

- ``"trainer"`` (``devices`` must be 1): a real ``Trainer`` trains a one-weight model on CPU over
  a dataset of ``dataset_size`` rows. A callback records, at every ``on_optimizer_step`` (after
  ``optimizer.step()``, before ``lr_scheduler.step()``), the LR in the optimizer's param group,
  ``global_step`` and the samples the model has seen so far.
- ``"steps"``: HF's own step-count and scheduler code for rank 0 of ``devices`` ranks, without
  training: the train ``DataLoader`` Trainer builds, sharded by ``accelerate``'s
  ``prepare_data_loader(num_processes=W, process_index=0)``; ``Trainer.set_initial_training_values``
  on it; ``get_scheduler`` with ``args.get_warmup_steps``, stepped ``max_steps`` times on a real
  optimizer. Every rank's loader is iterated over one epoch to count the samples each micro-batch
  round holds across ranks.

Answer: ``{"results": [...]}``, per case ``{"lrs": [...], "max_steps": int,
"updates_per_epoch": int, "samples": [...]}`` (``samples``: before each update; in ``steps``
mode for the first epoch only) or ``{"error": "Type: message"}``.
"""

from __future__ import annotations

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


def _error(exc: BaseException) -> dict[str, str]:
    return {"error": f"{type(exc).__name__}: {exc}"}


class _Rows:
    """A map-style dataset of ``n`` one-number rows."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> dict[str, Any]:
        import torch

        return {"x": torch.tensor([float(i % 7)]), "labels": torch.tensor([1.0])}


def _model() -> Any:
    import torch

    class Tiny(torch.nn.Module):
        """One weight; counts the samples it is fed."""

        def __init__(self) -> None:
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))
            self.seen = 0

        def forward(self, x: Any, labels: Any = None) -> dict[str, Any]:
            self.seen += int(x.shape[0])
            loss = ((x[:, 0] * self.w - labels[:, 0]) ** 2).mean()
            return {"loss": loss}

    return Tiny()


def _known_fields(fields: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The keys of a recipe file that are ``TrainingArguments`` fields, and the others."""
    import dataclasses

    from transformers import TrainingArguments

    names = {f.name for f in dataclasses.fields(TrainingArguments)}
    names -= {"bf16", "fp16", "tf32", "push_to_hub"} | {n for n in names if n.startswith("hub_")}
    fields = dict(fields)
    if "warmup_ratio" not in names and fields.get("warmup_ratio") and not fields.get("warmup_steps"):
        fields["warmup_steps"] = fields["warmup_ratio"]
    return {k: v for k, v in fields.items() if k in names}, sorted(k for k in fields if k not in names)


def _training_args(fields: dict[str, Any], out: str) -> Any:
    from transformers import HfArgumentParser, TrainingArguments

    fixed = {
        "output_dir": out,
        "report_to": "none",
        "save_strategy": "no",
        "logging_strategy": "no",
        "eval_strategy": "no",
        "disable_tqdm": True,
        "use_cpu": True,
        "optim": "sgd",  # the schedule does not depend on the optimizer; SGD is cheap
        "dataloader_num_workers": 0,
        "seed": 0,
    }
    (args,) = HfArgumentParser(TrainingArguments).parse_dict({**fields, **fixed})
    return args


def _trainer_case(case: dict[str, Any], out: str) -> dict[str, Any]:
    from transformers import Trainer, TrainerCallback

    if case.get("devices", 1) != 1:
        raise ValueError("trainer mode runs on one process: devices must be 1")
    args = _training_args(case["args"], out)
    model = _model()
    rows: list[tuple[int, float, int]] = []

    class Record(TrainerCallback):
        def on_optimizer_step(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            optimizer = kwargs["optimizer"]
            rows.append((state.global_step, float(optimizer.param_groups[0]["lr"]), model.seen))

    trainer = Trainer(model=model, args=args, train_dataset=_Rows(case["dataset_size"]), callbacks=[Record()])
    trainer.train()
    steps = [r[0] for r in rows]
    if steps != list(range(len(rows))):
        raise RuntimeError(f"global_step did not count 0, 1, ...: {steps[:10]}")
    seen_before = [0] + [r[2] for r in rows[:-1]]
    return {
        "lrs": [r[1] for r in rows],
        "samples": seen_before,
        "max_steps": trainer.state.max_steps,
        "updates_per_epoch": None,
    }


_TRAINER: Any = None


def _steps_case(case: dict[str, Any], out: str) -> dict[str, Any]:
    import torch
    from accelerate.data_loader import prepare_data_loader
    from torch.utils.data import DataLoader
    from transformers import Trainer
    from transformers.optimization import get_scheduler

    global _TRAINER
    args = _training_args(case["args"], out)
    devices = int(case.get("devices", 1))
    n = int(case["dataset_size"])
    if _TRAINER is None:
        _TRAINER = Trainer(model=_model(), args=args, train_dataset=_Rows(1))
    trainer = _TRAINER
    trainer.args = args

    def loader(rank: int) -> Any:
        base = DataLoader(range(n), batch_size=args.per_device_train_batch_size, drop_last=args.dataloader_drop_last)
        if devices == 1:
            return base
        return prepare_data_loader(base, num_processes=devices, process_index=rank, even_batches=True)

    rank0 = loader(0)
    values = trainer.set_initial_training_values(args, rank0)
    num_update_steps_per_epoch, steps_in_epoch, max_steps = values[1], values[5], values[6]

    # The micro-batches of one epoch across ranks, grouped into updates as Trainer._run_epoch does.
    # Iterating the batch samplers (not the loaders) gives the same index lists, without collation.
    per_rank = [[len(batch) for batch in loader(r).batch_sampler] for r in range(devices)]
    if any(len(sizes) != steps_in_epoch for sizes in per_rank):
        raise RuntimeError(f"ranks see {[len(s) for s in per_rank]} micro-batches, rank 0 counts {steps_in_epoch}")
    rounds = [sum(sizes[j] for sizes in per_rank) for j in range(steps_in_epoch)]
    g = args.gradient_accumulation_steps
    remainder = steps_in_epoch % g or g
    samples, consumed, start = [], 0, 0
    for update in range(num_update_steps_per_epoch):
        take = g if update != num_update_steps_per_epoch - 1 else remainder
        samples.append(consumed)
        consumed += sum(rounds[start : start + take])
        start += take

    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=args.learning_rate)
    scheduler = get_scheduler(
        args.lr_scheduler_type,
        optimizer=optimizer,
        num_warmup_steps=args.get_warmup_steps(max_steps),
        num_training_steps=max_steps,
        scheduler_specific_kwargs=args.lr_scheduler_kwargs,
    )
    lrs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "scheduler.step() before optimizer.step()"
        for _ in range(max_steps):
            lrs.append(float(optimizer.param_groups[0]["lr"]))
            optimizer.step()
            scheduler.step()
    return {"lrs": lrs, "samples": samples, "max_steps": max_steps, "updates_per_epoch": num_update_steps_per_epoch}


def main() -> None:
    request = json.load(sys.stdin)
    logging.disable(logging.WARNING)
    results = []
    with tempfile.TemporaryDirectory() as out, contextlib.redirect_stdout(sys.stderr):
        for case in request["cases"]:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    run = _trainer_case if case.get("mode") == "trainer" else _steps_case
                    ignored: list[str] = []
                    if case.get("only_known"):
                        known, ignored = _known_fields(case["args"])
                        case = {**case, "args": known}
                    results.append({**run(case, out), **({"ignored": ignored} if ignored else {})})
            except Exception as exc:  # noqa: BLE001 - every failure is an answer
                results.append(_error(exc))
    sys.stdout.write(json.dumps({"results": results}) + "\n")


if __name__ == "__main__":
    main()
