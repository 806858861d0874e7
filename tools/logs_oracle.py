"""Make real training logs with real trainers, for tests/test_against_logs.py.

Runs inside a reference environment (it cannot import sched): ``tools/envs/logs.sh`` (Hugging Face
Trainer, Lightning), ``tools/envs/mmengine.sh`` (MMEngine's Runner). Each trainer trains a tiny
model on random data for a few dozen updates, on the CPU, logging the LR at every update, and
writes its logs where it always does:

    python tools/logs_oracle.py hf OUTDIR < '{"args": {...TrainingArguments...}, "dataset_size": 96}'
    python tools/logs_oracle.py lightning OUTDIR < '{"scheduler": "OneCycleLR", "kwargs": {...}, ...}'
    python tools/logs_oracle.py mmengine OUTDIR < '{"param_scheduler": [...], "train_cfg": {...}, ...}'

It prints one JSON line: the LR each update trained with, read from the optimizer just before
its ``step()`` (the ground truth the logs are checked against).
"""

from __future__ import annotations

import json
import os
import sys


def _tiny_dataset(n: int, dim: int = 4):
    import torch

    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, dim, generator=g)
    y = torch.randn(n, 1, generator=g)
    return x, y


def run_hf(outdir: str, config: dict) -> list[float]:
    import torch
    from transformers import Trainer, TrainerCallback, TrainingArguments

    class Tiny(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear = torch.nn.Linear(4, 1)

        def forward(self, x, labels=None):
            out = self.linear(x)
            return {"loss": torch.nn.functional.mse_loss(out, labels), "logits": out}

    x, y = _tiny_dataset(config["dataset_size"])
    data = [{"x": x[i], "labels": y[i]} for i in range(len(x))]
    trained: list[float] = []

    class Record(TrainerCallback):
        def on_pre_optimizer_step(self, args, state, control, **kwargs):
            trained.append(float(kwargs["optimizer"].param_groups[0]["lr"]))

    args = {
        "output_dir": outdir,
        "report_to": ["tensorboard"],
        "logging_steps": 1,
        "save_strategy": "no",
        "use_cpu": True,
        "disable_tqdm": True,
        "seed": 0,
        **config["args"],
    }
    trainer = Trainer(model=Tiny(), args=TrainingArguments(**args), train_dataset=data, callbacks=[Record()])
    trainer.train()
    trainer.state.save_to_json(os.path.join(outdir, "trainer_state.json"))
    return trained


def run_lightning(outdir: str, config: dict) -> list[float]:
    import lightning as L
    import torch
    from lightning.pytorch.callbacks import LearningRateMonitor
    from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

    trained: list[float] = []

    class Tiny(L.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.linear = torch.nn.Linear(4, 1)

        def training_step(self, batch, batch_idx):
            x, y = batch
            return torch.nn.functional.mse_loss(self.linear(x), y)

        def on_before_optimizer_step(self, optimizer):
            trained.append(float(optimizer.param_groups[0]["lr"]))

        def configure_optimizers(self):
            optimizer = torch.optim.SGD(self.parameters(), lr=config["lr"])
            cls = getattr(torch.optim.lr_scheduler, config["scheduler"])
            scheduler = cls(optimizer, **config.get("kwargs", {}))
            return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    x, y = _tiny_dataset(config["dataset_size"])
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=config["batch_size"])
    trainer = L.Trainer(
        max_steps=config["max_steps"],
        accelerator="cpu",
        devices=1,
        logger=[CSVLogger(outdir, name="csv"), TensorBoardLogger(outdir, name="tb")],
        callbacks=[LearningRateMonitor(logging_interval="step")],
        log_every_n_steps=1,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(Tiny(), loader)
    return trained


def run_mmengine(outdir: str, config: dict) -> list[float]:
    import torch
    from mmengine.hooks import Hook
    from mmengine.model import BaseModel
    from mmengine.runner import Runner

    trained: list[float] = []

    class Tiny(BaseModel):
        def __init__(self) -> None:
            super().__init__()
            self.linear = torch.nn.Linear(4, 1)

        def forward(self, x, y, mode="loss"):
            return {"loss": torch.nn.functional.mse_loss(self.linear(x), y)}

    class Record(Hook):
        priority = "VERY_HIGH"

        def before_train_iter(self, runner, batch_idx, data_batch=None):
            trained.append(float(runner.optim_wrapper.optimizer.param_groups[0]["lr"]))

    x, y = _tiny_dataset(config["dataset_size"])
    dataset = [{"x": x[i], "y": y[i]} for i in range(len(x))]
    runner = Runner(
        model=Tiny(),
        work_dir=outdir,
        train_dataloader={
            "dataset": dataset,
            "sampler": {"type": "DefaultSampler", "shuffle": False},
            "batch_size": config["batch_size"],
            "collate_fn": {"type": "default_collate"},
        },
        optim_wrapper={"optimizer": {"type": "SGD", "lr": config["lr"]}},
        param_scheduler=config["param_scheduler"],
        train_cfg=config["train_cfg"],
        default_hooks={"logger": {"type": "LoggerHook", "interval": 1}, "checkpoint": None},
        custom_hooks=[Record()],
        visualizer={"type": "Visualizer", "vis_backends": [{"type": "LocalVisBackend"}]},
        log_level="WARNING",
    )
    runner.train()
    return trained


def run_composer(outdir: str, config: dict) -> list[float]:
    """A Composer ``Trainer`` with ``LRMonitor``, logging to TensorBoard (``TensorboardLogger``) and
    to a text file (``FileLogger``)."""
    import torch
    from composer import Trainer
    from composer.callbacks import LRMonitor
    from composer.core import Callback
    from composer.loggers import FileLogger, TensorboardLogger
    from composer.models import ComposerModel
    from composer.optim import scheduler as schedulers

    trained: list[float] = []

    class Tiny(ComposerModel):
        def __init__(self) -> None:
            super().__init__()
            self.linear = torch.nn.Linear(4, 1)

        def forward(self, batch):
            return self.linear(batch[0])

        def loss(self, outputs, batch, *args, **kwargs):
            return torch.nn.functional.mse_loss(outputs, batch[1])

    class Record(Callback):
        def before_train_batch(self, state, logger):
            trained.append(float(state.optimizers[0].param_groups[0]["lr"]))

    x, y = _tiny_dataset(config["dataset_size"])
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=config["batch_size"])
    model = Tiny()
    optimizer = getattr(torch.optim, config.get("optimizer", "SGD"))(model.parameters(), lr=config["lr"])
    trainer = Trainer(
        model=model,
        train_dataloader=loader,
        max_duration=config["max_duration"],
        optimizers=optimizer,
        schedulers=[getattr(schedulers, s["name"])(**s.get("kwargs", {})) for s in config["schedulers"]],
        callbacks=[LRMonitor(), Record()],
        loggers=[
            TensorboardLogger(log_dir=os.path.join(outdir, "tb"), flush_interval=1),
            FileLogger(filename=os.path.join(outdir, "log.txt"), flush_interval=1),
        ],
        progress_bar=False,
        log_to_console=False,
        device="cpu",
        precision="fp32",
        seed=0,
    )
    trainer.fit()
    trainer.close()
    return trained


def run_deepspeed(outdir: str, config: dict) -> list[float]:
    """A real DeepSpeed engine on the CPU (``DS_ACCELERATOR=cpu``, one process, gloo), its
    TensorBoard and CSV monitors on: ``engine.step()`` logs ``Train/Samples/lr`` against the samples
    seen, to OUTDIR/tb/ds/events.* and OUTDIR/csv/ds/Train_Samples_lr.csv."""
    os.environ.setdefault("DS_ACCELERATOR", "cpu")
    for key, value in (("MASTER_ADDR", "127.0.0.1"), ("RANK", "0"), ("WORLD_SIZE", "1"), ("LOCAL_RANK", "0")):
        os.environ.setdefault(key, value)
    os.environ.setdefault("MASTER_PORT", str(_free_port()))
    import deepspeed
    import torch

    ds_config = {
        **config["ds_config"],
        "tensorboard": {"enabled": True, "output_path": os.path.join(outdir, "tb"), "job_name": "ds"},
        "csv_monitor": {"enabled": True, "output_path": os.path.join(outdir, "csv"), "job_name": "ds"},
        "steps_per_print": 10**9,
    }
    deepspeed.init_distributed(dist_backend="gloo")
    model = torch.nn.Linear(4, 1)
    engine, optimizer, _, _ = deepspeed.initialize(model=model, model_parameters=model.parameters(), config=ds_config)
    micro = engine.train_micro_batch_size_per_gpu()
    x, y = _tiny_dataset(micro * engine.gradient_accumulation_steps() * config["updates"])
    trained: list[float] = []
    for i in range(0, len(x), micro):
        loss = torch.nn.functional.mse_loss(engine(x[i : i + micro]), y[i : i + micro])
        engine.backward(loss)
        if engine.is_gradient_accumulation_boundary():
            trained.append(float(optimizer.param_groups[0]["lr"]))
        engine.step()
    return trained


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_megatron(outdir: str, config: dict) -> list[float]:
    """Megatron-LM's TensorBoard LR tags, written as ``training_log`` writes them, from the real
    megatron-core ``OptimizerParamScheduler`` driven as ``train`` drives it (tools/megatron_oracle.py;
    Megatron-LM's training loop itself needs CUDA): after each iteration, when ``iteration %
    tensorboard_log_interval == 0``, ``learning-rate`` at the iteration and ``learning-rate vs
    samples`` at the consumed samples, both the LR after the scheduler stepped."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import megatron_oracle
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(log_dir=outdir)
    interval = int(config.get("tensorboard_log_interval", 1))

    def log(iteration: int, consumed: int, lr: float) -> None:
        if iteration % interval == 0:
            writer.add_scalar("learning-rate", lr, iteration)
            writer.add_scalar("learning-rate vs samples", lr, consumed)

    result = megatron_oracle.run_case(config["case"], log=log)
    writer.close()
    return result["lrs"]


def main() -> None:
    kind, outdir = sys.argv[1], sys.argv[2]
    config = json.load(sys.stdin)
    runners = {
        "hf": run_hf,
        "lightning": run_lightning,
        "mmengine": run_mmengine,
        "composer": run_composer,
        "deepspeed": run_deepspeed,
        "megatron": run_megatron,
    }
    trained = runners[kind](outdir, config)
    print(json.dumps({"trained": trained}))


if __name__ == "__main__":
    main()
