"""Read DeepSpeed configs (``ds_config.json``) as sched specs, alone or under a Hugging Face Trainer.

**Alone** (``--from deepspeed``, or recognised by DeepSpeed's keys): the schedule is the
``scheduler: {type, params}`` block, built as ``DeepSpeedEngine._scheduler_from_config`` builds it:

==============================  ===============================================================
``scheduler.type``              what sched does with it
==============================  ===============================================================
``WarmupLR``, ``WarmupDecayLR``, ``ds:<type>`` (:mod:`sched_cli.schedulers.deepspeed`), with
``WarmupCosineLR``,             its ``params`` (DeepSpeed's names and defaults) and the
``OneCycle``, ``LRRangeTest``   optimizer's LR (``optimizer.params.lr``; ``--lr`` replaces it)
any other name                  ``torch.optim.lr_scheduler.<type>(optimizer, **params)``, as the
                                engine builds it, stepped once per update
==============================  ===============================================================

The engine steps the scheduler once per optimizer update (at the gradient-accumulation boundary),
so each row of the run is one update: ``batch`` is the update index. The run's length is
``--max-duration`` (in updates, ``Nba``), else the scheduler's own ``total_num_steps``, else an
error. ``train_batch_size`` (or micro batch x accumulation x ``--devices``) gives the samples per
update. ``fp16`` with dynamic loss scaling (``loss_scale`` 0, the default) skips the scheduler step
after every overflow, which no config predicts: a note says so, and ``--skipped-steps`` shows a
run with known skips.

**Under Hugging Face** (:func:`under_hf`, called by the HF reader for a ``TrainingArguments`` file
with a ``deepspeed`` key): the key holds the config inline or names its file. A relative path is
looked up next to the TrainingArguments file first, then in the working directory (where HF looks,
as the Trainer runs from there); ``--deepspeed-config PATH`` names it outright. As
``transformers.integrations.deepspeed.HfTrainerDeepSpeedConfig`` does, ``"auto"`` values are filled
from the Trainer (``warmup_min_lr`` 0, ``warmup_max_lr`` and ``optimizer.params.lr`` =
``learning_rate``, ``total_num_steps`` = the run's updates, ``warmup_num_steps`` =
``max(1, get_warmup_steps(T))``, batch sizes, betas, eps, weight decay, clipping, fp16/bf16), and a
value that disagrees with ``TrainingArguments`` is refused as HF refuses it. With a ``scheduler``
block, DeepSpeed's scheduler replaces ``lr_scheduler_type`` (a note says so); without one, HF's
schedule stays in force.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sched_cli import parsing, registry
from sched_cli.readers import ReaderError, Reading, unknown_key_notes
from sched_cli.schedulers.base import ScheduleError
from sched_cli.schedulers.deepspeed import DS_SCHEDULERS
from sched_cli.schedulers.torch_native import TORCH_SCHEDULERS

__all__ = [
    "NAME",
    "TITLE",
    "TRAINER",
    "REFERENCE",
    "CONSUMES",
    "KEYS",
    "IRRELEVANT",
    "DeepSpeedConfigError",
    "recognise",
    "read",
    "under_hf",
    "auto_warmup_steps",
]

NAME = "deepspeed"
TITLE = "DeepSpeed"
TRAINER = "deepspeed"
REFERENCE = "deepspeed"
_ON_ITS_OWN = (
    "on its own, its engine steps the scheduler once per optimizer update: give the run's length as "
    "--max-duration Nba (updates)"
)
#: Options a DeepSpeed config read on its own has no use for (the reader contract refuses them).
NOT_FOR = {option: _ON_ITS_OWN for option in ("dataset_size", "dataloader_len", "deepspeed_config", "step_every")}
# The file's batch is DeepSpeed's (it asserts train_batch_size = micro x accumulation x devices); another one
# given here would only set the sample column apart from it.
NOT_FOR |= {
    option: "its batch is the file's train_batch_size (train_micro_batch_size_per_gpu x gradient_accumulation_steps "
    "x devices); change it in the file"
    for option in ("device_batch_size", "batch_size")
}
#: Options this reader applies itself.
CONSUMES = ("max_duration", "lr", "devices", "deepspeed_config")
#: Keys of a DeepSpeed config this reader reads.
KEYS = (
    "scheduler",
    "optimizer",
    "train_batch_size",
    "train_micro_batch_size_per_gpu",
    "gradient_accumulation_steps",
    "fp16",
    "bf16",
)
#: DeepSpeed keys that change neither the LR nor the step count.
IRRELEVANT = (
    "zero_optimization",
    "gradient_clipping",
    "steps_per_print",
    "wall_clock_breakdown",
    "zero_allow_untested_optimizer",
    "zero_force_ds_cpu_optimizer",
    "communication_data_type",
    "prescale_gradients",
    "gradient_predivide_factor",
    "sparse_gradients",
    "activation_checkpointing",
    "flops_profiler",
    "tensorboard",
    "wandb",
    "csv_monitor",
    "comet",
    "comms_logger",
    "monitor_config",
    "aio",
    "checkpoint",
    "data_types",
    "dump_state",
    "amp",
    "memory_breakdown",
    "tensor_parallel",
    "pipeline",
    "compile",
    "torch_autocast",
    "seq_parallel_communication_data_type",
    "sequence_parallel_size",
    "timers",
    "disable_allgather",
    "load_universal_checkpoint",
    "use_data_before_expert_parallelism",
    "graph_harvesting",
    "zero_optimization_stage",
    "fp8",
)
# Keys only DeepSpeed's config has (HF's TrainingArguments has fp16/bf16 as booleans).
_DS_ONLY = (
    "train_batch_size",
    "train_micro_batch_size_per_gpu",
    "zero_optimization",
    "gradient_clipping",
    "steps_per_print",
    "wall_clock_breakdown",
    "zero_allow_untested_optimizer",
)
# Keys that say a file is a sched spec or a Hugging Face TrainingArguments file.
_FOREIGN = ("schedulers", "max_duration", "learning_rate", "lr_scheduler_type", "per_device_train_batch_size")
_FOREIGN += ("output_dir", "num_train_epochs", "max_steps", "warmup_steps", "sched", "param_scheduler")
# Arguments of a DeepSpeed scheduler that do not change the LR (OneCycle's momentum cycling).
_MOMENTUM = ("cycle_momentum", "cycle_min_mom", "cycle_max_mom", "decay_mom_rate")
_FIX_AUTO = "give a number: 'auto' is filled only by Hugging Face's Trainer (read the TrainingArguments file instead)"


class DeepSpeedConfigError(ReaderError):
    """A DeepSpeed config sched cannot replay; the message names the file and the key."""


def recognise(data: Any) -> bool:
    """A DeepSpeed config: one of DeepSpeed's own keys (or a ``scheduler`` with ``type`` and ``params``),
    and none of a sched spec's or a TrainingArguments file's."""
    if not isinstance(data, dict) or any(key in data for key in _FOREIGN):
        return False
    scheduler = data.get("scheduler")
    ds_scheduler = isinstance(scheduler, dict) and "type" in scheduler and "name" not in scheduler
    return ds_scheduler or any(key in data for key in _DS_ONLY)


def read(data: Any, source: str, options: dict[str, Any]) -> Reading:
    """The sched spec of a DeepSpeed config on its own (see the module docstring)."""
    if not isinstance(data, dict):
        raise DeepSpeedConfigError(f"{source}: a DeepSpeed config is a mapping of keys, not {type(data).__name__}")
    foreign = [key for key in _FOREIGN if key in data]
    if foreign:
        raise DeepSpeedConfigError(
            f"{source}: {foreign[0]}: a DeepSpeed config has no such key (this looks like a Hugging Face "
            "TrainingArguments file or a sched spec); read it with --from hf, or drop --from deepspeed"
        )
    _refuse_auto(data, source)
    notes = unknown_key_notes(data, source, TITLE, KEYS + IRRELEVANT)
    facts: list[str] = []
    lr = options.get("lr")
    if lr is None:
        lr = _optimizer_lr(data, source)
    built = schedule(data, source, lr, notes, facts, where="")
    total = _length(data, source, options, built)
    spec: dict[str, Any] = {
        "trainer": TRAINER,
        "max_duration": f"{total}ba",
        "lr": built.base_lr,
        "step_every": "batch",  # the engine steps the scheduler after every optimizer update
        "schedulers": [built.config],
    }
    batch = _batch_size(data, source, options)
    if batch is not None:
        spec["batch_size"] = batch
        facts.append(f"samples per update: {batch:,} (train_batch_size)")
    facts.append(f"run: {total:,} optimizer updates, one scheduler step after each")
    notes.extend(fp16_notes(data, source))
    return Reading(spec, notes, facts)


# -- the schedule ----------------------------------------------------------------------------------
class Built:
    """A scheduler block turned into a spec config, with the base LR its multiplier is relative to."""

    def __init__(self, config: dict[str, Any], base_lr: float, kind: str, total_num_steps: int | None) -> None:
        self.config = config
        self.base_lr = base_lr
        self.kind = kind
        self.total_num_steps = total_num_steps


def schedule(
    data: dict[str, Any], source: str, lr: float | None, notes: list[str], facts: list[str], where: str
) -> Built:
    """The spec config of ``data``'s ``scheduler`` block, as the engine builds it on an optimizer with LR ``lr``."""
    block = data.get("scheduler")
    if block is None:
        if lr is None:
            raise DeepSpeedConfigError(
                f"{source}: optimizer.params.lr: the config has no scheduler and no optimizer LR, so there is nothing "
                "to preview; give --lr (the client's optimizer LR) or a scheduler block"
            )
        notes.append(
            f"{source}: no scheduler block: DeepSpeed keeps the optimizer's LR ({lr:g}) constant, unless the "
            "training script passes its own lr_scheduler to deepspeed.initialize"
        )
        return Built({"name": "constant"}, lr, "constant", None)
    if not isinstance(block, dict) or not isinstance(block.get("type"), str):
        raise DeepSpeedConfigError(
            f"{source}: {where}scheduler: expected {{type: ..., params: {{...}}}}, got {block!r}"
        )
    kind = block["type"]
    params = block.get("params")
    if params is None:
        raise DeepSpeedConfigError(
            f"{source}: {where}scheduler.params: missing; DeepSpeed builds the scheduler with **params and fails "
            "without them (write params: {} for the defaults)"
        )
    if not isinstance(params, dict):
        raise DeepSpeedConfigError(f"{source}: {where}scheduler.params: expected a mapping, got {params!r}")
    extra = [key for key in block if key not in ("type", "params")]
    if extra:
        notes.append(f"{source}: {where}scheduler.{extra[0]} is not read by DeepSpeed (only type and params)")
    if kind in DS_SCHEDULERS:
        if kind == "WarmupDecayLR" and "warmup_max_lr" not in params and lr is not None and lr != 0.001:
            notes.append(
                f"{source}: {where}scheduler.params.warmup_max_lr is not set, so WarmupDecayLR warms up to its default "
                f"0.001, not the optimizer's LR ({lr:g}); set it (or 'auto' under Hugging Face)"
            )
        return _ds_schedule(kind, params, source, lr, facts, where)
    if kind in TORCH_SCHEDULERS:
        if lr is None:
            raise DeepSpeedConfigError(
                f"{source}: optimizer.params.lr: {kind} scales the optimizer's LR, which the config does not give; "
                "give --lr"
            )
        if "last_epoch" in params:
            raise DeepSpeedConfigError(f"{source}: {where}scheduler.params.last_epoch: a preview starts at step 0")
        facts.append(f"scheduler: torch.optim.lr_scheduler.{kind}, stepped once per optimizer update")
        config = {"name": f"torch.optim.lr_scheduler.{kind}", **params}
        total = params.get("total_steps") if kind == "OneCycleLR" else None
        return Built(config, lr, kind, total if isinstance(total, int) else None)
    raise DeepSpeedConfigError(
        f"{source}: {where}scheduler.type: {kind!r} is neither a DeepSpeed scheduler ({', '.join(DS_SCHEDULERS)}) "
        "nor a torch.optim.lr_scheduler class (DeepSpeed raises on it)"
    )


def _ds_schedule(
    kind: str, params: dict[str, Any], source: str, lr: float | None, facts: list[str], where: str
) -> Built:
    entry = registry.lookup(f"ds:{kind}")
    assert entry is not None
    takes = {p.name for p in entry.params} - {"lr"}
    config: dict[str, Any] = {"name": f"ds:{kind}"}
    for key, value in params.items():
        if key in _MOMENTUM and kind == "OneCycle":
            continue  # Adam's betas, not the LR
        if key == "last_batch_iteration":
            if value != -1:
                raise DeepSpeedConfigError(
                    f"{source}: {where}scheduler.params.last_batch_iteration: {value!r} resumes the schedule mid-run; "
                    "a preview starts at step 0 (-1)"
                )
            continue
        if key not in takes:
            raise DeepSpeedConfigError(
                f"{source}: {where}scheduler.params.{key}: {kind} takes no such argument (DeepSpeed raises TypeError); "
                f"it takes {', '.join(sorted(takes))}"
            )
        config[key] = value
    config["lr"] = lr
    try:
        built = entry.cls(**{k: v for k, v in config.items() if k != "name"})
    except (ScheduleError, TypeError) as exc:
        raise DeepSpeedConfigError(f"{source}: {where}scheduler.params: {exc}") from None
    if config["lr"] is None:
        del config["lr"]
    warmup = getattr(built, "warmup_num_steps", None)
    if warmup is not None:
        steps = max(2, warmup)
        shape = "log" if getattr(built, "effective_type", "log") == "log" else "linear"
        facts.append(
            f"scheduler: {kind}, {shape} warmup over {steps:,} steps: updates 0 and 1 train at the start value, "
            f"the full peak from update {steps + 1:,}"
        )
        if getattr(built, "warmup_type", "log") not in ("log", "linear"):
            facts.append(f"warmup_type {built.warmup_type!r} is read as 'log' (DeepSpeed does so)")  # type: ignore[attr-defined]
    else:
        facts.append(f"scheduler: {kind}, stepped once per optimizer update")
    return Built(config, built.base_lr, kind, getattr(built, "total_num_steps", None))


def fp16_notes(data: dict[str, Any], source: str) -> list[str]:
    """A note when fp16 with dynamic loss scaling can skip scheduler steps."""
    fp16 = data.get("fp16")
    if not isinstance(fp16, dict) or fp16.get("enabled") is not True:
        return []
    if fp16.get("loss_scale", 0) not in (0, 0.0):
        return []
    return [
        f"{source}: fp16 with dynamic loss scaling: DeepSpeed skips the scheduler step after every overflow "
        "(the first updates, while the loss scale comes down), which no config predicts; the preview assumes none "
        "(--skipped-steps N or 3,10,40-47 shows a shifted schedule)"
    ]


def _optimizer_lr(data: dict[str, Any], source: str) -> float | None:
    optimizer = data.get("optimizer")
    if optimizer is None:
        return None
    params = optimizer.get("params") if isinstance(optimizer, dict) else None
    if not isinstance(params, dict) or "lr" not in params:
        return None
    lr = params["lr"]
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not math.isfinite(lr) or lr <= 0:
        raise DeepSpeedConfigError(f"{source}: optimizer.params.lr: {lr!r} must be a number greater than 0")
    return float(lr)


def _refuse_auto(data: dict[str, Any], source: str) -> None:
    for path, value in _leaves(data):
        if value == "auto" and _matters(path):
            raise DeepSpeedConfigError(f"{source}: {path}: 'auto'; {_FIX_AUTO}")


def _matters(path: str) -> bool:
    return path.startswith(("scheduler.", "optimizer.params.lr")) or path in (
        "train_batch_size",
        "train_micro_batch_size_per_gpu",
        "gradient_accumulation_steps",
    )


def _leaves(data: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(data, dict):
        out = []
        for key, value in data.items():
            out.extend(_leaves(value, f"{prefix}{key}" if not prefix else f"{prefix}.{key}"))
        return out
    return [(prefix, data)]


def _length(data: dict[str, Any], source: str, options: dict[str, Any], built: Built) -> int:
    duration = options.get("max_duration")
    if duration is not None:
        from sched_cli.time import Time, TimeStringError, TimeUnit

        try:
            time = Time.from_timestring(str(duration).strip())
        except TimeStringError as exc:
            raise DeepSpeedConfigError(f"{source}: --max-duration: {exc}") from None
        if time.unit is not TimeUnit.BATCH or time.value < 1:
            raise DeepSpeedConfigError(
                f"{source}: --max-duration {duration}: a DeepSpeed run is counted in optimizer updates: give Nba"
            )
        return int(time.value)
    if built.total_num_steps is not None and built.total_num_steps >= 1:
        return built.total_num_steps
    raise DeepSpeedConfigError(
        f"{source}: scheduler: {built.kind} has no total_num_steps, so the run's length is unknown: give "
        "--max-duration Nba (optimizer updates, e.g. --max-duration 20000ba)"
    )


def _batch_size(data: dict[str, Any], source: str, options: dict[str, Any]) -> int | None:
    train = data.get("train_batch_size")
    if isinstance(train, int) and not isinstance(train, bool) and train >= 1:
        return train
    micro, accumulation = data.get("train_micro_batch_size_per_gpu"), data.get("gradient_accumulation_steps", 1)
    if isinstance(micro, int) and isinstance(accumulation, int) and micro >= 1 and accumulation >= 1:
        return micro * accumulation * int(options.get("devices") or 1)
    return None


# -- under Hugging Face ----------------------------------------------------------------------------
#: ``TrainingArguments`` defaults (transformers 5.x) of the fields HF compares with the DeepSpeed config.
_HF_DEFAULTS = {
    "adam_beta1": 0.9,
    "adam_beta2": 0.999,
    "adam_epsilon": 1e-8,
    "weight_decay": 0.0,
    "max_grad_norm": 1.0,
    "fp16": False,
    "fp16_full_eval": False,
    "bf16": False,
    "bf16_full_eval": False,
    "auto_find_batch_size": False,
}


def load_config(data: dict[str, Any], source: str, options: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The DeepSpeed config a TrainingArguments mapping names (inline, a path, or ``--deepspeed-config``),
    and a name for it in messages."""
    given = options.get("deepspeed_config")
    value = given if given is not None else data.get("deepspeed")
    if isinstance(value, dict):
        return json.loads(json.dumps(value)), f"{source}'s deepspeed block"
    if not isinstance(value, str) or not value.strip():
        raise DeepSpeedConfigError(
            f"{source}: deepspeed: expected a DeepSpeed config (a mapping) or its path, got {value!r}"
        )
    path = Path(value)
    if given is not None or path.is_absolute():
        candidates = [path]
    else:  # next to the TrainingArguments file first, then where the Trainer runs (HF's rule)
        candidates = [Path(source).parent / path, Path.cwd() / path]
    for candidate in candidates:
        if candidate.is_file():
            try:
                text = parsing.read_text(candidate)
                parsed = parsing.parse(text, "json" if candidate.suffix.lower() == ".json" else "yaml", str(candidate))
            except parsing.ParseError as exc:
                raise DeepSpeedConfigError(str(exc)) from None
            if not isinstance(parsed, dict):
                raise DeepSpeedConfigError(f"{candidate}: a DeepSpeed config is a mapping of keys")
            return parsed, str(candidate)
    tried = " or ".join(str(c) for c in candidates)
    raise DeepSpeedConfigError(
        f"{source}: deepspeed: {value!r} not found (looked for {tried}); give --deepspeed-config PATH"
    )


class _Filler:
    """``HfTrainerDeepSpeedConfig.fill_match``: fill ``"auto"`` from the Trainer, list mismatches."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.mismatches: list[str] = []

    def fill(self, key: str, hf_value: Any, hf_key: str, must_match: bool = True) -> None:
        node: Any = self.config
        *parents, last = key.split(".")
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
            if node is None:
                return
        if not isinstance(node, dict):
            return
        if node.get(last) == "auto":
            node[last] = hf_value
            return
        if must_match and node.get(last) is not None and node.get(last) != hf_value:
            self.mismatches.append(f"ds {key}={node.get(last)} vs hf {hf_key}={hf_value}")


def under_hf(
    data: dict[str, Any],
    source: str,
    options: dict[str, Any],
    spec: dict[str, Any],
    hf_scheduler: Callable[[], dict[str, Any]],
    micro_batch: int,
    accumulation: int,
) -> Reading:
    """A Hugging Face run with a DeepSpeed config: ``spec`` is the HF reader's (without schedulers);
    ``hf_scheduler`` builds HF's own schedule, in force when the config has no ``scheduler`` block."""
    config, name = load_config(data, source, options)
    args = {**_HF_DEFAULTS, **{k: v for k, v in data.items() if k in _HF_DEFAULTS and v is not None}}
    lr, total = spec["lr"], int(str(spec["max_duration"]).removesuffix("ba"))
    devices = int(options.get("devices") or 1)
    filler = _Filler(config)
    # trainer_config_process (when TrainingArguments is built), in HF's order
    exact = not args["auto_find_batch_size"]
    filler.fill("train_micro_batch_size_per_gpu", micro_batch, "per_device_train_batch_size", exact)
    filler.fill("gradient_accumulation_steps", accumulation, "gradient_accumulation_steps")
    filler.fill("train_batch_size", devices * micro_batch * accumulation, "train_batch_size (calculated)", exact)
    filler.fill("gradient_clipping", args["max_grad_norm"], "max_grad_norm")
    filler.fill("optimizer.params.lr", lr, "learning_rate")
    filler.fill("optimizer.params.betas", [args["adam_beta1"], args["adam_beta2"]], "adam_beta1+adam_beta2")
    filler.fill("optimizer.params.eps", args["adam_epsilon"], "adam_epsilon")
    filler.fill("optimizer.params.weight_decay", args["weight_decay"], "weight_decay")
    filler.fill("scheduler.params.warmup_min_lr", 0, "", must_match=False)
    filler.fill("scheduler.params.warmup_max_lr", lr, "learning_rate")
    filler.fill("fp16.enabled", bool(args["fp16"] or args["fp16_full_eval"]), "fp16|fp16_full_eval")
    filler.fill("bf16.enabled", bool(args["bf16"] or args["bf16_full_eval"]), "bf16|bf16_full_eval")
    # trainer_config_finalize (at deepspeed_init, with the Trainer's num_training_steps)
    filler.fill("scheduler.params.total_num_steps", total, "num_training_steps (calculated)")
    filler.fill("scheduler.params.warmup_num_steps", max(1, auto_warmup_steps(data, total)), "warmup_steps")
    if filler.mismatches:
        raise DeepSpeedConfigError(
            f"{source}: {name} disagrees with TrainingArguments, which Hugging Face refuses: "
            + "; ".join(filler.mismatches)
            + " (set those DeepSpeed values to 'auto', or make them equal)"
        )
    notes = [
        n.replace(source + ":", f"{name}:", 1) for n in unknown_key_notes(config, source, TITLE, KEYS + IRRELEVANT)
    ]
    facts = [f"deepspeed config: {name}"]
    kind = data.get("lr_scheduler_type") or "linear"
    shown = repr(kind) if data.get("lr_scheduler_type") else "'linear' (the default)"
    if "scheduler" in config:
        optimizer_lr = _optimizer_lr(config, name) if "optimizer" in config else lr
        built = schedule(config, name, optimizer_lr if optimizer_lr is not None else lr, notes, facts, where="")
        notes.insert(
            0,
            f"{_short(name, source)}'s scheduler ({built.kind}) replaces "
            f"lr_scheduler_type {shown}: Hugging Face's Trainer does not build its own when DeepSpeed has one",
        )
        spec = {**spec, "lr": built.base_lr, "step_every": "batch", "schedulers": [built.config]}
    else:
        facts.append(f"{name} has no scheduler block: lr_scheduler_type {kind!r} is in force, stepped by DeepSpeed")
        spec = {**spec, "schedulers": [hf_scheduler()]}
    notes.extend(fp16_notes(config, name))
    return Reading(spec, notes, facts)


def _short(name: str, source: str) -> str:
    """The config's file name (``ds_config.json``), or the inline block's description."""
    return name if name.startswith(source) else Path(name).name


def auto_warmup_steps(data: dict[str, Any], total: int) -> int:
    """``TrainingArguments.get_warmup_steps(T)`` (``warmup_ratio`` read as the HF reader reads it), before
    the ``max(1, ...)`` with which Hugging Face fills a DeepSpeed scheduler's ``warmup_num_steps: auto``."""
    steps = data.get("warmup_steps") or 0
    if not steps and data.get("warmup_ratio"):
        steps = data["warmup_ratio"]
    steps = float(steps)
    return int(steps) if steps >= 1 else math.ceil(total * steps)
