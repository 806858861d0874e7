"""The spec layer's data types: a validated :class:`Spec` and the command line's :class:`Overrides`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sched_cli.resume import Resume
from sched_cli.simulator import Run
from sched_cli.specs.expressions import short_expression
from sched_cli.specs.values import SpecError
from sched_cli.time import Time

#: Keys that say the same thing in two ways: a value given on the command line for one of them
#: replaces what the file says of the others, so that ``--devices 16`` or ``--dataloader-len``
#: asks "what if" without contradicting the file.
_ALTERNATIVES = {
    "batch_size": ("device_batch_size",),
    "device_batch_size": ("batch_size",),
    "dataloader_len": ("dataset_size", "drop_last"),
    "dataset_size": ("dataloader_len",),
}


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
    #: ``--skipped-steps``: updates after which the scheduler did not step (a count, or indices): a
    #: reader that models it consumes it (Megatron-LM), else the run holds its schedule back.
    skipped_steps: str | None = None
    #: ``--deepspeed-config PATH``: the DeepSpeed config a Hugging Face file's ``deepspeed`` key means.
    deepspeed_config: str | None = None
    #: Keys of the file changed before its reader reads it, ``((key, value), ...)``: the what-ifs
    #: ``sched check`` tests ("the plan with gradient_accumulation_steps 2"); see
    #: :mod:`sched_cli.specs.patch`. Not a command-line option.
    patch: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "allow_import", tuple(self.allow_import or ()))
        object.__setattr__(self, "patch", tuple(self.patch or ()))
        # A count of 0 is a typo, never "not given": refused here, before a reader's `devices or 1`.
        for name in _COUNTS:
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise SpecError(f"--{name.replace('_', '-')} {value!r} must be a whole number of at least 1")
        # Likewise a base LR of 0 (readers' `lr or the file's lr` would take the file's).
        lr = self.lr
        if lr is not None and (isinstance(lr, bool) or not isinstance(lr, int | float) or not 0 < lr < math.inf):
            raise SpecError(f"--lr {lr!r} must be a finite number greater than 0")

    def options(self) -> dict[str, Any]:
        """The values given, by name, for readers of other tools' files."""
        return {key: value for key, value in vars(self).items() if value is not None and key not in _NOT_RUN_OPTIONS}

    def apply(self, data: dict[str, Any]) -> dict[str, Any]:
        given = {key: value for key, value in self.options().items() if key not in READER_ONLY}
        merged = {key: value for key, value in data.items() if not any(key in _ALTERNATIVES.get(g, ()) for g in given)}
        merged.update(given)
        return merged


#: The options that count something (devices, samples, batches, tokens): whole numbers of at least 1.
_COUNTS = ("dataloader_len", "dataset_size", "devices", "device_batch_size", "batch_size", "seq_len")
_NOT_RUN_OPTIONS = ("source", "allow_import", "resume_from", "resume_at", "stop_at", "patch")
#: Options only readers take (never a spec key): a file that no reader consumed them for refuses them.
READER_ONLY = ("deepspeed_config",)


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
