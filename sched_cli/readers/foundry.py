"""Read LLM Foundry training YAMLs as sched specs.

An LLM Foundry training YAML (``scripts/train/yamls/pretrain/mpt-125m.yaml`` and its kind) holds
everything sched needs among much it ignores. :func:`to_spec_mapping` turns one into a plain
spec mapping for :func:`sched_cli.specs.from_mapping`:

=================================  ============================================================
LLM Foundry                        sched spec
=================================  ============================================================
``max_duration``                   ``max_duration``; an integer counts epochs, as Composer's
                                   Trainer reads it (``ensure_time(max_duration, 'ep')``)
``global_train_batch_size``        ``batch_size`` (samples per batch, across all ranks)
``max_seq_len``                    ``seq_len`` (tokens per sample); ``variables.max_seq_len``
                                   when the top level has none
``scheduler`` (``name`` + args)    ``schedulers: [{name, **args}]``; the name must be one of
                                   LLM Foundry's registry: :data:`FOUNDRY_SCHEDULERS`
``optimizer.lr``                   ``lr``
``train_subset_num_batches``       ``dataloader_len`` when positive (an upper bound: Composer
                                   takes the smaller of it and the loader's length)
``dataloader_len`` (sched's own)   ``dataloader_len``, winning over the above
=================================  ============================================================

An MCLI run file (``mcli/*.yaml``) holds such a config under ``parameters:``, beside ``name``,
``image``, ``integrations``, ``compute`` and ``command``: it is read from there (its
interpolations resolve within ``parameters``, the file the run trains from), and
``compute.gpus`` gives ``devices``. A run counting epochs needs the epoch's length, which no
Foundry file says: ``--dataset-size`` (with ``train_loader.drop_last``) or ``--dataloader-len``.

Every other key (``model``, ``train_loader``, ``eval_interval``,
``device_train_microbatch_size``, ...) is ignored. ``seq_len`` is exact for packed pretraining
data (``train_loader.name: text``); for padded finetuning batches Composer counts only the real
tokens, which sched cannot know.

Foundry YAMLs are OmegaConf files: ``${variables.max_seq_len}``, ``${global_seed}``, relative
``${.key}``, nested ``${a.${b}}``, interpolations inside text (``"${variables.data_local}/train"``)
and the ``oc.env`` and ``oc.select`` resolvers are resolved as OmegaConf resolves them, but only
in the keys sched reads: an interpolation anywhere else is never looked at, so it cannot fail.
"""

from __future__ import annotations

import math
import numbers
import os
import re
from typing import Any

from sched_cli import registry
from sched_cli.readers import ReaderError, Reading, foundry_fields

__all__ = [
    "NAME",
    "TITLE",
    "TRAINER",
    "REFERENCE",
    "CONSUMES",
    "KEYS",
    "IRRELEVANT",
    "FoundryConfigError",
    "FOUNDRY_SCHEDULERS",
    "recognise",
    "read",
    "accounted",
    "is_foundry_config",
    "is_mcli_run",
    "to_spec_mapping",
]

NAME = "foundry"
TITLE = "LLM Foundry"
#: Composer's Trainer runs a Foundry config, and its differential test runs against Composer.
TRAINER = "composer"
REFERENCE = "composer"
#: No option is applied by the reader itself: the spec layer applies them to the mapping.
CONSUMES: tuple[str, ...] = ()
EMPTY = "an LLM Foundry training YAML needs max_duration, global_train_batch_size, max_seq_len, optimizer and scheduler"
KEYS = foundry_fields.KEYS
IRRELEVANT = foundry_fields.IRRELEVANT

#: LLM Foundry's scheduler registry (``llmfoundry/optim/__init__.py``): name -> class.
FOUNDRY_SCHEDULERS = {
    "constant_with_warmup": "ConstantWithWarmupScheduler",
    "cosine_with_warmup": "CosineAnnealingWithWarmupScheduler",
    "linear_decay_with_warmup": "LinearWithWarmupScheduler",
    "inv_sqrt_with_warmup": "InverseSquareRootWithWarmupScheduler",
}
# Keys of a Foundry training config that a sched spec never has.
_FOUNDRY_SECTIONS = ("optimizer", "model", "train_loader")
_MISSING = "???"  # OmegaConf's mandatory value left unset
_ABSENT = object()


class FoundryConfigError(ReaderError):
    """An LLM Foundry YAML that sched cannot read; the message names the file and the key."""


def is_foundry_config(data: Any) -> bool:
    """Whether a parsed YAML is an LLM Foundry training config rather than a sched spec.

    It is when it has ``global_train_batch_size``, or a ``scheduler`` named from Foundry's
    registry beside an ``optimizer``, ``model`` or ``train_loader`` section, or all three of
    those sections. None of these keys is valid in a sched spec, so no spec is mistaken for one.
    """
    if not isinstance(data, dict):
        return False
    if "global_train_batch_size" in data:
        return True
    sections = [key for key in _FOUNDRY_SECTIONS if key in data]
    scheduler = data.get("scheduler")
    name = scheduler.get("name") if isinstance(scheduler, dict) else None
    if isinstance(name, str) and name in FOUNDRY_SCHEDULERS and sections:
        return True
    return len(sections) == len(_FOUNDRY_SECTIONS)


def is_mcli_run(data: Any) -> bool:
    """Whether a parsed YAML is an MCLI run file whose ``parameters:`` hold a Foundry training
    config (``mcli/*.yaml`` in LLM Foundry: ``name``, ``image``, ``compute``, ``integrations`` and
    ``command`` beside it, the config injected as ``/mnt/config/parameters.yaml``)."""
    return (
        isinstance(data, dict)
        and isinstance(data.get("parameters"), dict)
        and not is_foundry_config(data)
        and is_foundry_config(data["parameters"])
    )


def to_spec_mapping(data: dict[str, Any], source: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """A sched spec mapping from a parsed LLM Foundry training YAML (see the module docstring).

    An MCLI run file is read through its ``parameters:``, where its interpolations resolve (it is
    the file the run trains from), and its ``compute.gpus`` gives ``devices``.

    Args:
        data: The YAML as parsed (``yaml.safe_load``), interpolations unresolved.
        source: The file name, for messages.
        options: Values given on the command line (``dataloader_len``, ``dataset_size``, ...), as
            :func:`read` passes them: then a run counting epochs needs one of these two, which
            the file cannot say, and without them is an error naming them. ``None``: no check.

    Returns:
        A mapping with ``max_duration``, ``batch_size``, ``seq_len``, ``schedulers`` and, when
        known, ``lr`` and ``dataloader_len``; it still has to go through ``specs.from_mapping``.

    Raises:
        FoundryConfigError: a key sched reads is missing, malformed, or refers to something the
            file does not define; the message names the key and what was expected.
    """
    if not isinstance(data, dict):
        raise FoundryConfigError(f"{source}: an LLM Foundry config is a mapping of keys, not {type(data).__name__}")
    devices = None
    if "parameters" in data and not is_foundry_config(data):
        parameters = data["parameters"]
        if not isinstance(parameters, dict) or not parameters:
            raise FoundryConfigError(
                f"{source}: parameters: holds no LLM Foundry training config (this MCLI run file trains "
                "from the YAML its command: names); give that YAML to sched instead"
            )
        gpus = data.get("compute", {}).get("gpus") if isinstance(data.get("compute"), dict) else None
        devices = gpus if isinstance(gpus, int) and not isinstance(gpus, bool) and gpus > 0 else None
        config = _Config(parameters, source, prefix="parameters.")
    else:
        config = _Config(data, source)
    spec: dict[str, Any] = {
        "max_duration": _max_duration(config),
        "batch_size": _required_whole(config, "global_train_batch_size", "samples per batch, across all ranks"),
        "seq_len": _seq_len(config),
        "schedulers": [_scheduler(config)],
    }
    lr = config.read("optimizer.lr")
    if lr is not None:
        spec["lr"] = _positive_number(config, "optimizer.lr", lr)
    dataloader_len = _dataloader_len(config)
    if dataloader_len is not None:
        spec["dataloader_len"] = dataloader_len
    if devices is not None:
        spec["devices"] = devices
    drop_last = config.read("train_loader.drop_last")
    if isinstance(drop_last, bool) and "dataset_size" in (options or {}):
        # Foundry's loaders pass it to the sampler and the loader alike; it matters only for a
        # length derived from the dataset size.
        spec["drop_last"] = drop_last
    if options is not None and dataloader_len is None and not {"dataloader_len", "dataset_size"} & set(options):
        _require_no_epochs(config, spec, drop_last is True, devices)
    return spec


def _require_no_epochs(config: _Config, spec: dict[str, Any], drop_last: bool, devices: int | None) -> None:
    """An error naming the options to pass when the run counts epochs, whose length a Foundry
    file does not say (it is the dataset's size over the batch)."""
    epochs = [("max_duration", spec["max_duration"])] if _in_epochs(spec["max_duration"]) else []
    epochs += [
        (f"scheduler.{key}", value)
        for key, value in spec["schedulers"][0].items()
        if key != "name" and isinstance(value, str) and _in_epochs(value)
    ]
    if not epochs:
        return
    key, value = epochs[0]
    batch = spec["batch_size"]
    rounding = "floor" if drop_last else "ceil"
    raise config.error(
        key,
        f"{value} is in epochs, and the file does not say how many batches an epoch has: pass --dataset-size N "
        f"(training samples; sched derives the epoch from it, global_train_batch_size {batch}"
        f"{f' and train_loader.drop_last {str(drop_last).lower()}' if drop_last else ''} as PyTorch's loaders do"
        f"{f', over compute.gpus {devices} devices' if devices else '; add --devices W for W GPUs'}) "
        f"or --dataloader-len L (batches per epoch, {rounding}(N / {batch}) on one device)",
    )


def _in_epochs(value: str) -> bool:
    return re.fullmatch(r"\s*[-+0-9.eE]+\s*ep\s*", value, flags=re.IGNORECASE) is not None


def recognise(data: Any) -> bool:
    """A Foundry training config (:func:`is_foundry_config`), or an MCLI run file holding one
    (:func:`is_mcli_run`)."""
    return is_foundry_config(data) or is_mcli_run(data)


def read(data: Any, source: str, options: dict[str, Any]) -> Reading:
    """:func:`to_spec_mapping`, with a note when ``load_path`` restores a checkpoint's time."""
    spec = to_spec_mapping(data, source, options)
    notes = []
    for where, mapping in accounted(data):
        if mapping.get("load_path") and mapping.get("load_weights_only") is not True:
            notes.append(
                f"{source}: {where + '.' if where else ''}load_path: Composer restores the checkpoint's time, so the "
                "schedule continues from its step, which the preview does not know; preview it with "
                "--resume-from/--resume-at"
            )
    return Reading(spec, notes)


def accounted(data: Any) -> list[tuple[str, dict[str, Any]]]:
    """The mappings whose keys the reader accounts for: the file, and an MCLI run's ``parameters``."""
    places = [("", data)]
    if is_mcli_run(data):
        places.append(("parameters", data["parameters"]))
    return places


# -- the keys sched reads ------------------------------------------------------------------------
def _max_duration(config: _Config) -> str:
    value = config.read("max_duration")
    if value is None:
        raise config.error("max_duration", "is required, e.g. max_duration: 4800ba (or an integer: epochs)")
    if isinstance(value, bool):
        raise config.error("max_duration", f"expected a time such as 4800ba or a number of epochs, got {value!r}")
    if isinstance(value, numbers.Real):
        # Composer's Trainer reads a bare number as epochs: ensure_time(max_duration, TimeUnit.EPOCH).
        if not math.isfinite(value) or value <= 0:
            raise config.error("max_duration", f"{value!r} must be a positive number of epochs")
        return f"{int(value) if float(value).is_integer() else value}ep"
    if not isinstance(value, str):
        raise config.error("max_duration", f"expected a time such as 4800ba, got {type(value).__name__} {value!r}")
    return value.strip()


def _seq_len(config: _Config) -> int:
    for key in ("max_seq_len", "variables.max_seq_len"):
        value = config.read(key)
        if value is not None:
            return _whole(config, key, value)
    raise config.error(
        "max_seq_len",
        "is required: tokens per sample, at the top level (or under variables:), e.g. max_seq_len: 2048",
    )


def _scheduler(config: _Config) -> dict[str, Any]:
    scheduler = config.read("scheduler")
    if scheduler is None:
        raise config.error("scheduler", f"is required: a mapping with a name ({', '.join(FOUNDRY_SCHEDULERS)})")
    if not isinstance(scheduler, dict):
        raise config.error("scheduler", f"expected a mapping with a name, got {type(scheduler).__name__}")
    name = scheduler.get("name")
    if not isinstance(name, str):
        raise config.error("scheduler.name", f"is required: one of {', '.join(FOUNDRY_SCHEDULERS)}")
    if name not in FOUNDRY_SCHEDULERS:
        raise config.error(
            "scheduler.name",
            f"{name!r} is not in LLM Foundry's scheduler registry"
            f"{registry.suggest(name, list(FOUNDRY_SCHEDULERS))}; it has {', '.join(FOUNDRY_SCHEDULERS)}",
        )
    if registry.lookup(name) is None:
        raise config.error(
            "scheduler.name",
            f"{name!r} (LLM Foundry's {FOUNDRY_SCHEDULERS[name]}) is not one of sched's schedulers yet; "
            "see `sched list`",
        )
    return dict(scheduler)


def _dataloader_len(config: _Config) -> int | None:
    for key in ("dataloader_len", "train_subset_num_batches"):
        value = config.read(key)
        if value is None:
            continue
        if key == "train_subset_num_batches" and value == -1:
            return None  # Composer's default: the whole loader, whose length sched cannot know
        return _whole(config, key, value)
    return None


def _required_whole(config: _Config, key: str, meaning: str) -> int:
    value = config.read(key)
    if value is None:
        raise config.error(key, f"is required: {meaning}")
    return _whole(config, key, value)


def _whole(config: _Config, key: str, value: Any) -> int:
    # OmegaConf turns text into an int for an int field (a value from ${oc.env:...} is text).
    if isinstance(value, str) and re.fullmatch(r"\s*\d+\s*", value):
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise config.error(key, f"expected a whole number of at least 1, got {value!r}")
    return value


def _positive_number(config: _Config, key: str, value: Any) -> float:
    if isinstance(value, str):
        # PyYAML reads 1e-4 (no dot) as text where OmegaConf's loader reads a float.
        try:
            value = float(value)
        except ValueError:
            raise config.error(key, f"expected a number, got text {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
        raise config.error(key, f"expected a number greater than 0, got {value!r}")
    return value


# -- OmegaConf interpolation, resolved on demand -------------------------------------------------
KeyPath = tuple[str | int, ...]
#: Bounds on resolving one value: interpolations followed, their nesting, and the text they build
#: (a real config follows a handful; variables that double at each step would never end).
MAX_INTERPOLATIONS = 10_000
MAX_INTERPOLATION_DEPTH = 50
MAX_RESOLVED_TEXT = 100_000


class _Config:
    """A parsed OmegaConf YAML whose interpolations are resolved only in the values read."""

    def __init__(self, root: dict[str, Any], source: str, prefix: str = "") -> None:
        self.root = root
        self.source = source
        #: Where ``root`` sits in the file, for messages (``parameters.`` in an MCLI run file).
        self.prefix = prefix
        # Bounds on resolution, so that variables doubling at each step cannot hang sched.
        self._resolved = 0
        self._depth = 0

    def error(self, key: str, message: str) -> FoundryConfigError:
        return FoundryConfigError(f"{self.source}: {self.prefix}{key}: {message}")

    def read(self, key: str) -> Any:
        """The value at a dotted ``key``, interpolations resolved; ``None`` if there is none."""
        path = _parse_key(key)
        value = self._lookup(path, reading=key, chain=(_dotted(path),))
        return None if value is _ABSENT else value

    def _lookup(self, path: KeyPath, reading: str, chain: tuple[str, ...], via: str = "") -> Any:
        """The resolved value at ``path``; if there is none, ``_ABSENT``, or an error when an
        interpolation ``via`` refers to it."""
        node: Any = self.root
        for i, part in enumerate(path):
            if isinstance(node, str):  # a section that is itself an interpolation
                node = self._value(node, path[:i], reading, chain)
            child = _child(node, part)
            if child is _ABSENT:
                if not via:
                    return _ABSENT
                raise self.error(reading, f"{via} refers to {_dotted(path)}, which the file does not define")
            node = child
        return self._value(node, path, reading, chain)

    def _value(self, node: Any, path: KeyPath, reading: str, chain: tuple[str, ...]) -> Any:
        """A node with every interpolation in it resolved (``path`` is where it sits)."""
        if isinstance(node, str):
            if node == _MISSING:
                where = reading if _dotted(path) == reading else f"{_dotted(path)} (read for {reading})"
                raise self.error(where, "is ??? (a mandatory value left unset); give it a value")
            return self._text(node, path, reading, chain)
        if isinstance(node, dict):
            return {k: self._value(v, (*path, k), reading, chain) for k, v in node.items()}
        if isinstance(node, list):
            return [self._value(v, (*path, i), reading, chain) for i, v in enumerate(node)]
        return node

    def _text(self, text: str, path: KeyPath, reading: str, chain: tuple[str, ...]) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_INTERPOLATION_DEPTH:
                raise self.error(
                    reading, f"interpolations nest more than {MAX_INTERPOLATION_DEPTH} deep (the most sched follows)"
                )
            return self._joined(text, path, reading, chain)
        finally:
            self._depth -= 1

    def _joined(self, text: str, path: KeyPath, reading: str, chain: tuple[str, ...]) -> Any:
        pieces = _split_interpolations(text, lambda problem: self.error(reading, f"{text!r}: {problem}"))
        if len(pieces) == 1 and isinstance(pieces[0], _Interpolation):
            return self._interpolation(pieces[0].body, path, reading, chain)  # keeps the referenced type
        if not any(isinstance(p, _Interpolation) for p in pieces):
            return "".join(pieces)  # type: ignore[arg-type]
        joined = "".join(
            str(self._interpolation(p.body, path, reading, chain)) if isinstance(p, _Interpolation) else p
            for p in pieces
        )
        if len(joined) > MAX_RESOLVED_TEXT:
            raise self.error(
                reading, f"interpolating {text[:40]!r} gives text longer than {MAX_RESOLVED_TEXT:,} characters"
            )
        return joined

    def _interpolation(self, body: str, path: KeyPath, reading: str, chain: tuple[str, ...]) -> Any:
        self._resolved += 1
        if self._resolved > MAX_INTERPOLATIONS:
            raise self.error(
                reading, f"resolving it takes more than {MAX_INTERPOLATIONS:,} interpolations (the most sched follows)"
            )
        if not body.strip():
            raise self.error(reading, "${} is an empty interpolation; write ${key} or the value itself")
        resolver, args = _split_resolver(body)
        if resolver is None:
            key = self._text(body, path, reading, chain) if "${" in body else body
            return self._reference(str(key).strip(), path, reading, chain)
        values = [self._argument(arg, path, reading, chain) for arg in args]
        if resolver == "oc.env" and 1 <= len(values) <= 2:
            name = str(values[0])
            if name in os.environ:
                return os.environ[name]
            if len(values) == 2:
                return None if values[1] is None else str(values[1])
            raise self.error(reading, f"${{{body}}}: the environment variable {name} is not set")
        if resolver == "oc.select" and 1 <= len(values) <= 2:
            target = _resolve_key(str(values[0]), path)
            found = self._lookup(target, reading, chain) if target is not None else _ABSENT
            return found if found is not _ABSENT else (values[1] if len(values) == 2 else None)
        raise self.error(
            reading,
            f"${{{body}}} uses the resolver {resolver!r}, which sched cannot evaluate "
            "(it knows oc.env and oc.select); write the value itself",
        )

    def _argument(self, arg: str, path: KeyPath, reading: str, chain: tuple[str, ...]) -> Any:
        arg = arg.strip()
        if len(arg) >= 2 and arg[0] == arg[-1] and arg[0] in "'\"":
            return arg[1:-1]
        if "${" in arg:
            return self._text(arg, path, reading, chain)
        return _scalar(arg)

    def _reference(self, key: str, path: KeyPath, reading: str, chain: tuple[str, ...]) -> Any:
        target = _resolve_key(key, path)
        if target is None:
            raise self.error(reading, f"${{{key}}} climbs above the top of the file")
        name = _dotted(target)
        if name in chain:
            raise self.error(reading, f"circular interpolation: {' -> '.join((*chain, name))}")
        return self._lookup(target, reading, (*chain, name), via=f"${{{key}}}")


def _scalar(text: str) -> Any:
    """An unquoted resolver argument as OmegaConf's grammar types it: null, a bool, a number or text."""
    lowered = text.lower()
    if lowered == "null":
        return None
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


class _Interpolation:
    __slots__ = ("body",)

    def __init__(self, body: str) -> None:
        self.body = body


def _split_interpolations(text: str, error: Any) -> list[str | _Interpolation]:
    """Literal text and ``${...}`` bodies (which may nest), with OmegaConf's ``\\${`` escape."""
    pieces: list[str | _Interpolation] = []
    literal: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith("\\${", i):
            literal.append("${")
            i += 3
        elif text.startswith("\\\\${", i):
            literal.append("\\")
            i += 2
        elif text.startswith("${", i):
            depth, j = 1, i + 2
            while j < len(text) and depth:
                if text.startswith("${", j):
                    depth += 1
                    j += 1
                elif text[j] == "}":
                    depth -= 1
                j += 1
            if depth:
                raise error("an interpolation ${...} is never closed")
            if literal:
                pieces.append("".join(literal))
                literal = []
            pieces.append(_Interpolation(text[i + 2 : j - 1]))
            i = j
        else:
            literal.append(text[i])
            i += 1
    if literal or not pieces:
        pieces.append("".join(literal))
    return pieces


def _split_resolver(body: str) -> tuple[str | None, list[str]]:
    """``oc.env:HOME,/tmp`` -> ``("oc.env", ["HOME", "/tmp"])``; a plain key -> ``(None, [])``."""
    match = re.match(r"\s*([A-Za-z_][\w.]*)\s*:", body)
    if match is None:
        return None, []
    args, depth, quote, current = [], 0, "", []
    for ch in body[match.end() :]:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
        elif ch == "," and depth == 0:
            args.append("".join(current))
            current = []
            continue
        current.append(ch)
    if current or args:
        args.append("".join(current))
    return match.group(1), args


def _parse_key(key: str) -> KeyPath:
    """``a.b[0].c`` -> ``("a", "b", 0, "c")``."""
    parts: list[str | int] = []
    for part in key.split("."):
        for name, index in re.findall(r"([^\[\]]+)|\[(\d+)\]", part):
            parts.append(int(index) if index else name)
    return tuple(parts)


def _resolve_key(key: str, path: KeyPath) -> KeyPath | None:
    """The absolute path of a reference made from the node at ``path``; ``None`` if it climbs too far."""
    dots = len(key) - len(key.lstrip("."))
    if not dots:
        return _parse_key(key)
    if dots > len(path):
        return None
    # ${.x} is a sibling: a key of the mapping that holds the value; each further dot goes up one.
    return (*path[: len(path) - dots], *_parse_key(key[dots:]))


def _child(node: Any, part: str | int) -> Any:
    if isinstance(node, dict):
        for candidate in (part, str(part)) if isinstance(part, int) else (part,):
            if candidate in node:
                return node[candidate]
        if isinstance(part, str) and part.lstrip("-").isdigit() and int(part) in node:
            return node[int(part)]
        return _ABSENT
    if isinstance(node, list):
        index = part if isinstance(part, int) else int(part) if str(part).isdigit() else None
        if index is not None and 0 <= index < len(node):
            return node[index]
    return _ABSENT


def _dotted(path: KeyPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}" if out else part
    return out
