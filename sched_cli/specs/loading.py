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

import numbers
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from sched_cli import parsing, readers, registry
from sched_cli.geometry import BatchSchedule, Geometry, GeometryError
from sched_cli.schedulers.torch_native import TorchScheduler, is_torch_scheduler_name
from sched_cli.simulator import TRAINERS, Run, SimulationError
from sched_cli.specs.build import _build
from sched_cli.specs.expressions import _looks_like_expression, parse_expression
from sched_cli.specs.patch import patched
from sched_cli.specs.types import Overrides, Spec
from sched_cli.specs.values import SpecError, _count, _kind, _number, _ssrs, _time_value, _Where, skipped_steps
from sched_cli.time import COUNTED_UNITS, Time, TimeUnit
from sched_cli.trust import Trust

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
    "batch_schedule",
    "schedulers",
    "scheduler",
    "title",
    "description",
    "resume",
    "skipped_steps",
)


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
    if overrides.patch:
        raise SpecError(f"inline scheduler {arg!r}: it has no file whose keys a what-if could change")
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
    if kind is None and overrides is not None and hasattr(_reader_module(overrides.source), "load_text"):
        return _load_text_config(path, overrides)
    if kind is None:
        raise SpecError(
            f"{path}: unknown spec format {path.suffix!r}; use .yaml, .yml, .json or .toml "
            "(a Megatron-LM launch script or flag file: add --from megatron)"
        )
    try:
        text = parsing.read_text(path)
    except parsing.ParseError as exc:
        raise SpecError(str(exc)) from None
    overrides = overrides or Overrides()
    if not text.strip():
        if overrides.source not in (None, "sched"):
            raise SpecError(readers.empty_message(overrides.source, str(path)))
        raise SpecError(f"{path}: the spec file is empty; it needs at least max_duration and schedulers")
    duplicates: list[parsing.Duplicate] = []
    data = _parse(text, kind, path, duplicates)
    if not isinstance(data, dict):
        raise SpecError(f"{path}: a spec must be a mapping of keys (max_duration, schedulers, ...), not {_kind(data)}")
    data = patched(data, overrides.patch, str(path))
    reader = overrides.source if overrides.source not in (None, "sched") else None
    if overrides.source is None:
        reader = readers.recognise(data)
    if reader is None:
        # sched's own specs refuse a key given twice; another tool's file is read as its parser reads it.
        try:
            readers.refuse_other_tool(data, str(path))
        except readers.ReaderError as exc:
            raise SpecError(str(exc)) from None
        if duplicates:
            raise SpecError(f"{path}: {duplicates[0].refusal}")
    if overrides.auto_scale_lr and reader != "mmengine":
        raise SpecError(f"{path}: --auto-scale-lr switches on an MMEngine config's auto_scale_lr; this is not one")
    if reader is not None:
        try:
            reading = readers.read(reader, data, str(path), overrides.options())
        except readers.ReaderError as exc:
            raise SpecError(str(exc)) from None
        reading.notes[:0] = [d.note(str(path)) for d in duplicates]
        # What the reader has already applied (HF's --devices changes its steps) is not applied twice.
        overrides = replace(overrides, **{key: None for key in getattr(readers.reader(reader), "CONSUMES", ())})
        _refuse_reader_only(path, overrides)
        trust = trust or Trust.for_spec(path.parent, overrides.allow_import)
        spec = from_mapping(overrides.apply(reading.spec), str(path), path.parent, trust=trust)
        return replace(spec, notes=reading.notes, facts=reading.facts)
    _refuse_reader_only(path, overrides)
    trust = trust or Trust.for_spec(path.parent, overrides.allow_import)
    return from_mapping(overrides.apply(data), str(path), path.parent, trust=trust)


def plan_file(arg: str, overrides: Overrides | None = None) -> tuple[str | None, Any]:
    """The reader that reads spec argument ``arg`` (``None``: sched's own spec) and the file's parsed
    keys, for what-ifs on them (:mod:`sched_cli.specs.patch`); ``(None, None)`` for an inline
    expression, and no keys for a file only code can read (a Python config)."""
    overrides = overrides or Overrides()
    if not is_spec_file_argument(arg):
        return None, None
    path = Path(arg)
    kind = SPEC_SUFFIXES.get(path.suffix.lower())
    module = _reader_module(overrides.source)
    if kind is None:
        if hasattr(module, "load_text"):
            try:
                return overrides.source, module.load_text(path)
            except readers.ReaderError as exc:
                raise SpecError(str(exc)) from None
        return overrides.source, None
    data = _parse(parsing.read_text(path), kind, path)
    if overrides.source not in (None, "sched"):
        return overrides.source, data
    return (readers.recognise(data) if overrides.source is None else None), data


def _refuse_reader_only(path: Path, overrides: Overrides) -> None:
    if overrides.deepspeed_config is not None:
        raise SpecError(
            f"{path}: --deepspeed-config names the DeepSpeed config of a Hugging Face TrainingArguments file "
            "(its deepspeed key); this file is not one"
        )


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
        data = patched(readers.reader("mmengine").load_python(path), overrides.patch, str(path))
        reading = readers.read("mmengine", data, str(path), overrides.options())
    except readers.ReaderError as exc:
        raise SpecError(str(exc)) from None
    # What the reader has applied (--dataset-size through the config's dataset wrappers) is not
    # applied a second time, as for every other file a reader reads.
    overrides = replace(overrides, **{key: None for key in getattr(readers.reader("mmengine"), "CONSUMES", ())})
    trust = Trust.for_spec(path.parent, overrides.allow_import)
    spec = from_mapping(overrides.apply(reading.spec), str(path), path.parent, trust=trust)
    return replace(spec, notes=reading.notes, facts=reading.facts)


def _reader_module(name: str | None) -> Any:
    return readers.reader(name) if name in readers.NAMES else None


def _load_text_config(path: Path, overrides: Overrides) -> Spec:
    """A file only its reader can parse (a Megatron-LM launch script or flag file)."""
    module = _reader_module(overrides.source)
    if not path.is_file():
        raise SpecError(f"{path}: no such file")
    try:
        data = patched(module.load_text(path), overrides.patch, str(path), module)
        reading = readers.read(overrides.source, data, str(path), overrides.options())  # type: ignore[arg-type]
    except readers.ReaderError as exc:
        raise SpecError(str(exc)) from None
    overrides = replace(overrides, **{key: None for key in getattr(module, "CONSUMES", ())})
    trust = Trust.for_spec(path.parent, overrides.allow_import)
    spec = from_mapping(overrides.apply(reading.spec), str(path), path.parent, trust=trust)
    return replace(spec, notes=reading.notes, facts=reading.facts)


def _parse(text: str, kind: str, path: Path, duplicates: list[parsing.Duplicate] | None = None) -> Any:
    """Parse a spec file's text within bounds (size, nesting, aliases; duplicate keys recorded in
    ``duplicates`` when given, else refused)."""
    try:
        return parsing.parse(text, kind, str(path), duplicates)
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
            batch_schedule=_batch_schedule(where, data),
            skipped_steps=skipped_steps(where.source, data.get("skipped_steps")),
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


def _batch_schedule(where: _Where, data: dict[str, Any]) -> BatchSchedule | None:
    """``batch_schedule: {0: 16, 120: 32, ...}`` (first batch: samples per batch, across devices):
    a global batch size that changes with the batch index, as a batch-size ramp makes it."""
    value = data.get("batch_schedule")
    if value is None:
        return None
    pairs = list(value.items()) if isinstance(value, dict) else value
    if not isinstance(pairs, list) or not pairs or not all(isinstance(p, list | tuple) and len(p) == 2 for p in pairs):
        raise where.error(
            "batch_schedule", f"expected {{first_batch: batch_size, ...}} starting at batch 0, got {_kind(value)}"
        )
    for key in ("batch_size", "device_batch_size", "dataloader_len", "dataset_size", "last_batch_size"):
        if data.get(key) is not None:
            raise where.error(
                key, "cannot go with batch_schedule, which gives every batch's size; give one or the other"
            )
    pieces = []
    for start, size in pairs:
        start = int(start) if isinstance(start, str) and start.isdigit() else start  # JSON keys are text
        if isinstance(start, bool) or not isinstance(start, numbers.Integral) or start < 0:
            raise where.error("batch_schedule", f"a first batch must be a whole number from 0, not {start!r}")
        pieces.append((int(start), _count(where, f"batch_schedule.{start}", size)))
    try:
        return BatchSchedule.of(pieces)
    except GeometryError as exc:
        raise where.error("batch_schedule", str(exc)) from None


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


def with_ssrs(spec: Spec, ssrs: list[float] | tuple[float, ...]) -> Spec:
    """The spec with the SSRs given on the command line (validated) instead of its own."""
    if not ssrs:
        return spec
    return replace(spec, ssrs=_ssrs(_Where("command line"), list(ssrs)))
