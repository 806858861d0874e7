"""Ask the real LLaMA-Factory (and the Hugging Face Trainer under it) for the LR of every optimizer update, as JSON.

Run it with a Python that has llamafactory, transformers, accelerate and torch
(``tools/envs/llamafactory.sh`` builds one; see docs/llamafactory.md); it is not part of
``sched_cli`` and imports nothing from it. One JSON request on stdin, one line of JSON on stdout.

    python tools/llamafactory_oracle.py < request.json

Request: ``{"cases": [case, ...]}``; a case has ``args`` (a LLaMA-Factory training YAML's keys, one
dataset), ``dataset_size`` (the examples that dataset loads) and ``devices`` (the world size). Per case:

- ``max_samples``: ``dataset.select(range(min(max_samples, len(dataset))))``, the line of
  ``llamafactory/data/loader.py`` (its loader needs the data files themselves);
- LLaMA-Factory's ``split_dataset`` (``val_size``) on a real ``datasets.Dataset`` of that many rows
  (``llamafactory.data``'s package init, which loads the multimodal plugins, is skipped);
- LLaMA-Factory's ``TrainingArguments`` (its ``Seq2SeqTrainingArguments``) from the file's keys
  (``warmup_ratio``, gone from transformers 5.24, passed as the ratio ``warmup_steps`` it equals);
  Hugging Face's ``Trainer.set_initial_training_values`` on rank 0's loader of the training split
  (``accelerate.prepare_data_loader`` over ``devices`` ranks), as ``tools/hf_oracle.py`` does;
- what LLaMA-Factory's trainers' ``create_scheduler`` does: ``create_custom_scheduler`` (its
  ``warmup_stable_decay`` defaults), then ``Trainer.create_scheduler``, stepped ``max_steps`` times
  on a real optimizer, the LR of update ``k`` read before the ``k``-th step.

Answer: ``{"results": [...]}``, per case ``{"lrs": [...], "max_steps": int, "train_samples": int}``
or ``{"error": "Type: message"}``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import os
import sys
import tempfile
import types
import warnings
from typing import Any

os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("ACCELERATE_USE_CPU", "1")
# LLaMA-Factory 0.9.5 checks for transformers <= 5.6 at import; the env pins tools/envs/hf.sh's release.
os.environ.setdefault("DISABLE_VERSION_CHECK", "1")

#: The Hugging Face keys LLaMA-Factory passes to its TrainingArguments.
_HF = (
    "learning_rate",
    "lr_scheduler_type",
    "lr_scheduler_kwargs",
    "warmup_steps",
    "warmup_ratio",
    "num_train_epochs",
    "max_steps",
    "per_device_train_batch_size",
    "gradient_accumulation_steps",
    "dataloader_drop_last",
)
_TRAINER: Any = None


def _split_dataset() -> Any:
    """``llamafactory.data.data_utils.split_dataset``, without running ``llamafactory.data``'s init."""
    spec = importlib.util.find_spec("llamafactory")
    assert spec is not None and spec.submodule_search_locations
    package = types.ModuleType("llamafactory.data")
    package.__path__ = [os.path.join(list(spec.submodule_search_locations)[0], "data")]
    sys.modules.setdefault("llamafactory.data", package)
    from llamafactory.data.data_utils import split_dataset

    return split_dataset


def _trainer(args: Any) -> Any:
    import torch
    from transformers import Trainer

    global _TRAINER
    if _TRAINER is None:

        class One(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.w = torch.nn.Parameter(torch.zeros(1))

            def forward(self, x: Any = None, labels: Any = None) -> Any:
                return {"loss": (self.w - 1.0).pow(2).sum()}

        _TRAINER = Trainer(model=One(), args=args, train_dataset=[{"x": 0}])
    _TRAINER.args = args
    _TRAINER.lr_scheduler = None
    return _TRAINER


def _case(case: dict[str, Any], out: str, split_dataset: Any) -> dict[str, Any]:
    import datasets
    import torch
    from accelerate.data_loader import prepare_data_loader
    from llamafactory.hparams.data_args import DataArguments
    from llamafactory.hparams.training_args import TrainingArguments
    from llamafactory.train.trainer_utils import create_custom_scheduler
    from torch.utils.data import DataLoader

    raw = case["args"]
    if not raw.get("do_train"):  # run_pt / run_sft / ...: `if training_args.do_train:` is where training happens
        raise ValueError("do_train is not true: LLaMA-Factory's workflow does not train with this file")
    n = int(case["dataset_size"])
    if raw.get("max_samples") is not None:
        n = min(raw["max_samples"], n)
    data_args = DataArguments(dataset=raw.get("dataset"), val_size=raw.get("val_size", 0.0))
    train_dict, _ = split_dataset(datasets.Dataset.from_dict({"x": list(range(n))}), None, data_args, seed=42)
    n_train = len(train_dict["train"])
    fields = {k: raw[k] for k in _HF if k in raw}
    if "warmup_ratio" in fields:
        # transformers 5.24 has no warmup_ratio; a warmup_steps below 1 is the same ratio of the run
        # (ceil(T x ratio)), as 4.x computed warmup_ratio when warmup_steps was 0.
        ratio = fields.pop("warmup_ratio")
        if not fields.get("warmup_steps"):
            fields["warmup_steps"] = ratio
    args = TrainingArguments(output_dir=out, report_to="none", use_cpu=True, **fields)
    devices = int(case["devices"])
    base = DataLoader(range(n_train), batch_size=args.per_device_train_batch_size, drop_last=args.dataloader_drop_last)
    loader = base if devices == 1 else prepare_data_loader(base, num_processes=devices, process_index=0)
    trainer = _trainer(args)
    max_steps = trainer.set_initial_training_values(args, loader)[6]
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=args.learning_rate)
    create_custom_scheduler(args, max_steps, optimizer)
    scheduler = trainer.create_scheduler(max_steps, optimizer)
    lrs = []
    for _ in range(max_steps):
        lrs.append(float(optimizer.param_groups[0]["lr"]))
        optimizer.step()
        scheduler.step()
    return {"lrs": lrs, "max_steps": max_steps, "train_samples": n_train}


def main() -> None:
    request = json.load(sys.stdin)
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    split_dataset = _split_dataset()
    results = []
    with tempfile.TemporaryDirectory() as out, contextlib.redirect_stdout(sys.stderr):
        for case in request["cases"]:
            try:
                results.append(_case(case, out, split_dataset))
            except Exception as exc:  # noqa: BLE001 - every failure is an answer
                results.append({"error": f"{type(exc).__name__}: {exc}"})
    print(json.dumps({"results": results}))


if __name__ == "__main__":
    main()
