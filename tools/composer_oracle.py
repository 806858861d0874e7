"""Ask the real Composer for scheduler alphas and Trainer learning rates, as JSON.

Run it with a Python that can ``import composer`` (see docs/composer.md); it is not
part of ``sched_cli`` and imports nothing from it. One JSON request on stdin (or ``--in F``),
one line of JSON on stdout; anything Composer or torch prints goes to stderr.

    python tools/composer_oracle.py alpha   < request.json
    python tools/composer_oracle.py trainer < request.json
    python tools/composer_oracle.py resume  < request.json

``alpha``: ``{"cases": [case, ...]}``. Each case names a scheduler class of
``composer.optim.scheduler`` with its keyword arguments, a ``max_duration`` string, a
``dataloader_len`` (int or null), an ``ssr`` and a list of ``timestamps`` (dicts of
``Timestamp`` fields). With ``"scale_max_duration": true`` the max_duration is first scaled by
ssr the way the Trainer does (``Time * ssr``). The answer is ``{"results": [...]}``: per case
``{"max_duration": str, "alphas": [...], "warnings": [[...], ...]}``, where each alpha is a
float or ``{"error": "Type: message"}``, and ``warnings`` holds the warning messages of each
call.

``trainer``: ``{"runs": [config, ...]}`` (or one bare config). A config has ``schedulers``
(a list of ``{"scheduler": name, "kwargs": {...}}``), ``max_duration``, ``dataloader_len``,
``batch_size``, ``seq_len``, ``ssr``, ``step_every`` (``"batch"`` or ``"epoch"``) and ``lr``.
A real ``Trainer`` trains a one-layer model on CPU with SGD; a callback records, at every
``BATCH_START``, the timestamp and the learning rate the batch's optimizer step uses. The answer
is ``{"runs": [{"rows": [...], "info": {...}} | {"error": "Type: message"}, ...]}``. A config may
give ``dataset_size`` (samples) instead of ``dataloader_len``: the loader then has
``ceil(dataset_size / batch_size)`` batches, the last one short when it does not divide (or
dropped, with ``"drop_last": true``).

``resume``: ``{"runs": [{"before": config, "after": config, "at": "Kba" | "Kep"}, ...]}``. The
``before`` run trains in full with a ``CheckpointSaver(save_interval=at)``; the checkpoint whose
timestamp is the first multiple of ``at`` is then loaded by a second ``Trainer(load_path=...)``
built from ``after``, which trains to its own ``max_duration``. The answer per run is
``{"before": {"rows": ...}, "after": {"rows": ..., "info": ...} | {"error": ...},
"checkpoint": file name, "loaded_timestamp": {...}, "loaded_lr": float, "loaded_base_lrs": [...]}``:
``loaded_lr`` is what the optimizer holds right after loading, before any batch.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
import warnings
from types import SimpleNamespace
from typing import Any

os.environ.setdefault("TQDM_DISABLE", "1")


def _error(exc: BaseException) -> dict[str, str]:
    return {"error": f"{type(exc).__name__}: {exc}"}


def _scheduler(spec: dict[str, Any]) -> Any:
    from composer.optim import scheduler as module

    name = spec["scheduler"]
    cls = getattr(module, name, None)
    if not isinstance(cls, type) or name.startswith("_"):
        raise ValueError(f"unknown scheduler {name!r}")
    return cls(**spec.get("kwargs", {}))


# -- alpha mode -------------------------------------------------------------------------------
def _alpha_case(case: dict[str, Any]) -> dict[str, Any]:
    from composer.core import Time, Timestamp

    ssr = float(case.get("ssr", 1.0))
    n = len(case["timestamps"])
    try:
        max_duration = Time.from_timestring(case["max_duration"])
        if case.get("scale_max_duration", False):
            max_duration = max_duration * ssr
        scheduler = _scheduler(case)
    except Exception as exc:  # noqa: BLE001 - every failure is an answer
        return {"max_duration": None, "alphas": [_error(exc)] * n, "warnings": [[] for _ in range(n)]}
    dataloader_len = case.get("dataloader_len")
    state = SimpleNamespace(
        max_duration=max_duration,
        dataloader_len=None if dataloader_len is None else Time(int(dataloader_len), "ba"),
        timestamp=Timestamp(),
    )
    alphas: list[Any] = []
    caught: list[list[str]] = []
    for fields in case["timestamps"]:
        state.timestamp = Timestamp(**fields)
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            try:
                alphas.append(float(scheduler(state, ssr)))
            except Exception as exc:  # noqa: BLE001
                alphas.append(_error(exc))
        caught.append([str(w.message) for w in seen])
    return {"max_duration": str(max_duration), "alphas": alphas, "warnings": caught}


def run_alpha(request: dict[str, Any]) -> dict[str, Any]:
    return {"results": [_alpha_case(case) for case in request["cases"]]}


# -- trainer mode -----------------------------------------------------------------------------
def _trainer(config: dict[str, Any], **extra: Any) -> tuple[Any, Any]:
    """A real Trainer for ``config`` on CPU, and the callback recording each batch's LR."""
    import torch
    from composer import Trainer
    from composer.core import Callback, DataSpec
    from composer.models import ComposerModel

    batch_size = int(config.get("batch_size", 1))
    seq_len = int(config.get("seq_len", 1))
    lr = float(config.get("lr", 1.0))
    if config.get("dataset_size") is not None:
        n = int(config["dataset_size"])
    else:
        n = int(config["dataloader_len"]) * batch_size

    class TinyModel(ComposerModel):
        def __init__(self) -> None:
            super().__init__()
            self.linear = torch.nn.Linear(4, 1)

        def forward(self, batch: Any) -> Any:
            return self.linear(batch[0])

        def loss(self, outputs: Any, batch: Any, *args: Any, **kwargs: Any) -> Any:
            return torch.nn.functional.mse_loss(outputs, batch[1])

    class RecordLR(Callback):
        def __init__(self) -> None:
            self.rows: list[dict[str, Any]] = []

        def batch_start(self, state: Any, logger: Any) -> None:
            ts = state.timestamp
            self.rows.append(
                {
                    "epoch": int(ts.epoch),
                    "batch": int(ts.batch),
                    "sample": int(ts.sample),
                    "token": int(ts.token),
                    "batch_in_epoch": int(ts.batch_in_epoch),
                    "lr": float(state.optimizers[0].param_groups[0]["lr"]),
                }
            )

    generator = torch.Generator().manual_seed(0)
    # The loader a real run builds: Composer's DistributedSampler (world size 1 here) and a
    # DataLoader, both with drop_last; with dataset_size the last batch may be short.
    drop_last = bool(config.get("drop_last", False))
    dataset = torch.utils.data.TensorDataset(
        torch.randn(n, 4, generator=generator), torch.randn(n, 1, generator=generator)
    )
    from composer.utils import dist

    sampler = dist.get_sampler(dataset, drop_last=drop_last, shuffle=False)
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, sampler=sampler, drop_last=drop_last)
    data = DataSpec(loader, get_num_tokens_in_batch=lambda batch: len(batch[0]) * seq_len)
    model = TinyModel()
    recorder = RecordLR()
    trainer = Trainer(
        model=model,
        train_dataloader=data,
        max_duration=config["max_duration"],
        optimizers=torch.optim.SGD(model.parameters(), lr=lr),
        schedulers=[_scheduler(s) for s in config["schedulers"]],
        scale_schedule_ratio=float(config.get("ssr", 1.0)),
        step_schedulers_every_batch=config.get("step_every", "batch") == "batch",
        callbacks=[recorder],
        loggers=[],
        progress_bar=False,
        log_to_console=False,
        device="cpu",
        precision="fp32",
        seed=0,
        **extra,
    )
    return trainer, recorder


def _fit(trainer: Any, recorder: Any) -> dict[str, Any]:
    start = time.perf_counter()
    trainer.fit()
    seconds = time.perf_counter() - start
    state = trainer.state
    final = state.timestamp
    info = {
        "max_duration_after_ssr": str(state.max_duration),
        "dataloader_len": None if state.dataloader_len is None else int(state.dataloader_len),
        "final_timestamp": {k: int(getattr(final, k)) for k in ("epoch", "batch", "sample", "token")},
        "final_lr": float(state.optimizers[0].param_groups[0]["lr"]),
        "seconds": seconds,
    }
    return {"rows": recorder.rows, "info": info}


def _train(config: dict[str, Any]) -> dict[str, Any]:
    trainer, recorder = _trainer(config)
    try:
        return _fit(trainer, recorder)
    finally:
        trainer.close()


_TIMESTAMP_FIELDS = ("epoch", "batch", "sample", "token", "batch_in_epoch", "sample_in_epoch", "token_in_epoch")


def _resume(request: dict[str, Any]) -> dict[str, Any]:
    import glob
    import tempfile

    from composer.core import Time

    at = Time.from_timestring(request["at"])
    with tempfile.TemporaryDirectory() as folder:
        trainer, recorder = _trainer(
            request["before"],
            save_folder=folder,
            save_interval=request["at"],
            save_filename="ep{epoch}-ba{batch}.pt",
            save_latest_filename=None,
            save_overwrite=True,
        )
        try:
            before = _fit(trainer, recorder)
        finally:
            trainer.close()
        # The first checkpoint the interval produced: batch (or epoch) `at`.
        found = {}
        for path in glob.glob(f"{folder}/ep*-ba*.pt"):
            name = path.rsplit("/", 1)[1][:-3]
            epoch, batch = (int(part[2:]) for part in name.split("-"))
            found[(epoch, batch)] = path
        if at.unit.value == "ba":
            wanted = [k for k in found if k[1] == at.value]
        elif at.unit.value == "ep":
            wanted = [k for k in found if k[0] == at.value]
        else:  # sp, tok, dur: the first multiple the interval reached
            wanted = list(found)
        if not wanted:
            raise RuntimeError(f"no checkpoint at {at}: found {sorted(found)}")
        path = found[min(wanted, key=lambda k: k[1])]
        answer: dict[str, Any] = {"before": before, "checkpoint": path.rsplit("/", 1)[1]}
        try:
            trainer, recorder = _trainer(request["after"], load_path=path)
        except Exception as exc:  # noqa: BLE001 - the Trainer refusing is an answer
            answer["after"] = _error(exc)
            return answer
        try:
            state = trainer.state
            answer["loaded_lr"] = float(state.optimizers[0].param_groups[0]["lr"])
            answer["loaded_base_lrs"] = [float(s.base_lrs[0]) for s in state.schedulers]
            answer["loaded_timestamp"] = {k: int(getattr(state.timestamp, k)) for k in _TIMESTAMP_FIELDS}
            try:
                answer["after"] = _fit(trainer, recorder)
            except Exception as exc:  # noqa: BLE001
                answer["after"] = _error(exc)
                answer["after_rows"] = recorder.rows
        finally:
            trainer.close()
    return answer


def run_resume(request: dict[str, Any]) -> dict[str, Any]:
    import torch

    torch.set_num_threads(1)
    answers = []
    for config in request["runs"]:
        try:
            answers.append(_resume(config))
        except Exception as exc:  # noqa: BLE001
            answers.append(_error(exc))
    return {"runs": answers}


def run_trainer(request: dict[str, Any]) -> dict[str, Any]:
    import torch

    torch.set_num_threads(1)
    configs = request["runs"] if "runs" in request else [request]
    answers = []
    for config in configs:
        try:
            answers.append(_train(config))
        except Exception as exc:  # noqa: BLE001
            answers.append(_error(exc))
    return {"runs": answers}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("alpha", "trainer", "resume"))
    parser.add_argument("--in", dest="infile", help="read the request from this file instead of stdin")
    args = parser.parse_args(argv)
    if args.infile:
        with open(args.infile, encoding="utf-8") as f:
            request = json.load(f)
    else:
        request = json.load(sys.stdin)

    import logging

    logging.disable(logging.CRITICAL)
    out = sys.stdout
    try:
        # Composer and torch may print; keep stdout for the one line of JSON.
        with contextlib.redirect_stdout(sys.stderr), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            answer = {"alpha": run_alpha, "trainer": run_trainer, "resume": run_resume}[args.mode](request)
    except Exception as exc:  # noqa: BLE001
        out.write(json.dumps(_error(exc)) + "\n")
        return 1
    out.write(json.dumps(answer) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
