"""Read timm's ``args.yaml`` (what ``train.py`` saves and reads back with ``--config``) as a sched spec.

Keys read (every other key is ignored), with ``train.py``'s defaults for the missing ones:

==========================================  ==========================================================
timm ``args.yaml``                          sched spec
==========================================  ==========================================================
``sched``                                   the scheduler: ``timm_cosine``, ``timm_tanh``,
                                            ``timm_poly``, ``timm_step``, ``timm_multistep``,
                                            ``timm_constant``, ``timm_wsd``, ``timm_rsqrt``; ``none``
                                            is ``timm_constant`` without warmup or noise; ``plateau``
                                            depends on validation metrics and is refused
``epochs``, ``warmup_epochs``,              the scheduler's arguments (same names; ``lr_noise``
``warmup_lr``, ``warmup_prefix``,           becomes ``noise_start`` / ``noise_end``, milestones
``min_lr``, ``decay_epochs``,               ``[30ep, ...]``)
``decay_milestones``, ``decay_rate``,
``lr_cycle_*``, ``lr_k_decay``,
``lr_noise*``, ``seed``, ``lr_decay_fn``,
``lr_stable_timescale``
``cooldown_epochs`` (with the above)        ``max_duration``: ``create_scheduler_v2``'s
                                            ``num_epochs`` (cycles and cooldown, or ``epochs`` plus
                                            a prefix warmup), in ``ep``
``sched_on_updates``                        ``step_every: batch`` (else ``epoch``) and the
                                            scheduler's clock
``lr``, or ``lr_base`` x (global batch /    ``lr``; the scaling is ``sqrt`` when ``opt`` contains
``lr_base_size``), ``lr_base_scale``,       ``ada`` or ``lamb`` and ``lr_base_scale`` is empty,
``opt``                                     else linear
``batch_size`` (per device),                ``dataloader_len`` = updates per epoch,
``grad_accum_steps``, ``--dataset-size``    ``ceil(len(loader) / grad_accum_steps)``;
(or ``train_num_samples``), ``--devices``   ``batch_size`` = samples per update across devices,
                                            ``last_batch_size`` = those of an epoch's last update
==========================================  ==========================================================

``len(loader)`` is timm's training loader's: a ``DistributedSampler`` (padding every rank to
``ceil(N / devices)`` samples) and ``drop_last=True``, so ``ceil(N / devices) // batch_size``.
One sched batch is one optimizer update; with gradient accumulation the epoch's last update may
take fewer loader batches (``len(loader) % grad_accum_steps``).

Command-line options: ``--dataset-size`` and ``--devices`` (default 1) supply what the file
cannot say; ``--dataloader-len`` gives ``len(loader)`` directly; ``--device-batch-size`` (or
``--batch-size``, across devices) replaces ``batch_size``; ``--lr`` replaces ``lr`` (so
``warmup_lr`` and ``min_lr`` stay absolute, as with timm's ``--lr``). ``start_epoch`` and
resuming change nothing: timm steps the scheduler to the start epoch, so the LRs from there on
are those of the full run shown. Not modelled: layer-wise LR decay (``layer_decay``, per-group
``lr_scale``), repeated-augmentation samplers (``aug_repeats``), ``epoch_repeats`` and
scheduled or NaFlex batch sizes.
"""

from __future__ import annotations

import math
import numbers
from pathlib import Path
from typing import Any

from sched_cli.readers import ReaderError, Reading
from sched_cli.schedulers.base import RunShape, ScheduleError
from sched_cli.time import Time

__all__ = [
    "NAME",
    "TITLE",
    "TRAINER",
    "REFERENCE",
    "CONSUMES",
    "KEYS",
    "IRRELEVANT",
    "TRAIN_DEFAULTS",
    "recognise",
    "read",
    "updates_geometry",
]

NAME = "timm"
TITLE = "timm"
TRAINER = "timm"
REFERENCE = "timm"
EMPTY = "a timm args.yaml needs sched (e.g. cosine), epochs, batch_size and lr or lr_base"
#: Options its files have no use for (the reader contract refuses them).
NOT_FOR = {
    "step_every": "timm steps its scheduler after every epoch, or after every update with sched_on_updates: true "
    "in the file"
}
#: Command-line options this reader applies itself (they describe timm's loader, not sched's).
CONSUMES = ("dataset_size", "devices", "device_batch_size", "batch_size", "drop_last", "dataloader_len", "lr")

#: ``train.py``'s defaults (timm 1.0.x) for the keys read here.
TRAIN_DEFAULTS: dict[str, Any] = {
    "sched": "cosine",
    "sched_on_updates": False,
    "lr": None,
    "lr_base": 0.1,
    "lr_base_size": 256,
    "lr_base_scale": "",
    "lr_noise": None,
    "lr_noise_pct": 0.67,
    "lr_noise_std": 1.0,
    "lr_cycle_mul": 1.0,
    "lr_cycle_decay": 0.5,
    "lr_cycle_limit": 1,
    "lr_k_decay": 1.0,
    "lr_decay_fn": None,
    "lr_stable_timescale": None,
    "warmup_lr": 1e-5,
    "min_lr": 0,
    "epochs": 300,
    "decay_milestones": [90, 180, 270],
    "decay_epochs": None,  # train.py 1.0.29 says 90; None lets create_scheduler_v2 pick 90 (step) or 0.2 (wsd)
    "warmup_epochs": 5,
    "warmup_prefix": False,
    "cooldown_epochs": 0,
    "decay_rate": 0.1,
    "seed": 42,
    "opt": "sgd",
    "batch_size": 128,
    "grad_accum_steps": 1,
}
# argparse converts a default given as text with the option's type; these are the types.
_INTS = ("epochs", "warmup_epochs", "cooldown_epochs", "lr_cycle_limit", "seed", "batch_size", "grad_accum_steps")
_INTS += ("lr_base_size",)
_FLOATS = ("lr", "lr_base", "lr_noise_pct", "lr_noise_std", "lr_cycle_mul", "lr_cycle_decay", "lr_k_decay")
_FLOATS += ("warmup_lr", "min_lr", "decay_epochs", "decay_rate", "lr_stable_timescale")
_TEXTS = ("sched", "lr_base_scale", "opt", "lr_decay_fn")
_BOOLS = ("sched_on_updates", "warmup_prefix")
# Keys of a sched spec or of other tools' configs, which a timm args.yaml never has.
_FOREIGN = ("max_duration", "schedulers", "scheduler", "param_scheduler", "global_train_batch_size")


#: train.py arguments that change the LR or the epoch's batches and are not modelled: when set, a note.
UNMODELLED: dict[str, str] = {
    "layer_decay": "layer-wise LR decay gives each layer group its own LR scale; the preview shows the base LR",
    "aug_repeats": "the repeated-augmentation sampler changes how many samples each rank sees per epoch",
    "epoch_repeats": "repeating the dataset within an epoch changes its number of batches",
    "naflex_loader": "NaFlex's variable sequence-length batches change the number of batches per epoch",
}
#: Keys read (with train.py's defaults), and sched's own facts a file may add.
KEYS = (
    frozenset(TRAIN_DEFAULTS)
    | frozenset(UNMODELLED)
    | frozenset("train_num_samples model start_epoch resume patience_epochs dataset_size devices".split())
)
#: timm 1.0.x train.py arguments that change neither the LR nor the batches.
IRRELEVANT = frozenset(
    """data data_dir dataset train_split val_split val_num_samples dataset_download class_map
    input_img_mode input_key target_key dataset_trust_remote_code pretrained pretrained_path initial_checkpoint
    no_resume_opt num_classes gp img_size in_chans input_size crop_pct mean std interpolation
    validation_batch_size channels_last fuser grad_checkpointing fast_norm model_kwargs head_init_scale
    head_init_bias torchcompile_mode torchscript torchcompile device amp amp_dtype amp_impl model_dtype no_ddp_bb
    synchronize_step local_rank device_modules opt_eps opt_betas momentum weight_decay clip_grad clip_mode
    opt_kwargs no_aug train_crop_mode scale ratio hflip vflip color_jitter color_jitter_prob grayscale_prob
    gaussian_blur_prob aa aug_splits jsd_loss bce_loss bce_sum bce_target_thresh bce_pos_weight reprob remode
    recount resplit mixup cutmix cutmix_minmax mixup_prob mixup_switch_prob mixup_mode mixup_off_epoch smoothing
    train_interpolation drop drop_connect drop_path drop_block bn_momentum bn_eps sync_bn dist_bn split_bn
    model_ema model_ema_force_cpu model_ema_decay model_ema_warmup worker_seeding log_interval recovery_interval
    checkpoint_hist workers save_images pin_mem no_prefetcher output experiment eval_metric tta
    use_multi_epochs_loader log_wandb wandb_project wandb_tags wandb_resume_id naflex_train_seq_lens
    naflex_max_seq_len naflex_patch_sizes naflex_patch_size_probs naflex_loss_scale config""".split()
)


def recognise(data: Any) -> bool:
    """A timm ``args.yaml``: it has timm's ``sched`` (a name) and no sched-spec keys."""
    return isinstance(data, dict) and isinstance(data.get("sched"), str) and not any(k in data for k in _FOREIGN)


class _Args:
    """The args.yaml values train.py would see, checked as its argparse types would have them."""

    def __init__(self, data: dict[str, Any], source: str) -> None:
        self.data = data
        self.source = source

    def error(self, key: str, message: str) -> ReaderError:
        return ReaderError(f"{self.source}: {key}: {message}")

    def __getitem__(self, key: str) -> Any:
        value = self.data[key] if key in self.data else TRAIN_DEFAULTS.get(key)
        if value is None:
            return None
        if key in _BOOLS:
            if not isinstance(value, bool):
                raise self.error(key, f"expected true or false, got {value!r}")
            return value
        if key in _TEXTS:
            if not isinstance(value, str):
                raise self.error(key, f"expected text, got {value!r}")
            return value
        if key in _INTS or key in _FLOATS:
            return self._number(key, value, int if key in _INTS else float)
        return value

    def _number(self, key: str, value: Any, kind: type) -> Any:
        if isinstance(value, str):  # argparse parses a text default with the option's type
            try:
                return kind(value)
            except ValueError:
                raise self.error(key, f"{value!r} is not {'a whole number' if kind is int else 'a number'}") from None
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            raise self.error(key, f"expected a number, got {value!r}")
        return value


def read(data: Any, source: str, options: dict[str, Any]) -> Reading:
    """The sched spec mapping of a timm ``args.yaml`` (see the module docstring), with a note for
    each argument set that changes the LR or the batches in a way sched does not model."""
    spec = _spec(data, source, options)
    notes = [
        f"{source}: {key}: {data[key]!r}: {why}; the preview leaves it out"
        for key, why in UNMODELLED.items()
        if data.get(key) not in (None, 0, 0.0, False, "", [])
    ]
    # The updates per epoch and their samples are in validate's own lines (views.run_facts).
    return Reading(spec, notes)


def _spec(data: Any, source: str, options: dict[str, Any]) -> dict[str, Any]:
    # Imported here: recognising a file (every reader is asked) must not load every family's formulas.
    from sched_cli.schedulers.timm import SCHEDULERS

    args = _Args(data, source)
    sched = args["sched"]
    if sched == "plateau":
        raise args.error(
            "sched",
            "'plateau' lowers the LR when the validation metric stops improving, which no preview can know; "
            "use a time-based schedule (cosine, step, multistep, ...)",
        )
    if sched not in SCHEDULERS and sched != "none":
        raise args.error("sched", f"{sched!r} is not a timm scheduler ({', '.join([*SCHEDULERS, 'none'])})")
    on_updates = args["sched_on_updates"]
    devices = _whole(args, "devices", options.get("devices", 1), "--devices")
    batch = _device_batch(args, options, devices)
    accum = max(1, args["grad_accum_steps"])
    loader_len = _loader_len(args, options, devices, batch)
    upe, per_update, last = updates_geometry(loader_len, devices, batch, accum)
    lr = options.get("lr") or args["lr"]
    if not lr:
        lr = _scaled_lr(args, batch * devices * accum)
    config = _scheduler_config(args, sched, lr, on_updates)
    name = config["name"]
    try:
        scheduler = SCHEDULERS[name.removeprefix("timm_")](**{k: v for k, v in config.items() if k != "name"})
        epochs = args["epochs"]
        if sched == "none":
            num_epochs = epochs + args["warmup_epochs"] if args["warmup_prefix"] else epochs
        else:
            shape = RunShape(Time(1, "ep"), upe, per_update)
            num_epochs = scheduler.num_epochs(shape, epochs, args["cooldown_epochs"])
    except ScheduleError as exc:
        raise ReaderError(f"{source}: {exc}") from None
    # train.py loops over range(start_epoch, num_epochs): a float there (epochs: 300.0) is a TypeError.
    if isinstance(num_epochs, bool) or not isinstance(num_epochs, int) or num_epochs < 1:
        raise ReaderError(
            f"{source}: epochs: timm would train range({num_epochs!r}) epochs (epochs, warmup and cooldown "
            "together), which needs a whole number of at least 1; write whole numbers such as epochs: 300"
        )
    mapping: dict[str, Any] = {
        "title": _title(data, sched, source),
        "trainer": "timm",
        "max_duration": f"{int(num_epochs)}ep",
        "dataloader_len": upe,
        "batch_size": per_update,
        "lr": lr,
        "step_every": "batch" if on_updates else "epoch",
        "schedulers": [config],
    }
    if last != per_update:
        mapping["last_batch_size"] = last
    return mapping


def updates_geometry(loader_len: int, devices: int, batch_size: int, accum: int) -> tuple[int, int, int]:
    """Updates per epoch, samples per update across devices, and samples in an epoch's last update.

    ``train.py``: ``updates_per_epoch = (len(loader) + accum - 1) // accum``; the last update of an
    epoch accumulates ``len(loader) % accum`` batches when that is not 0.
    """
    upe = (loader_len + accum - 1) // accum
    last_accum = loader_len % accum or accum
    return upe, devices * batch_size * accum, devices * batch_size * last_accum


def _whole(args: _Args, key: str, value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise args.error(key, f"{where} must be a whole number of at least 1, not {value!r}")
    return int(value)


def _device_batch(args: _Args, options: dict[str, Any], devices: int) -> int:
    if options.get("device_batch_size") is not None:
        return _whole(args, "batch_size", options["device_batch_size"], "--device-batch-size")
    if options.get("batch_size") is not None:
        total = _whole(args, "batch_size", options["batch_size"], "--batch-size")
        if total % devices:
            raise args.error(
                "batch_size",
                f"--batch-size {total} (across devices) is not divisible by --devices {devices}; "
                "give --device-batch-size (timm's batch_size is per device)",
            )
        return total // devices
    return _whole(args, "batch_size", args["batch_size"], "batch_size")


def _loader_len(args: _Args, options: dict[str, Any], devices: int, batch: int) -> int:
    """``len(loader_train)``: ``ceil(N / devices) // batch_size`` (timm drops the last partial batch)."""
    if options.get("drop_last") is False:
        raise args.error(
            "drop_last", "timm's training loader always drops the last partial batch; leave out --no-drop-last"
        )
    if options.get("dataloader_len") is not None:
        return _whole(args, "dataloader_len", options["dataloader_len"], "--dataloader-len")
    size = options.get("dataset_size")
    if size is None:
        size = args.data.get("train_num_samples")
        if size is None:
            raise args.error(
                "batch_size",
                "the file does not say how many updates an epoch has: give --dataset-size (training samples) and "
                "--devices (default 1), or --dataloader-len (batches per epoch on each device)",
            )
    size = _whole(args, "dataset_size", size, "the dataset size")
    per_device = -(-size // devices) if devices > 1 else size
    loader_len = per_device // batch
    if loader_len < 1:
        raise args.error(
            "batch_size",
            f"{size:,} samples over {devices} device(s) leave {per_device:,} per device, less than one batch of "
            f"{batch}: timm drops it, so every epoch would be empty",
        )
    return loader_len


def _scaled_lr(args: _Args, global_batch: int) -> float:
    """``train.py``: ``lr = lr_base * (global_batch / lr_base_size)``, square-rooted for ``sqrt``."""
    for key in ("lr_base", "lr_base_size"):
        if args[key] is None:
            raise args.error(key, "is null and so is lr: set lr, or lr_base and lr_base_size to scale it from")
    if not isinstance(args["opt"], str):
        raise args.error("opt", f"expected the optimizer's name (it picks the LR scaling), got {args['opt']!r}")
    ratio = float(global_batch) / args["lr_base_size"]
    scale = args["lr_base_scale"]
    if not scale:
        scale = "sqrt" if any(o in args["opt"].lower() for o in ("ada", "lamb")) else "linear"
    if scale == "sqrt":
        ratio = ratio**0.5
    lr = args["lr_base"] * ratio
    if not lr or lr < 0:
        raise args.error("lr_base", f"gives lr {lr!r}; set lr or a positive lr_base")
    return lr


def _noise(args: _Args) -> dict[str, Any]:
    noise = args.data.get("lr_noise", TRAIN_DEFAULTS["lr_noise"])
    if noise is None:
        return {}
    values = noise if isinstance(noise, list) else [noise]
    if not values:
        raise args.error("lr_noise", "[] makes timm fail at its first step (it reads lr_noise[0]); use null for none")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise args.error("lr_noise", f"expected a number or a list of one or two numbers, got {noise!r}")
    out = {"noise_start": values[0]}
    if len(values) > 1:
        out["noise_end"] = values[1]
    return out


def _scheduler_config(args: _Args, sched: str, lr: float, on_updates: bool) -> dict[str, Any]:
    common: dict[str, Any] = {
        "lr": lr,
        "warmup_epochs": args["warmup_epochs"],
        "warmup_lr": args["warmup_lr"],
        "warmup_prefix": args["warmup_prefix"],
        **_noise(args),
        "lr_noise_pct": args["lr_noise_pct"],
        "lr_noise_std": args["lr_noise_std"],
        "seed": 42 if args["seed"] is None else args["seed"],  # timm's Scheduler: noise_seed None -> 42
        "sched_on_updates": on_updates,
    }
    epochs = args["epochs"]
    if sched == "none":
        # No scheduler: the optimizer keeps lr, no warmup, no noise.
        return {"name": "timm_constant", "lr": lr, "epochs": epochs, "warmup_epochs": 0, "sched_on_updates": on_updates}
    cycles = {
        "min_lr": args["min_lr"],
        "lr_cycle_mul": args["lr_cycle_mul"],
        "lr_cycle_decay": args["lr_cycle_decay"],
        "lr_cycle_limit": args["lr_cycle_limit"],
    }
    decay_epochs = args["decay_epochs"]
    specific: dict[str, Any]
    if sched == "cosine":
        specific = {"epochs": epochs, **cycles, "lr_k_decay": args["lr_k_decay"]}
    elif sched == "tanh":
        specific = {"epochs": epochs, **cycles}
    elif sched == "poly":
        specific = {"epochs": epochs, "decay_rate": args["decay_rate"], **cycles, "lr_k_decay": args["lr_k_decay"]}
    elif sched == "step":
        specific = {"decay_epochs": 90 if decay_epochs is None else decay_epochs, "decay_rate": args["decay_rate"]}
        specific["epochs"] = epochs
    elif sched == "multistep":
        specific = {"decay_milestones": _milestones(args), "decay_rate": args["decay_rate"], "epochs": epochs}
    elif sched == "constant":
        specific = {"epochs": epochs}
    else:  # wsd, rsqrt
        specific = {"epochs": epochs, "decay_epochs": 0.2 if decay_epochs is None else decay_epochs}
        specific["min_lr"] = args["min_lr"]
        if args["lr_decay_fn"] is not None:
            specific["lr_decay_fn"] = args["lr_decay_fn"]
        if args["lr_stable_timescale"] is not None:
            specific["lr_stable_timescale"] = args["lr_stable_timescale"]
    return {"name": f"timm_{sched}", **specific, **common}


def _milestones(args: _Args) -> list[str]:
    value = args.data.get("decay_milestones", TRAIN_DEFAULTS["decay_milestones"])
    values = value if isinstance(value, list) else [value]
    out = []
    for v in values:
        if isinstance(v, str):
            try:
                v = int(v)
            except ValueError:
                raise args.error("decay_milestones", f"{v!r} is not a whole number of epochs") from None
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 0:
            raise args.error("decay_milestones", f"expected whole numbers of epochs, got {value!r}")
        out.append(f"{int(v)}ep")
    return out


def _title(data: dict[str, Any], sched: str, source: str) -> str:
    model = data.get("model")
    what = f"{model} " if isinstance(model, str) and model else ""
    return f"timm {what}({sched}, {Path(source).name})"
