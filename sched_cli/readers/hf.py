"""Read Hugging Face ``TrainingArguments`` files (JSON or YAML) as sched specs.

The file is what ``HfArgumentParser.parse_json_file`` / ``parse_yaml_file`` take (HF's example
scripts, TRL's ``SFTConfig`` and its kind): a flat mapping of ``TrainingArguments`` fields. sched
reads these, with ``transformers`` 5.x's defaults, and ignores every other key:

==============================  ===============================================================
``TrainingArguments``           what sched does with it
==============================  ===============================================================
``learning_rate`` (5e-5)        ``lr``; ``--lr`` replaces it
``lr_scheduler_type``           the schedule, ``hf:<type>`` (:mod:`sched_cli.schedulers.hf`);
("linear")                      ``reduce_lr_on_plateau`` and ``greedy`` follow a metric: an error
``lr_scheduler_kwargs``         the schedule's arguments; a mapping, or JSON text as HF accepts
                                (``"true"``/``"3"``/``"0.5"`` inside it become bool/int/float)
``warmup_steps`` (0)            updates (``int()`` of it) if at least 1, else a ratio of the run
``warmup_ratio`` (4.x only)     read as 4.x read it, when ``warmup_steps`` is 0: a ratio
``num_train_epochs`` (3.0)      the run's length when ``max_steps`` is not positive; fractional
``max_steps`` (-1)              the run's length in updates when positive
``per_device_train_batch_size`` samples per device per micro-batch (8); ``--device-batch-size``
``gradient_accumulation_steps`` micro-batches per update (1)
``dataloader_drop_last``        (false) ``--drop-last`` replaces it
==============================  ===============================================================

What the file cannot say comes from the command line: ``--dataset-size`` (training samples;
needed unless ``max_steps > 0``), ``--devices`` (world size, default 1), ``--seq-len`` (tokens per
sample, for the token axis), ``--max-duration`` (``Nba`` sets ``max_steps``, ``Nep`` sets
``num_train_epochs``). The same three facts may also sit in the file as sched-only keys
``dataset_size``, ``devices`` and ``seq_len`` (the command line wins); HF's own parser rejects
keys it does not know, so keep them in a copy meant for sched.

The run replays ``Trainer.set_initial_training_values`` (transformers 5.x) over the loader
``accelerate`` prepares on each rank:

- the dataset is cut into ``L0 = ceil(N / b)`` micro-batches (``floor`` with drop_last); each of
  ``W`` ranks gets ``L = L0 / W`` of them, rounded up unless drop_last (``even_batches``: the
  last round is completed with samples from the start, so every micro-batch on a rank is full
  when ``W > 1``);
- an epoch is ``U = max(ceil(L / g), 1)`` updates, the last one taking the ``L mod g`` leftover
  micro-batches (or ``g``);
- the run is ``max_steps`` updates, or ``ceil(num_train_epochs x U)``.

Each row of the spec's run is one optimizer update: ``batch`` is the update index (HF's
``global_step`` before it), ``sample`` the samples all ranks consumed before it (an update holds
``W x b x g``; an epoch's last update fewer when the micro-batches or the data do not divide).
"""

from __future__ import annotations

import difflib
import json
import math
import numbers
from typing import Any

from sched_cli import registry
from sched_cli.readers import ReaderError, Reading, hf_fields
from sched_cli.schedulers.base import ScheduleError

__all__ = [
    "NAME",
    "TITLE",
    "TRAINER",
    "REFERENCE",
    "CONSUMES",
    "KEYS",
    "IRRELEVANT",
    "HFConfigError",
    "HFGeometry",
    "recognise",
    "read",
    "hf_geometry",
]

NAME = "hf"
TITLE = "Hugging Face TrainingArguments"
TRAINER = "hf"
REFERENCE = "hf"
#: The fields read, and those whose values are checked for what sched does not model.
KEYS = hf_fields.READ | frozenset(hf_fields.UNMODELLED)
IRRELEVANT = hf_fields.IRRELEVANT
EMPTY = (
    "a TrainingArguments file needs its schedule's fields, e.g. learning_rate, lr_scheduler_type, warmup_steps, "
    "num_train_epochs or max_steps, per_device_train_batch_size (or drop --from hf for a sched spec)"
)
#: Command-line options this reader applies itself (they change HF's step counts), so that the
#: spec layer does not apply them a second time.
CONSUMES = ("max_duration", "dataset_size", "devices", "device_batch_size", "drop_last", "seq_len", "lr")
CONSUMES += ("deepspeed_config",)
#: Options a TrainingArguments file has no use for (the reader contract refuses them).
NOT_FOR = {
    "batch_size": "use --device-batch-size (per_device_train_batch_size)",
    "dataloader_len": "use --dataset-size (HF derives the loader's length from it)",
    "step_every": "Hugging Face steps its scheduler after every optimizer update",
}

#: Keys only a ``TrainingArguments`` file has (never a sched spec or an LLM Foundry YAML).
_HF_KEYS = (
    "lr_scheduler_type",
    "per_device_train_batch_size",
    "learning_rate",
    "gradient_accumulation_steps",
    "lr_scheduler_kwargs",
    "warmup_ratio",
    "dataloader_drop_last",
    "output_dir",
)
# TrainingArguments' defaults in transformers 5.x.
_DEFAULTS = {
    "learning_rate": 5e-5,
    "lr_scheduler_type": "linear",
    "warmup_steps": 0,
    "num_train_epochs": 3.0,
    "max_steps": -1,
    "per_device_train_batch_size": 8,
    "gradient_accumulation_steps": 1,
    "dataloader_drop_last": False,
}
#: Keys sched reads from an HF file beside TrainingArguments': facts only the command line gives HF.
_SCHED_KEYS = ("dataset_size", "devices", "seq_len")
# Types whose get_scheduler call receives no lr_scheduler_kwargs (HF ignores them).
_KWARGS_IGNORED = ("constant", "constant_with_warmup")
# Arguments of sched's HF classes that are not HF kwargs: the reader fills them in.
_SCHED_ONLY = ("lr_init", "warmup_steps")


class HFConfigError(ReaderError):
    """A ``TrainingArguments`` file sched cannot replay; the message names the file and the key."""


def recognise(data: Any) -> bool:
    """A mapping with a ``TrainingArguments`` key and none of a sched spec's (``schedulers``, ``max_duration``),
    that no front-end tool's reader (axolotl, LLaMA-Factory) claims."""
    if not isinstance(data, dict) or any(key in data for key in ("schedulers", "scheduler", "max_duration")):
        return False
    from sched_cli.readers import front_end  # the front-end readers import this module

    return any(key in data for key in _HF_KEYS) and front_end(data) is None


class HFGeometry:
    """How a Hugging Face Trainer run is cut into optimizer updates (see the module docstring).

    Args:
        dataset_size: Training samples, ``N`` (``None``: unknown, only for a ``max_steps`` run).
        device_batch_size: ``per_device_train_batch_size``, ``b``.
        devices: World size, ``W``.
        accumulation: ``gradient_accumulation_steps``, ``g``.
        drop_last: ``dataloader_drop_last``.
    """

    def __init__(
        self, dataset_size: int | None, device_batch_size: int, devices: int, accumulation: int, drop_last: bool
    ) -> None:
        self.dataset_size = dataset_size
        self.device_batch_size = device_batch_size
        self.devices = devices
        self.accumulation = accumulation
        self.drop_last = drop_last

    @property
    def rank_batches(self) -> int | None:
        """``len(train_dataloader)`` on each rank, after ``accelerator.prepare``."""
        n, b, w = self.dataset_size, self.device_batch_size, self.devices
        if n is None:
            return None
        total = n // b if self.drop_last else -(-n // b)  # the whole dataset's BatchSampler
        if w == 1:
            return total
        # accelerate's BatchSamplerShard: one micro-batch per rank per round; a last partial
        # round is dropped with drop_last, else completed (even_batches) so every rank gets one.
        return total // w if total % w == 0 or self.drop_last else total // w + 1

    @property
    def updates_per_epoch(self) -> int | None:
        """``num_update_steps_per_epoch``: ``max(ceil(L / g), 1)``."""
        length = self.rank_batches
        if length is None:
            return None
        return max(length // self.accumulation + int(length % self.accumulation > 0), 1)

    @property
    def update_size(self) -> int:
        """Samples of a full update, across ranks: ``W x b x g``."""
        return self.devices * self.device_batch_size * self.accumulation

    @property
    def last_update_size(self) -> int | None:
        """Samples of an epoch's last update, across ranks."""
        length = self.rank_batches
        if length is None or self.dataset_size is None:
            return None
        leftover = length % self.accumulation or self.accumulation
        full = self.devices * self.device_batch_size
        if self.devices == 1 and not self.drop_last:
            # One process: a plain DataLoader, whose last micro-batch holds what is left.
            last = self.dataset_size - (length - 1) * self.device_batch_size
        else:
            last = full  # dropped, or completed by even_batches
        return (leftover - 1) * full + last

    def max_steps(self, max_steps: int, num_train_epochs: float) -> int:
        """The run's updates: ``max_steps`` if positive, else ``ceil(num_train_epochs x U)``."""
        if max_steps > 0:
            return max_steps
        return math.ceil(num_train_epochs * self.updates_per_epoch)  # type: ignore[operator]


def hf_geometry(data: dict[str, Any], source: str, options: dict[str, Any]) -> tuple[HFGeometry, int, float | None]:
    """The update geometry of a ``TrainingArguments`` mapping, its ``max_steps``, and its
    ``num_train_epochs`` when the run is counted in epochs (else ``None``)."""
    args = _Args(data, source)
    max_steps = args.whole("max_steps", allow_negative=True)
    epochs = args.number("num_train_epochs")
    duration = options.get("max_duration")
    if duration is not None:
        max_steps, epochs = _duration_option(source, str(duration))
    if max_steps == 0:
        # Trainer counts epochs only when max_steps < 0; at 0 it stops after the first update
        # (global_step >= max_steps), trained with num_training_steps = 0.
        raise args.error(
            "max_steps",
            "0 makes transformers 5.x train one single update with num_training_steps 0 (its stop check is "
            "global_step >= max_steps); sched does not preview that: use -1 to train num_train_epochs, or a "
            "positive number of updates",
        )
    devices = _option_count(source, options, "devices", 1)
    size = options.get("dataset_size")
    if size is not None:
        size = _option_count(source, options, "dataset_size", None)
    b = options.get("device_batch_size") or args.whole("per_device_train_batch_size")
    drop_last = options.get("drop_last")
    if drop_last is None:
        drop_last = args.flag("dataloader_drop_last")
    geometry = HFGeometry(size, b, devices, args.whole("gradient_accumulation_steps"), drop_last)
    if b < 1:
        raise args.error("per_device_train_batch_size", f"{b} must be at least 1")
    if geometry.accumulation < 1:
        raise args.error("gradient_accumulation_steps", f"{geometry.accumulation} must be at least 1")
    if size is None and max_steps <= 0:
        raise HFConfigError(
            f"{source}: num_train_epochs: the run is {epochs:g} epochs (max_steps is not positive), so sched needs "
            "the number of training samples: give --dataset-size N (or set max_steps in the file)"
        )
    if geometry.rank_batches == 0:
        raise HFConfigError(
            f"{source}: dataloader_drop_last: {size:,} samples in micro-batches of {b} on {devices} device(s) leave "
            "every rank's dataloader empty, so the Trainer would train 0 steps; use a larger --dataset-size, a "
            "smaller per_device_train_batch_size or dataloader_drop_last: false"
        )
    if max_steps <= 0:
        if not epochs > 0:
            raise args.error("num_train_epochs", f"{epochs!r} must be greater than 0 when max_steps is not positive")
        return geometry, max_steps, epochs
    return geometry, max_steps, None


def read(data: Any, source: str, options: dict[str, Any]) -> Reading:
    """The sched spec mapping of a ``TrainingArguments`` file (see the module docstring), with a
    note for each field set to a value that changes the schedule in a way sched does not model."""
    spec = _spec(data, source, options)
    deepspeed = Reading({})  # what a DeepSpeed config beside the file says (readers/deepspeed.py)
    if isinstance(spec, Reading):
        deepspeed, spec = spec, spec.spec
    notes = deepspeed.notes + [
        f"{source}: {key}: {data[key]!r}: {note}"
        for key, (applies, note) in hf_fields.UNMODELLED.items()
        if key in data and applies(data[key])
    ]
    # The updates, their samples and the epochs are in validate's own lines (views.run_facts).
    return Reading(spec, notes, deepspeed.facts)


def _spec(data: Any, source: str, options: dict[str, Any]) -> dict[str, Any] | Reading:
    if not isinstance(data, dict):
        raise HFConfigError(f"{source}: a TrainingArguments file is a mapping of fields, not {type(data).__name__}")
    sched_keys = [key for key in ("schedulers", "scheduler", "max_duration") if key in data]
    if sched_keys:
        raise HFConfigError(
            f"{source}: {sched_keys[0]}: a TrainingArguments file has no such key (this looks like a sched spec "
            "or an LLM Foundry YAML); drop --from hf"
        )
    if data and not any(key in KEYS or key in IRRELEVANT or key in _SCHED_KEYS for key in data):
        # Read with every default, it would be a run the file never describes.
        keys = ", ".join(str(key) for key in list(data)[:4]) + (", ..." if len(data) > 4 else "")
        raise HFConfigError(
            f"{source}: none of its keys ({keys}) is a TrainingArguments field, so it is not a Hugging Face "
            "training file; give the file the training script reads"
        )
    # sched-only keys of the file, for what TrainingArguments cannot say; options win.
    options = {**{k: data[k] for k in _SCHED_KEYS if data.get(k) is not None}, **options}
    args = _Args(data, source)
    lr = options.get("lr")
    if lr is None:
        lr = args.number("learning_rate")
    if not lr > 0:
        raise args.error("learning_rate", f"{lr!r} must be greater than 0")
    geometry, max_steps, epochs = hf_geometry(data, source, options)
    total = geometry.max_steps(max_steps, epochs or 0.0)
    spec: dict[str, Any] = {
        "trainer": "hf",
        "max_duration": f"{total}ba",
        "batch_size": geometry.update_size,
        "seq_len": _option_count(source, options, "seq_len", 1),
        "lr": lr,
    }
    if geometry.updates_per_epoch is not None:
        spec["dataloader_len"] = geometry.updates_per_epoch
        spec["last_batch_size"] = geometry.last_update_size
    if epochs is not None:
        spec["num_train_epochs"] = epochs
    if data.get("deepspeed") or options.get("deepspeed_config") is not None:  # DeepSpeed's scheduler may replace HF's
        from sched_cli.readers.deepspeed import under_hf

        b, g = geometry.device_batch_size, geometry.accumulation
        return under_hf(data, source, options, spec, lambda: _scheduler(args, lr), b, g)
    spec["schedulers"] = [_scheduler(args, lr)]
    return spec


# -- the schedule ---------------------------------------------------------------------------------
def _scheduler(args: _Args, lr: float) -> dict[str, Any]:
    # Imported here: recognising a file (every reader is asked) must not load every family's formulas.
    from sched_cli.schedulers.hf import HF_SCHEDULERS, NOT_PREVIEWABLE

    kind = args.value("lr_scheduler_type")
    if not isinstance(kind, str):
        raise args.error("lr_scheduler_type", f"expected a scheduler type such as 'cosine', got {kind!r}")
    kind = kind.strip()
    if kind.startswith("SchedulerType."):  # str(SchedulerType.COSINE) written out by some scripts
        kind = kind.split(".", 1)[1].lower()
    if kind in NOT_PREVIEWABLE:
        raise args.error(
            "lr_scheduler_type",
            f"{kind!r} cannot be previewed: {NOT_PREVIEWABLE[kind]}, which only a real training run knows; "
            "choose a type whose LR depends on the step alone (" + ", ".join(HF_SCHEDULERS) + ")",
        )
    if kind not in HF_SCHEDULERS:
        close = difflib.get_close_matches(kind, list(HF_SCHEDULERS) + list(NOT_PREVIEWABLE), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise args.error(
            "lr_scheduler_type",
            f"{kind!r} is not a transformers SchedulerType{hint}; it has {', '.join(HF_SCHEDULERS)}",
        )
    config: dict[str, Any] = {"name": f"hf:{kind}"}
    entry = registry.lookup(f"hf:{kind}")
    assert entry is not None
    params = {p.name: p for p in entry.params}
    if "warmup_steps" in params:
        config["warmup_steps"] = _warmup(args)
    if kind not in _KWARGS_IGNORED:
        for key, value in _kwargs(args).items():
            if key not in params or key in _SCHED_ONLY:
                takes = [p for p in params if p not in _SCHED_ONLY]
                raise args.error(
                    f"lr_scheduler_kwargs.{key}",
                    f"{kind!r} takes no argument {key!r} (Hugging Face raises TypeError); "
                    + (f"it takes {', '.join(takes)}" if takes else "it takes none"),
                )
            if value is None and params[key].default is None:
                continue
            wanted = params[key].kind
            ok = isinstance(value, str) if wanted == "str" else _is_number(value)
            if not ok:
                raise args.error(
                    f"lr_scheduler_kwargs.{key}",
                    f"expected {'a word' if wanted == 'str' else 'a number'}, got {value!r}",
                )
            config[key] = value
        if "lr_init" in params:
            config["lr_init"] = lr
    try:  # HF's own checks (min_lr and min_lr_rate both, lr_end above the LR...), named at the file's key
        entry.cls(**{k: v for k, v in config.items() if k != "name"})
    except (ScheduleError, TypeError) as exc:
        raise args.error("lr_scheduler_kwargs", str(exc)) from None
    return config


def _warmup(args: _Args) -> float:
    steps = args.number("warmup_steps")
    if steps < 0:
        raise args.error("warmup_steps", f"{steps!r} must be at least 0 (updates, or a ratio below 1)")
    if "warmup_ratio" in args.data and args.data["warmup_ratio"] is not None and steps == 0:
        # transformers 4.x: warmup_steps (when positive) wins; else ceil(T x warmup_ratio), which
        # is what 5.x computes for warmup_steps = ratio < 1.
        ratio = args.number("warmup_ratio")
        if not 0 <= ratio < 1:
            raise args.error(
                "warmup_ratio",
                f"{ratio!r} must lie in [0, 1); transformers 5.x has no warmup_ratio: write warmup_steps as a ratio "
                "below 1, or as a number of updates",
            )
        return ratio
    return steps


def _kwargs(args: _Args) -> dict[str, Any]:
    value = args.data.get("lr_scheduler_kwargs")
    if value is None or value == "" or value == {}:
        return {}
    if isinstance(value, str):
        if not value.lstrip().startswith("{"):
            raise args.error(
                "lr_scheduler_kwargs", f"expected a mapping or JSON text such as '{{\"num_cycles\": 2}}', got {value!r}"
            )
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise args.error("lr_scheduler_kwargs", f"malformed JSON: {exc.msg} at column {exc.colno}") from None
        if not isinstance(value, dict):
            raise args.error("lr_scheduler_kwargs", "the JSON text must hold a mapping")
        value = {k: _typed(v) for k, v in value.items()}  # as TrainingArguments' _convert_str_dict does
    if not isinstance(value, dict):
        raise args.error("lr_scheduler_kwargs", f"expected a mapping of arguments, got {type(value).__name__}")
    return {str(k): v for k, v in value.items()}


def _typed(value: Any) -> Any:
    """A string inside JSON-text kwargs as HF reads it: ``"true"`` a bool, digits a number."""
    if not isinstance(value, str):
        return value
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    if value.isdigit():
        return int(value)
    if value.replace(".", "", 1).isdigit():
        return float(value)
    return value


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, numbers.Real) and math.isfinite(value)


# -- reading fields -------------------------------------------------------------------------------
class _Args:
    """The file's fields, with transformers 5.x's defaults for those it does not set."""

    def __init__(self, data: dict[str, Any], source: str) -> None:
        self.data = data
        self.source = source

    def error(self, key: str, message: str) -> HFConfigError:
        return HFConfigError(f"{self.source}: {key}: {message}")

    def value(self, key: str) -> Any:
        value = self.data.get(key)
        return _DEFAULTS[key] if value is None else value

    def number(self, key: str) -> float:
        value = self.value(key)
        if isinstance(value, str):
            # YAML 1.1 reads 5e-5 (no dot) as text; HF's dataclass would keep the text and fail later.
            try:
                value = float(value)
            except ValueError:
                raise self.error(key, f"expected a number, got text {value!r}") from None
        if not _is_number(value):
            raise self.error(key, f"expected a number, got {value!r}")
        return value

    def whole(self, key: str, allow_negative: bool = False) -> int:
        value = self.number(key)
        if not float(value).is_integer() or (value < 1 and not allow_negative):
            raise self.error(key, f"expected a whole number{'' if allow_negative else ' of at least 1'}, got {value!r}")
        return int(value)

    def flag(self, key: str) -> bool:
        value = self.value(key)
        if not isinstance(value, bool):
            raise self.error(key, f"expected true or false, got {value!r}")
        return value


def _option_count(source: str, options: dict[str, Any], key: str, default: int | None) -> Any:
    value = options.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise HFConfigError(f"{source}: --{key.replace('_', '-')} {value!r} must be a whole number of at least 1")
    return value


def _duration_option(source: str, text: str) -> tuple[int, float]:
    """``--max-duration``: ``Nba`` is ``max_steps``, ``Nep`` is ``num_train_epochs``."""
    from sched_cli.time import Time, TimeStringError, TimeUnit

    try:
        time = Time.from_timestring(text.strip())
    except TimeStringError as exc:
        raise HFConfigError(f"{source}: --max-duration: {exc}") from None
    if time.unit is TimeUnit.BATCH and time.value > 0:
        return int(time.value), 0.0
    if time.unit is TimeUnit.EPOCH and time.value > 0:
        return -1, float(time.value)
    raise HFConfigError(
        f"{source}: --max-duration {text}: a Hugging Face run is max_steps (Nba) or num_train_epochs (Nep), at least 1"
    )
