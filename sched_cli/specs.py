"""Read and validate run specs: YAML, JSON or TOML files, and inline scheduler expressions.

A spec describes a run and its schedulers::

    max_duration: 90ep        # required; ep|ba|sp|tok
    dataset_size: 1281167     # samples; with devices and device_batch_size gives the loader's length
    devices: 8                # world size (default 1)
    device_batch_size: 32     # samples per batch on each device (or batch_size: across them)
    drop_last: false          # drop what does not fill a batch (default false)
    # dataloader_len: 5005    # or give batches per epoch directly
    seq_len: 1                # tokens per sample (default 1)
    lr: 0.1                   # optional base LR
    ssr: 1.0                  # optional default SSR (or a list of them)
    step_every: batch         # batch | epoch
    schedulers:
      - name: multistep_with_warmup
        t_warmup: 5ep
        milestones: [30ep, 60ep, 80ep]

Every problem is a :class:`SpecError` whose message names the file, the key, the bad value and
what would be valid.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import math
import numbers
import re
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sched_cli import parsing, readers, registry
from sched_cli.composer_modules import composer_stand_ins
from sched_cli.geometry import Geometry, GeometryError
from sched_cli.resume import Resume
from sched_cli.schedulers.base import BuiltinScheduler, ScheduleError, scheduler_name
from sched_cli.schedulers.torch_native import TorchScheduler, is_torch_scheduler_name
from sched_cli.simulator import TRAINERS, Run, SimulationError, plan
from sched_cli.time import COUNTED_UNITS, Time, TimeStringError, TimeUnit
from sched_cli.trust import Trust, UntrustedCode

__all__ = [
    "SpecError",
    "Spec",
    "Overrides",
    "load",
    "load_file",
    "from_mapping",
    "parse_expression",
    "short_expression",
    "check",
]

SPEC_SUFFIXES = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".toml": "toml"}
TOP_LEVEL_KEYS = (
    "max_duration",
    "dataloader_len",
    "dataset_size",
    "devices",
    "device_batch_size",
    "batch_size",
    "drop_last",
    "last_batch_size",
    "seq_len",
    "lr",
    "ssr",
    "step_every",
    "trainer",
    "last_batch_size",
    "num_train_epochs",
    "schedulers",
    "scheduler",
    "title",
    "description",
    "resume",
)
#: Keys that say the same thing in two ways: a value given on the command line for one of them
#: replaces what the file says of the others, so that ``--devices 16`` or ``--dataloader-len``
#: asks "what if" without contradicting the file.
_ALTERNATIVES = {
    "batch_size": ("device_batch_size",),
    "device_batch_size": ("batch_size",),
    "dataloader_len": ("dataset_size", "drop_last"),
    "dataset_size": ("dataloader_len",),
}
# Larger counts are typos (or units mixed up): no real loader has 2**53 batches per epoch.
MAX_COUNT = 2**53
#: How deep `sequential` phases may nest (each level is a scheduler inside a phase).
MAX_PHASE_DEPTH = 16


class SpecError(Exception):
    """A spec that cannot be used; the message says where and why."""


@dataclass(frozen=True)
class Overrides:
    """Values given on the command line; they win over the spec file's."""

    max_duration: str | None = None
    dataloader_len: int | None = None
    dataset_size: int | None = None
    devices: int | None = None
    device_batch_size: int | None = None
    batch_size: int | None = None
    drop_last: bool | None = None
    seq_len: int | None = None
    lr: float | None = None
    #: ``--auto-scale-lr``: MMEngine's ``auto_scale_lr.enable`` switched on (MMEngine configs only).
    auto_scale_lr: bool | None = None
    step_every: str | None = None
    #: How to read a spec file: ``"sched"``, ``"foundry"`` (an LLM Foundry training YAML), or
    #: ``None`` to recognise the shape by itself.
    source: str | None = None
    #: Modules whose custom schedulers the user allows (``--allow-import``); see :mod:`sched_cli.trust`.
    allow_import: tuple[str, ...] = ()
    #: ``--resume-from BEFORE --resume-at TIME``: the run was resumed from BEFORE's checkpoint.
    resume_from: str | None = None
    resume_at: str | None = None
    #: ``--stop-at TIME``: preview the run stopped early.
    stop_at: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "allow_import", tuple(self.allow_import or ()))

    def options(self) -> dict[str, Any]:
        """The values given, by name, for readers of other tools' files."""
        return {key: value for key, value in vars(self).items() if value is not None and key not in _NOT_RUN_OPTIONS}

    def apply(self, data: dict[str, Any]) -> dict[str, Any]:
        given = self.options()
        merged = {key: value for key, value in data.items() if not any(key in _ALTERNATIVES.get(g, ()) for g in given)}
        merged.update(given)
        return merged


_NOT_RUN_OPTIONS = ("source", "allow_import", "resume_from", "resume_at", "stop_at")


@dataclass
class Spec:
    """A validated spec: the run, the SSRs to show, and where it came from.

    ``before`` and ``resume_at``: the run was resumed from a checkpoint of ``before`` taken at
    ``resume_at`` (spec key ``resume:``). ``stop_at``: the run is shown stopped early there.
    """

    source: str
    run: Run
    ssrs: tuple[float, ...] = (1.0,)
    title: str = ""
    configs: list[dict[str, Any]] = field(default_factory=list)
    #: The scheduler expression an inline spec was read from (empty for a file).
    expression: str = ""
    before: Spec | None = None
    resume_at: Time | None = None
    stop_at: Time | None = None
    #: A reader's warnings about the file (keys it does not model, a schedule another block
    #: replaces): printed with the other warnings, and ``validate --strict`` fails on them.
    notes: list[str] = field(default_factory=list)
    #: The numbers a reader's tool derives (steps, warmup steps...), printed by ``validate``.
    facts: list[str] = field(default_factory=list)

    @property
    def resume(self) -> Resume | None:
        """The simulator's description of the resume: BEFORE's run at its first SSR, and the checkpoint."""
        if self.before is None or self.resume_at is None:
            return None
        return Resume(self.before.run, self.resume_at, self.before.ssrs[0])

    @property
    def label(self) -> str:
        """A short name for legends and tables: the title, else the inline expression (shortened
        by :func:`short_expression`), else the file's stem."""
        if self.title:
            return self.title
        if self.expression:
            return short_expression(self.expression)
        return "inline" if self.source == "<inline>" else Path(self.source).stem

    @property
    def long_label(self) -> str:
        """The label at full length, to tell apart specs whose short labels are the same."""
        if self.title:
            return f"{self.title} ({self.source})" if self.source != "<inline>" else self.title
        if self.expression:
            return short_expression(self.expression, limit=None)
        return self.source


# -- entry points -------------------------------------------------------------------------------
def load(arg: str, overrides: Overrides | None = None) -> Spec:
    """A spec from a file path, or from an inline scheduler expression plus options
    (``--resume-from``/``--resume-at`` and ``--stop-at`` included)."""
    overrides = overrides or Overrides()
    spec = _load(arg, overrides)
    where = _Where("command line")
    if overrides.resume_from is not None:
        if overrides.resume_at is None:
            raise SpecError("command line: --resume-from needs --resume-at TIME (the checkpoint, e.g. 5000ba)")
        before = _load(overrides.resume_from, Overrides(source=overrides.source, allow_import=overrides.allow_import))
        if before.before is not None:
            raise SpecError(f"{before.source}: resume: a resumed run cannot be resumed from again (chained resumes)")
        spec = replace(spec, before=before)
    if overrides.resume_at is not None:
        if spec.before is None:
            raise SpecError("command line: --resume-at needs --resume-from BEFORE (or a resume: key in the spec)")
        spec = replace(spec, resume_at=_time_value(where, "--resume-at", overrides.resume_at))
    if overrides.stop_at is not None:
        spec = replace(spec, stop_at=_time_value(where, "--stop-at", overrides.stop_at))
    return spec


def _load(arg: str, overrides: Overrides) -> Spec:
    if not arg.strip():
        raise SpecError(
            "the spec is empty: give a spec file (.yaml, .yml, .json, .toml) or a scheduler expression "
            "such as 'cosine_with_warmup(t_warmup=100ba)'"
        )
    if is_spec_file_argument(arg):
        return load_file(Path(arg), overrides)
    if not _looks_like_expression(arg):
        raise SpecError(
            f"{arg!r} is neither a spec file (.yaml, .yml, .json, .toml) nor a scheduler expression "
            "such as 'cosine_with_warmup(t_warmup=100ba)'"
        )
    data = overrides.apply({"schedulers": parse_expression(arg)})
    if "max_duration" not in data:
        raise SpecError(f"inline scheduler {arg!r} needs --max-duration (e.g. --max-duration 1000ba)")
    spec = from_mapping(data, "<inline>", Path.cwd(), trust=Trust.for_inline(overrides.allow_import))
    return replace(spec, expression=arg)


def is_spec_file_argument(arg: str) -> bool:
    """Whether a SPEC argument names a file rather than an inline expression, by its shape.

    A spec suffix (``.yaml``, ``.json``, ...) means a file; parentheses or ``;`` mean an
    expression. Only a bare word (``linear``, ``/dev/stdin``) is looked up on disk, and an
    expression of any length is never handed to the file system.
    """
    text = arg.strip()
    if not text:
        return False
    if Path(text).suffix.lower() in SPEC_SUFFIXES:
        return True
    if any(ch in text for ch in "();=\n"):
        return False
    try:
        return Path(arg).exists()
    except (OSError, ValueError):  # too long for a file name, or a NUL in it
        return False


def load_file(path: str | Path, overrides: Overrides | None = None, *, trust: Trust | None = None) -> Spec:
    """Read, parse and validate a spec file (``trust``: what custom code it may run; default: its
    own directory tree and ``--allow-import``)."""
    path = Path(path)
    kind = SPEC_SUFFIXES.get(path.suffix.lower())
    if kind is None and path.suffix.lower() == ".py":
        return _load_python_config(path, overrides or Overrides())
    if kind is None:
        raise SpecError(f"{path}: unknown spec format {path.suffix!r}; use .yaml, .yml, .json or .toml")
    try:
        text = parsing.read_text(path)
    except parsing.ParseError as exc:
        raise SpecError(str(exc)) from None
    if not text.strip():
        raise SpecError(f"{path}: the spec file is empty; it needs at least max_duration and schedulers")
    data = _parse(text, kind, path)
    if not isinstance(data, dict):
        raise SpecError(f"{path}: a spec must be a mapping of keys (max_duration, schedulers, ...), not {_kind(data)}")
    overrides = overrides or Overrides()
    reader = overrides.source if overrides.source not in (None, "sched") else None
    if overrides.source is None:
        reader = readers.recognise(data)
    if overrides.auto_scale_lr and reader != "mmengine":
        raise SpecError(f"{path}: --auto-scale-lr switches on an MMEngine config's auto_scale_lr; this is not one")
    if reader is not None:
        try:
            reading = readers.read(reader, data, str(path), overrides.options())
        except readers.ReaderError as exc:
            raise SpecError(str(exc)) from None
        # What the reader has already applied (HF's --devices changes its steps) is not applied twice.
        overrides = replace(overrides, **{key: None for key in getattr(readers.reader(reader), "CONSUMES", ())})
        trust = trust or Trust.for_spec(path.parent, overrides.allow_import)
        spec = from_mapping(overrides.apply(reading.spec), str(path), path.parent, trust=trust)
        return replace(spec, notes=reading.notes, facts=reading.facts)
    trust = trust or Trust.for_spec(path.parent, overrides.allow_import)
    return from_mapping(overrides.apply(data), str(path), path.parent, trust=trust)


def _load_python_config(path: Path, overrides: Overrides) -> Spec:
    """A Python config file: code, so it is run only when asked for by name (``--from mmengine``)."""
    if overrides.source != "mmengine":
        raise SpecError(
            f"{path}: a Python file is read only as an MMEngine config, which runs it: "
            "add --from mmengine to do so (a spec is .yaml, .yml, .json or .toml)"
        )
    if not path.is_file():
        raise SpecError(f"{path}: no such file")
    try:
        data = readers.reader("mmengine").load_python(path)
        reading = readers.read("mmengine", data, str(path), overrides.options())
    except readers.ReaderError as exc:
        raise SpecError(str(exc)) from None
    trust = Trust.for_spec(path.parent, overrides.allow_import)
    spec = from_mapping(overrides.apply(reading.spec), str(path), path.parent, trust=trust)
    return replace(spec, notes=reading.notes, facts=reading.facts)


def _parse(text: str, kind: str, path: Path) -> Any:
    """Parse a spec file's text within bounds (size, nesting, aliases, duplicate keys)."""
    try:
        return parsing.parse(text, kind, str(path))
    except parsing.ParseError as exc:
        raise SpecError(str(exc)) from None


# -- validation ----------------------------------------------------------------------------------
def from_mapping(data: dict[str, Any], source: str, base_dir: Path, *, trust: Trust | None = None) -> Spec:
    """Validate a parsed spec and build its run.

    Custom schedulers are allowed by ``trust`` (default: ``.py`` files in ``base_dir``'s tree, and
    the modules in ``SCHED_ALLOW_IMPORT``), checked before anything is imported.
    """
    where = _Where(source, trust=trust or Trust.for_spec(base_dir))
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            raise where.error(
                str(key),
                f"unknown key{registry.suggest(str(key), TOP_LEVEL_KEYS)}; valid keys are {', '.join(TOP_LEVEL_KEYS)}",
            )
    if "max_duration" not in data or data["max_duration"] is None:
        raise where.error("max_duration", "is required, e.g. max_duration: 90ep (units ep, ba, sp, tok)")
    max_duration = _time_value(where, "max_duration", data["max_duration"])
    if max_duration.unit not in COUNTED_UNITS or max_duration.value <= 0:
        raise where.error("max_duration", f"{data['max_duration']!r} must be a positive number of ep, ba, sp or tok")
    dataloader_len, batch_size, last_batch_size, geometry = _geometry(where, data)
    seq_len = _count(where, "seq_len", data.get("seq_len", 1))
    lr = data.get("lr")
    if lr is not None:
        lr = _number(where, "lr", lr)
        if lr <= 0:
            raise where.error("lr", f"{lr!r} must be greater than 0")
    ssrs = _ssrs(where, data.get("ssr", 1.0))
    # Composer's Trainer steps every epoch by default when it is given a PyTorch scheduler.
    torch_named = _torch_configs(data)
    step_every = data.get("step_every", "epoch" if torch_named else "batch")
    if step_every not in ("batch", "epoch"):
        raise where.error("step_every", f"{step_every!r} must be 'batch' or 'epoch'")
    trainer = data.get("trainer", "composer")
    if trainer not in TRAINERS:
        raise where.error("trainer", f"{trainer!r} must be one of {', '.join(TRAINERS)}")
    title = data.get("title") or ""
    if not isinstance(title, str):
        raise where.error("title", f"must be text, not {_kind(title)}")

    configs = _scheduler_configs(where, data)
    schedulers = [_build(where.at(key), config, base_dir) for key, config in configs]
    if any(isinstance(sc, TorchScheduler) for sc in schedulers) and len(schedulers) > 1:
        raise where.error(
            "schedulers",
            "a PyTorch scheduler must be the only scheduler of a run: how it combines with others on one "
            "optimizer is not modelled; compare them side by side with `sched compare` instead",
        )
    if dataloader_len is None:
        _require_no_epochs(where, max_duration, configs)
    try:
        run = Run(
            max_duration=max_duration,
            schedulers=tuple(schedulers),
            dataloader_len=dataloader_len,
            batch_size=batch_size,
            seq_len=seq_len,
            step_every=step_every,
            lr=lr,
            trainer=trainer,
            last_batch_size=last_batch_size,
            geometry=geometry,
            num_train_epochs=_hf_epochs(where, data),
        )
    except SimulationError as exc:
        raise SpecError(f"{source}: {exc}") from None
    before, resume_at = _resume(where, data.get("resume"), base_dir)
    return Spec(
        source=source,
        run=run,
        ssrs=ssrs,
        title=title,
        configs=[c for _, c in configs],
        before=before,
        resume_at=resume_at,
    )


def _resume(where: _Where, value: Any, base_dir: Path) -> tuple[Spec | None, Time | None]:
    """``resume: {from: before.yaml (relative to this spec) or a mapping, at: 5000ba}``."""
    if value is None:
        return None, None
    if not isinstance(value, dict):
        raise where.error("resume", f"expected a mapping with from and at, got {_kind(value)}")
    for key in value:
        if key not in ("from", "at"):
            raise where.error(f"resume.{key}", "unknown key; resume takes from (BEFORE's spec) and at (the checkpoint)")
    if "from" not in value or "at" not in value:
        missing = "from" if "from" not in value else "at"
        raise where.error(f"resume.{missing}", "is required: resume: {from: before.yaml, at: 5000ba}")
    at = _time_value(where, "resume.at", value["at"])
    origin = value["from"]
    if isinstance(origin, str):
        path = Path(origin)
        # BEFORE runs only the code the spec naming it may run: no more trust by pointing elsewhere.
        before = load_file(path if path.is_absolute() else base_dir / path, trust=where.trust)
    elif isinstance(origin, dict):
        before = from_mapping(origin, f"{where.source}: resume.from", base_dir, trust=where.trust)
    else:
        raise where.error("resume.from", f"expected a spec path or a mapping, got {_kind(origin)}")
    if before.before is not None:
        raise where.error("resume.from", "BEFORE is itself resumed: chained resumes are not supported")
    return before, at


def _geometry(where: _Where, data: dict[str, Any]) -> tuple[int | None, int, int | None, Geometry | None]:
    """Batches per epoch, samples per batch and in an epoch's last batch, and the geometry they
    come from: given directly (``dataloader_len``, ``batch_size``), or derived from the dataset
    size, devices and per-device batch as PyTorch's samplers and loaders derive them."""
    dataloader_len = _count(where, "dataloader_len", data.get("dataloader_len"), required=False)
    dataset_size = _count(where, "dataset_size", data.get("dataset_size"), required=False)
    devices = _count(where, "devices", data.get("devices", 1))
    device_batch_size = _count(where, "device_batch_size", data.get("device_batch_size"), required=False)
    batch_size = _count(where, "batch_size", data.get("batch_size"), required=False)
    drop_last = data.get("drop_last", False)
    if not isinstance(drop_last, bool):
        raise where.error("drop_last", f"expected true or false, got {_kind(drop_last)}")
    if device_batch_size is not None:
        if batch_size is not None and batch_size != devices * device_batch_size:
            raise where.error(
                "batch_size",
                f"{batch_size} disagrees with devices x device_batch_size = {devices} x {device_batch_size} = "
                f"{devices * device_batch_size}; give batch_size (global) or device_batch_size, not both",
            )
        batch_size = devices * device_batch_size
    elif batch_size is not None:
        if batch_size % devices:
            raise where.error(
                "batch_size",
                f"{batch_size} (samples per batch across devices) is not divisible by devices {devices}; "
                "give device_batch_size (per device) instead",
            )
        device_batch_size = batch_size // devices
    elif "devices" in data or dataset_size is not None:
        raise where.error(
            "device_batch_size",
            "is required with devices or dataset_size: samples per batch on each device (or batch_size, across them)",
        )
    else:
        batch_size = device_batch_size = 1
    if dataset_size is None:
        if "drop_last" in data:
            raise where.error(
                "drop_last", "needs dataset_size: it says whether the samples that do not fill a batch are dropped"
            )
        return dataloader_len, batch_size, _last_batch_size(where, data, dataloader_len, batch_size), None
    try:
        geometry = Geometry(dataset_size, device_batch_size, devices, drop_last)
    except GeometryError as exc:
        raise where.error("dataset_size", str(exc)) from None
    if dataloader_len is not None and dataloader_len != geometry.dataloader_len:
        raise where.error(
            "dataloader_len",
            f"{dataloader_len} disagrees with the {geometry.dataloader_len:,} batches per epoch that dataset_size "
            f"{dataset_size:,} gives ({devices} device(s) x {device_batch_size} per device, drop_last "
            f"{str(drop_last).lower()}); give one of them",
        )
    return geometry.dataloader_len, geometry.batch_size, geometry.last_batch_size, geometry


def _last_batch_size(where: _Where, data: dict[str, Any], dataloader_len: int | None, batch_size: int) -> int | None:
    """``last_batch_size`` given directly (readers of other trainers' files give it), beside
    ``dataloader_len`` and ``batch_size``."""
    value = _count(where, "last_batch_size", data.get("last_batch_size"), required=False)
    if value is not None and (dataloader_len is None or value > batch_size):
        raise where.error(
            "last_batch_size",
            f"{value} needs dataloader_len and must be at most batch_size {batch_size}: "
            "it is the samples of an epoch's last batch",
        )
    return value


def _hf_epochs(where: _Where, data: dict[str, Any]) -> float | None:
    """``num_train_epochs`` of a Hugging Face run (the HF reader writes it); fractional allowed."""
    value = data.get("num_train_epochs")
    if value is None:
        return None
    value = _number(where, "num_train_epochs", value)
    if value <= 0 or data.get("trainer") != "hf":
        raise where.error("num_train_epochs", f"{value!r} must be positive, with trainer: hf")
    return value


class _Where:
    """Where in a spec a value sits, for messages: ``file: schedulers[0].t_warmup: ...``."""

    def __init__(self, source: str, prefix: str = "", trust: Trust | None = None) -> None:
        self.source = source
        self.prefix = prefix
        #: What custom code the spec may run (see :mod:`sched_cli.trust`), carried to every nested place.
        self.trust = trust or Trust.for_inline()

    def at(self, key: str) -> _Where:
        return _Where(self.source, f"{self.prefix}{key}", self.trust)

    def error(self, key: str, message: str) -> SpecError:
        path = f"{self.prefix}.{key}" if self.prefix and key else self.prefix or key
        return SpecError(f"{self.source}: {path}: {message}" if path else f"{self.source}: {message}")


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({value!r})"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, str):
        return f"text {value!r}"
    return f"{type(value).__name__} {value!r}"


def _time_value(where: _Where, key: str, value: Any) -> Time:
    if isinstance(value, Time):
        return value
    if not isinstance(value, str):
        raise where.error(key, f"expected a time such as '100ba', '5ep', '3e4tok' or '0.1dur', got {_kind(value)}")
    try:
        time = Time.from_timestring(value.strip())
    except TimeStringError as exc:
        raise where.error(key, str(exc)) from None
    if time.unit is TimeUnit.SECOND:
        raise where.error(key, f"{value!r} is wall-clock time; use ep, ba, sp, tok or dur")
    if time.unit is TimeUnit.ITERATION:
        raise where.error(key, f"{value!r} is in iterations, which sched does not model; use ep, ba, sp, tok or dur")
    if not math.isfinite(time.value) or time.value < 0:
        raise where.error(key, f"{value!r} must be a finite time of at least 0")
    return time


def _number(where: _Where, key: str, value: Any) -> float:
    if isinstance(value, str):
        # YAML 1.1 reads 1e-5 (no dot) as text: accept any number written as text.
        try:
            value = float(value)
        except ValueError:
            raise where.error(key, f"expected a number, got {_kind(value)}") from None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise where.error(key, f"expected a number, got {_kind(value)}")
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an integer beyond any float (10**400): too large to compute with
        digits = int(value.bit_length() * math.log10(2)) + 1  # type: ignore[union-attr]
        raise where.error(
            key, f"an integer of about {digits} digits is too large; numbers must be below 1.8e308"
        ) from None
    if not finite:
        raise where.error(key, f"{value!r} is not a finite number")
    return value


def _count(where: _Where, key: str, value: Any, required: bool = True) -> int | None:
    if value is None:
        if required:
            raise where.error(key, "expected a whole number of at least 1, got nothing")
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise where.error(key, f"expected a whole number of at least 1, got {_kind(value)}")
    if value < 1:
        raise where.error(key, f"{value} must be at least 1")
    if value > MAX_COUNT:
        raise where.error(key, f"{value} is absurdly large (more than 2**53)")
    return int(value)


def _ssrs(where: _Where, value: Any) -> tuple[float, ...]:
    values = value if isinstance(value, list) else [value]
    if not values:
        raise where.error("ssr", "expected a number or a list of numbers, got an empty list")
    out = []
    for v in values:
        number = _number(where, "ssr", v)
        if number <= 0:
            raise where.error("ssr", f"{number!r} must be greater than 0")
        out.append(float(number))
    return tuple(out)


def _scheduler_configs(where: _Where, data: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    if "schedulers" in data and "scheduler" in data:
        raise where.error("scheduler", "give either `scheduler:` (one) or `schedulers:` (a list), not both")
    if "scheduler" in data:
        single = data["scheduler"]
        if not isinstance(single, dict):
            raise where.error("scheduler", f"expected a mapping with a `name` key, got {_kind(single)}")
        return [("scheduler", single)]
    if "schedulers" not in data:
        raise where.error("schedulers", "is required: a list of schedulers, each a mapping with a `name`")
    items = data["schedulers"]
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list) or not items:
        raise where.error("schedulers", f"expected a non-empty list of schedulers, got {_kind(items)}")
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise where.error(f"schedulers[{i}]", f"expected a mapping with a `name` key, got {_kind(item)}")
        out.append((f"schedulers[{i}]", item))
    return out


def _torch_configs(data: dict[str, Any]) -> bool:
    """Whether the spec names a PyTorch scheduler (before anything is built)."""
    items = data.get("schedulers", data.get("scheduler"))
    items = items if isinstance(items, list) else [items]
    return any(isinstance(i, dict) and is_torch_scheduler_name(i.get("name")) for i in items)


def _require_no_epochs(where: _Where, max_duration: Time, configs: list[tuple[str, dict[str, Any]]]) -> None:
    if max_duration.unit is TimeUnit.EPOCH:
        raise where.error(
            "dataloader_len",
            f"is required because max_duration {max_duration} is in epochs: give dataset_size (with devices and "
            "device_batch_size or batch_size) or dataloader_len (batches per epoch), "
            "or --dataset-size/--dataloader-len",
        )
    for key, config in configs:
        for param, value in config.items():
            for v in value if isinstance(value, list) else [value]:
                if isinstance(v, str) and re.fullmatch(r"\s*[-+0-9.eE]+\s*ep\s*", v, flags=re.IGNORECASE):
                    raise where.error(
                        "dataloader_len",
                        f"is required because {key}.{param} is in epochs ({v!r}); say how many batches an epoch has "
                        "(dataloader_len), or give dataset_size to derive it",
                    )


# -- schedulers --------------------------------------------------------------------------------
def _build(where: _Where, config: dict[str, Any], base_dir: Path) -> Callable[..., Any]:
    config = dict(config)
    name = config.pop("name", None)
    if name is None:
        raise where.error("name", "is required: a scheduler name such as cosine_with_warmup (see `sched list`)")
    if not isinstance(name, str):
        raise where.error("name", f"expected a scheduler name, got {_kind(name)}")
    entry = registry.lookup(name)
    if entry is not None:
        return _build_builtin(where, entry, config, base_dir)
    if is_torch_scheduler_name(name):
        try:
            return TorchScheduler(name, **config)
        except (ScheduleError, ImportError) as exc:
            raise where.error("name", str(exc)) from None
    if ":" in name:
        return _build_custom(where, name, config, base_dir)
    raise where.error(
        "name",
        f"unknown scheduler {name!r}{registry.suggest(name, registry.all_names())}; "
        "run `sched list` for every name, or give a custom one as path/to/file.py:function",
    )


def _build_builtin(where: _Where, entry: registry.Entry, config: dict[str, Any], base_dir: Path) -> BuiltinScheduler:
    params = {p.name: p for p in entry.params}
    for key in config:
        if key not in params:
            raise where.error(
                str(key),
                f"{entry.name} has no parameter {key!r}{registry.suggest(str(key), list(params))}; "
                f"its parameters are {', '.join(params)}",
            )
    missing = [p.name for p in params.values() if p.required and p.name not in config]
    if missing:
        raise where.error(missing[0], f"is required by {entry.name} (required: {', '.join(missing)})")
    kwargs = {}
    for key, value in config.items():
        kind = params[key].kind
        if kind == "time":
            _time_value(where, key, value)
            kwargs[key] = value.strip()
        elif kind == "times":
            if not isinstance(value, list):
                raise where.error(key, f"expected a list of times such as [30ep, 60ep], got {_kind(value)}")
            for i, v in enumerate(value):
                _time_value(where, f"{key}[{i}]", v)
            kwargs[key] = [v.strip() for v in value]
        elif kind == "bool":
            if not isinstance(value, bool):
                raise where.error(key, f"expected true or false, got {_kind(value)}")
            kwargs[key] = value
        elif kind == "str":
            if not isinstance(value, str):
                raise where.error(key, f"expected a word such as {params[key].default!r}, got {_kind(value)}")
            kwargs[key] = value.strip()
        elif kind == "phases":
            kwargs[key] = _phases(where, key, value, base_dir)
        elif kind == "mappings":
            kwargs[key] = value
        else:
            kwargs[key] = _number(where, key, value)
    try:
        return entry.cls(**kwargs)
    except (ScheduleError, TimeStringError, ValueError, TypeError) as exc:
        # The constructor's own checks (a word it does not know, phases that do not fit).
        raise where.error("", str(exc)) from None


def _phases(where: _Where, key: str, value: Any, base_dir: Path) -> list[dict[str, Any]]:
    """``[{duration: 2000ba, scheduler: {name: ...}}, ...]``: each phase's scheduler built like a
    top-level one."""
    if not isinstance(value, list) or not value:
        raise where.error(key, f"expected a non-empty list of phases (duration and scheduler), got {_kind(value)}")
    # Each nested phase adds one "].scheduler" to where we are; bound it before recursing.
    if where.prefix.count("].scheduler") >= MAX_PHASE_DEPTH:
        raise where.error(key, f"phases nest more than {MAX_PHASE_DEPTH} deep; sched builds at most {MAX_PHASE_DEPTH}")
    phases = []
    for i, phase in enumerate(value):
        at = f"{key}[{i}]"
        if not isinstance(phase, dict) or set(phase) != {"duration", "scheduler"}:
            raise where.error(at, f"expected a mapping with exactly `duration` and `scheduler`, got {_kind(phase)}")
        _time_value(where, f"{at}.duration", phase["duration"])
        if not isinstance(phase["scheduler"], dict):
            raise where.error(f"{at}.scheduler", f"expected a mapping with a `name`, got {_kind(phase['scheduler'])}")
        built = _build(
            where.at(f".{at}.scheduler" if where.prefix else f"{at}.scheduler"), phase["scheduler"], base_dir
        )
        phases.append({"scheduler": built, "duration": phase["duration"].strip()})
    return phases


def _build_custom(where: _Where, name: str, config: dict[str, Any], base_dir: Path) -> Callable[..., Any]:
    target, _, attr = name.rpartition(":")
    if not target or not attr.isidentifier():
        raise where.error("name", f"{name!r}: a custom scheduler is path/to/file.py:name or package.module:name")
    # The trust rule, before anything is imported or called.
    what = f"call {attr}({_kwargs(config, limit=80)})"
    try:
        if target.endswith(".py") or "/" in target or "\\" in target:
            path = where.trust.check_file(target, base_dir, what)
        else:
            where.trust.check_module(target, what)
    except UntrustedCode as exc:
        raise where.error("name", f"{name!r} {exc}") from None
    if target.endswith(".py") or "/" in target or "\\" in target:
        module = _import_file(where, path, target)
    else:
        try:
            module = importlib.import_module(target)
        except ModuleNotFoundError as exc:
            raise where.error("name", f"cannot import module {target!r}: {exc}") from None
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - any failure of user code is reported, not raised
            raise where.error("name", f"importing {target!r} failed: {type(exc).__name__}: {exc}") from None
    if not hasattr(module, attr):
        names = [n for n in vars(module) if not n.startswith("_")]
        raise where.error("name", f"{target!r} has no attribute {attr!r}{registry.suggest(attr, names)}")
    obj = getattr(module, attr)
    if inspect.isclass(obj):
        try:
            return obj(**config)
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - sys.exit() in user code must not end sched
            raise where.error(
                "name", f"constructing {attr}({_kwargs(config)}) failed: {type(exc).__name__}: {exc}"
            ) from None
    if not callable(obj):
        raise where.error("name", f"{name!r} is {_kind(obj)}, not a function or class")
    if config:
        raise where.error(
            next(iter(config)), f"{attr} is a function, so it takes no parameters (got {', '.join(config)})"
        )
    return obj


def _kwargs(config: dict[str, Any], limit: int | None = None) -> str:
    text = ", ".join(f"{k}={v!r}" for k, v in config.items())
    return text if limit is None or len(text) <= limit else text[: limit - 3] + "..."


def _import_file(where: _Where, path: Path, shown: str) -> Any:
    if not path.is_file():
        raise where.error("name", f"no such file {shown!r} (looked for {path})")
    module_name = f"sched_custom_{abs(hash(str(path)))}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise where.error("name", f"cannot load {shown!r} as a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    standing_in = False
    try:
        # Code written for Composer imports composer.core and composer.optim: without Composer,
        # sched's classes answer to those names while the file loads.
        with composer_stand_ins() as standing_in:
            spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - sys.exit() in user code must not end sched
        del sys.modules[module_name]
        line = ""
        tb = exc.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == str(path):
                line = f" (line {tb.tb_lineno})"
            tb = tb.tb_next
        hint = ""
        if standing_in and isinstance(exc, ImportError) and "composer" in str(exc):
            hint = (
                "; Composer is not installed, and sched stands in only for composer.core (State, Time, TimeUnit, "
                "Timestamp) and composer.optim (ComposerScheduler and the 13 schedulers)"
            )
        what = f"called sys.exit({exc.code!r})" if isinstance(exc, SystemExit) else f"{type(exc).__name__}: {exc}"
        raise where.error("name", f"importing {shown!r} failed{line}: {what}{hint}") from None
    return module


# -- inline expressions --------------------------------------------------------------------------
# A name may be a path (`../lib/mine.py:f`, `/abs/mine.py:f`): inline, the user chose the file.
_EXPRESSION = re.compile(r"^\s*(?P<name>[A-Za-z_./\\~][\w./\\:~-]*)\s*(?:\((?P<args>.*)\))?\s*$", re.DOTALL)


def _looks_like_expression(text: str) -> bool:
    return all(_EXPRESSION.match(part) for part in _split(text, ";"))


def parse_expression(text: str) -> list[dict[str, Any]]:
    """Scheduler configs from ``'name(key=value, ...)'``; several may be joined with ``;``.

    Values are read as YAML scalars and lists, so ``t_warmup=100ba``, ``alpha_f=0.1``,
    ``milestones=[30ep, 60ep]`` and ``scale_warmup=true`` all work unquoted.
    """
    configs = []
    for part in _split(text, ";"):
        match = _EXPRESSION.match(part)
        if match is None:
            raise SpecError(f"cannot read scheduler expression {part.strip()!r}; expected name(key=value, ...)")
        config: dict[str, Any] = {"name": match.group("name")}
        args = match.group("args")
        for item in _split(args or "", ","):
            if not item.strip():
                continue
            key, eq, value = item.partition("=")
            if not eq or not key.strip().isidentifier():
                raise SpecError(f"in {part.strip()!r}: {item.strip()!r} is not key=value")
            if key.strip() in config:
                raise SpecError(f"in {part.strip()!r}: {key.strip()!r} is given twice")
            try:
                config[key.strip()] = parsing.yaml_value(value.strip(), f"in {part.strip()!r}: {key.strip()}")
            except parsing.ParseError as exc:
                raise SpecError(str(exc)) from None
        configs.append(config)
    if not configs:
        raise SpecError("the scheduler expression is empty")
    return configs


#: Labels longer than this are shortened by eliding arguments in the middle; the first and last
#: argument stay, so a label may reach LABEL_HARD_LIMIT before its text is cut.
LABEL_LIMIT = 40
LABEL_HARD_LIMIT = 60


def short_expression(text: str, limit: int | None = LABEL_LIMIT) -> str:
    """A scheduler expression as a label: spaces normalised (``name(a=1, b=2)``, parts joined
    by ``"; "``); when longer than ``limit`` characters, arguments in the middle are elided
    (``name(a=1, …, z=9)``), keeping the first and the last; what is still longer than
    :data:`LABEL_HARD_LIMIT` is cut in its middle."""
    parts: list[tuple[str, list[str] | None]] = []
    for part in _split(text, ";"):
        match = _EXPRESSION.match(part)
        if match is None:
            parts.append((" ".join(part.split()), None))
            continue
        args = [" ".join(a.split()) for a in _split(match.group("args") or "", ",") if a.strip()]
        parts.append((match.group("name"), args if match.group("args") is not None else None))

    def show(head: int, tail: int) -> str:
        shown = []
        for name, args in parts:
            if args is None:
                shown.append(name)
                continue
            if head + tail < len(args):
                args = args[:head] + ["…"] + args[len(args) - tail :]
            shown.append(f"{name}({', '.join(args)})")
        return "; ".join(shown)

    full = show(10**9, 0)
    if limit is None or len(full) <= limit:
        return full
    most = max((len(a) for _, a in parts if a), default=0)
    # The most arguments that fit, split between the first ones and the last ones.
    for keep in range(most - 1, 1, -1):
        candidate = show(keep - keep // 2, keep // 2)
        if len(candidate) <= limit:
            return candidate
    candidate = show(1, 1)
    if len(candidate) <= LABEL_HARD_LIMIT:
        return candidate
    half = (limit - 1) // 2
    return candidate[: limit - 1 - half] + "…" + candidate[len(candidate) - half :]


def _split(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside brackets and quotes."""
    parts, depth, quote, current = [], 0, "", []
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return [p for p in parts if p.strip()] if sep == ";" else parts


# -- checks beyond validity ----------------------------------------------------------------------
def check(spec: Spec, ssrs: tuple[float, ...] | None = None) -> list[str]:
    """Resolve every scheduler at every SSR (raising :class:`SpecError` on a Composer error) and
    return warnings: zero warmup, milestones inside the warmup, trainer replay differing."""
    notes: list[str] = [" ".join(note.split()) for note in spec.notes]
    for ssr in ssrs or spec.ssrs:
        for scheduler in spec.run.schedulers:
            if isinstance(scheduler, TorchScheduler):
                try:
                    scheduler.check_ssr(ssr)
                except ScheduleError as exc:
                    raise SpecError(f"{spec.source}: {exc}") from None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                p = plan(spec.run, ssr)
            except (ScheduleError, TimeStringError) as exc:
                raise SpecError(f"{spec.source}: at ssr {ssr:g}: {exc}") from None
            past_the_end = _warmup_past_the_end(spec.run, p)
        for w in caught:
            # The whole message, as one line: the CLI prints each warning on one line.
            note = " ".join(str(w.message).split())
            if note not in notes:
                notes.append(note)
        if past_the_end and past_the_end not in notes:
            notes.append(past_the_end)
        for i, scheduler in enumerate(spec.run.schedulers):
            if (
                isinstance(scheduler, BuiltinScheduler)
                and hasattr(scheduler, "milestones")
                and hasattr(scheduler, "t_warmup")
            ):
                r = scheduler.resolve(p.shape, ssr)
                inside = [str(m) for m in r.milestones if m.unit is r.t_warmup.unit and m.value < r.t_warmup.value]
                note = (
                    f"schedulers[{i}]: milestones {', '.join(inside)} fall inside the warmup (ends {r.t_warmup}); "
                    "they take effect only once it ends"
                )
                if inside and note not in notes:
                    notes.append(note)
            note = _hf_warmup_note(scheduler, p, ssr)
            if note and note not in notes:
                notes.append(note)
    notes.extend(replay_notes(spec.run, (ssrs or spec.ssrs)[0]))
    notes.extend(resume_notes(spec, ssrs))
    return notes


def resume_notes(spec: Spec, ssrs: tuple[float, ...] | None = None) -> list[str]:
    """Check a resume (and an early stop) at every SSR: errors where Composer's Trainer would fail,
    warnings where the LR jumps by more than 2x or a warmup restarts or vanishes."""
    from sched_cli import resume as resumes

    notes: list[str] = []
    for ssr in ssrs or spec.ssrs:
        try:
            if spec.resume is not None:
                rp = resumes.plan_resumed(spec.run, spec.resume, ssr)
                if spec.stop_at is not None:
                    resumes.stop_resumed(rp, spec.stop_at)
                at = f" (ssr {ssr:g})" if len(ssrs or spec.ssrs) > 1 else ""
                for note in resumes.notes(rp, "trainer"):
                    if note + at not in notes:
                        notes.append(note + at)
            elif spec.stop_at is not None:
                resumes.stop(plan(spec.run, ssr), spec.stop_at)
        except (ScheduleError, TimeStringError) as exc:
            raise SpecError(f"{spec.source}: at ssr {ssr:g}: {exc}") from None
    return notes


def _hf_warmup_note(scheduler: Any, p: Any, ssr: float) -> str | None:
    """A Hugging Face schedule's warning about a warmup that takes most of the run."""
    from sched_cli.schedulers.hf import HF_SCHEDULERS

    if not isinstance(scheduler, tuple(HF_SCHEDULERS.values())):
        return None
    return scheduler.warmup_note(scheduler.resolve(p.shape, ssr))


def _warmup_past_the_end(run: Run, p: Any) -> str | None:
    """A warning when a scheduler's warmup ends at or after the run's end: the LR never reaches
    its peak, and the multiplier the run does reach is said."""
    import numpy as np

    from sched_cli.simulator import Selection, collect, simulate

    for i, scheduler in enumerate(run.schedulers):
        # Hugging Face's schedules say it in their own words (warmup_note), in updates.
        if not isinstance(scheduler, BuiltinScheduler) or hasattr(scheduler, "warmup_note"):
            continue
        for bp in scheduler.breakpoints(scheduler.resolve(p.shape, p.ssr)):
            if bp.label != "warmup end":
                continue
            batch = run.unscaled_shape().first_batch_reaching(bp.time)
            if batch is not None and batch < p.batches:
                continue
            rows = collect(simulate(run, p.ssr, mode="formula", selection=Selection(points=2000)))
            peak = int(np.argmax(rows["multiplier"]))
            where = f"schedulers[{i}]: " if len(run.schedulers) > 1 else ""
            return (
                f"{where}the warmup ends at {bp.time} but the run ends at {p.max_duration}"
                f"{f' (ssr {p.ssr:g})' if p.ssr != 1 else ''}: the LR never reaches its peak, the multiplier "
                f"peaks at {rows['multiplier'][peak]:.4g} (batch {int(rows['batch'][peak]):,}); "
                "shorten t_warmup or lengthen max_duration"
            )
    return None


def replay_notes(run: Run, ssr: float = 1.0) -> list[str]:
    """Where the Trainer's replay departs from the formula, in words and by how much."""
    notes = []
    if run.step_every == "epoch" and run.dataloader_len is None:
        notes.append(
            "step_every is epoch but the run has no dataloader_len, so no epoch ever ends and the "
            "schedulers never step after the first batch; set dataloader_len or step_every: batch"
        )
    if len(run.schedulers) < 2:
        return notes
    last = scheduler_name(run.schedulers[-1])
    notes.append(
        f"{len(run.schedulers)} schedulers: the formula multiplies them, but Composer's Trainer gives each its own "
        f"LambdaLR and only the last ({last}) sets the LR{_largest_gap(run, ssr)}; "
        "use --as-trainer to see what the Trainer applies"
    )
    return notes


def _largest_gap(run: Run, ssr: float) -> str:
    """Where, over the run, the formula and the Trainer's replay differ the most."""
    import numpy as np

    from sched_cli.simulator import Selection, collect, simulate

    selection = Selection(points=2000)
    formula = collect(simulate(run, ssr, mode="formula", selection=selection))
    trainer = collect(simulate(run, ssr, mode="trainer", selection=selection))
    gap = np.abs(formula["multiplier"] - trainer["multiplier"])
    i = int(np.argmax(gap))
    if gap[i] == 0:
        return ""
    return (
        f" (at ssr {ssr:g} they differ by up to {gap[i]:.3g}: at batch {int(formula['batch'][i]):,} the formula "
        f"gives {formula['multiplier'][i]:.4g}, the Trainer {trainer['multiplier'][i]:.4g})"
    )


def with_ssrs(spec: Spec, ssrs: list[float] | tuple[float, ...]) -> Spec:
    """The spec with the SSRs given on the command line (validated) instead of its own."""
    if not ssrs:
        return spec
    return replace(spec, ssrs=_ssrs(_Where("command line"), list(ssrs)))
