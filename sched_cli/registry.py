"""The names a spec may use for each built-in scheduler.

Each scheduler answers to its Composer class name, a snake_case alias, and the names LLM
Foundry's registry and Composer's older YAML registry gave it; Hugging Face's schedules answer to
``hf:<lr_scheduler_type>`` (and ``hf_<lr_scheduler_type>``), DeepSpeed's to ``ds:<type>``
(``ds:WarmupLR``, ``deepspeed_warmup_lr``). Names match case-insensitively,
with ``-`` and ``_`` alike.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from typing import Any

from sched_cli.schedulers import composer as _composer
from sched_cli.schedulers import extra as _extra
from sched_cli.schedulers.base import BuiltinScheduler, suggest

__all__ = ["Entry", "ENTRIES", "entries", "lookup", "suggest", "Param", "all_names"]

#: Every registered scheduler (see :func:`entries`; loaded on first use).
ENTRIES: tuple[Entry, ...]


@dataclass(frozen=True)
class Param:
    """A constructor argument: its name, kind and default.

    Kinds: ``time``, ``times`` (a list of times), ``number``, ``bool``, ``str``, and ``phases``
    (:class:`~sched_cli.schedulers.SequentialScheduler`'s list of ``{scheduler, duration}``).
    """

    name: str
    kind: str
    default: Any = inspect.Parameter.empty

    @property
    def required(self) -> bool:
        return self.default is inspect.Parameter.empty


@dataclass(frozen=True)
class Entry:
    """A registered scheduler: its class, its names, and its parameters."""

    cls: type[BuiltinScheduler]
    aliases: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.cls.__name__

    @property
    def params(self) -> list[Param]:
        return _params(self.cls)

    @property
    def summary(self) -> str:
        return (inspect.getdoc(self.cls) or "").splitlines()[0]

    @property
    def doc_text(self) -> str:
        """The class docstring for a terminal: its LaTeX formula turned into plain text."""
        return plain_math(inspect.getdoc(self.cls) or "")


def _params(cls: type) -> list[Param]:
    params = []
    for p in list(inspect.signature(cls.__init__).parameters.values())[1:]:
        annotation = str(p.annotation)
        if annotation == "Raw":  # checked by the constructor itself (an MMEngine param_scheduler list)
            kind = "mappings"
        elif "PhaseArg" in annotation:
            kind = "phases"
        elif "list[TimeArg]" in annotation:
            kind = "times"
        elif "TimeArg" in annotation:
            kind = "time"
        elif annotation == "bool":
            kind = "bool"
        elif annotation == "str":
            kind = "str"
        else:
            kind = "number"
        params.append(Param(p.name, kind, p.default))
    return params


_CORE: tuple[Entry, ...] = (
    Entry(_composer.StepScheduler, ("step",)),
    Entry(_composer.MultiStepScheduler, ("multistep", "multi_step")),
    Entry(_composer.ConstantScheduler, ("constant",)),
    Entry(_composer.LinearScheduler, ("linear", "linear_decay")),
    Entry(_composer.ExponentialScheduler, ("exponential", "exp")),
    Entry(_composer.CosineAnnealingScheduler, ("cosine", "cosine_annealing", "cosine_decay")),
    Entry(
        _composer.CosineAnnealingWarmRestartsScheduler,
        ("cosine_warm_restarts", "cosine_annealing_warm_restarts", "cosine_warmrestart", "sgdr"),
    ),
    Entry(_composer.PolynomialScheduler, ("polynomial", "poly")),
    Entry(_composer.MultiStepWithWarmupScheduler, ("multistep_with_warmup", "multi_step_with_warmup")),
    Entry(_composer.ConstantWithWarmupScheduler, ("constant_with_warmup",)),
    Entry(_composer.LinearWithWarmupScheduler, ("linear_decay_with_warmup", "linear_with_warmup")),
    Entry(
        _composer.CosineAnnealingWithWarmupScheduler,
        ("cosine_with_warmup", "cosine_annealing_with_warmup", "cosine_decay_with_warmup"),
    ),
    Entry(
        _composer.PolynomialWithWarmupScheduler,
        ("polynomial_with_warmup", "poly_with_warmup", "polynomial_decay_with_warmup"),
    ),
    Entry(_extra.InverseSquareRootWithWarmupScheduler, ("inv_sqrt_with_warmup",)),
    Entry(_extra.WarmupStableDecayScheduler, ("wsd", "warmup_stable_decay")),
    Entry(_extra.OneCycleScheduler, ("one_cycle",)),
    Entry(_extra.SequentialScheduler, ("sequential",)),
)


def _hf_entries() -> tuple[Entry, ...]:
    """Hugging Face's lr_scheduler_type values, on the optimizer-update counter (schedulers/hf.py)."""
    from sched_cli.schedulers import hf

    return tuple(Entry(cls, (f"hf:{name}", f"hf_{name}")) for name, cls in hf.HF_SCHEDULERS.items())


def _axolotl_entries() -> tuple[Entry, ...]:
    """axolotl's own schedules and its jagged-restart wrapper, on the update counter (schedulers/axolotl.py)."""
    from sched_cli.schedulers import axolotl

    return tuple(Entry(cls, (f"axolotl:{name}", f"axolotl_{name}")) for name, cls in axolotl.AXOLOTL_SCHEDULERS.items())


def _timm_entries() -> tuple[Entry, ...]:
    """timm's sched values, on the epoch or update counter (schedulers/timm.py)."""
    from sched_cli.schedulers import timm

    return tuple(Entry(cls, (f"timm_{cls.sched}", f"timm:{cls.sched}")) for cls in timm.SCHEDULERS.values())


def _snake(name: str) -> str:
    """``WarmupCosineLR`` -> ``warmup_cosine_lr``, ``LRRangeTest`` -> ``lr_range_test``."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def _deepspeed_entries() -> tuple[Entry, ...]:
    """DeepSpeed's scheduler types, on the count of engine steps (schedulers/deepspeed.py)."""
    from sched_cli.schedulers import deepspeed

    return tuple(
        Entry(cls, (f"ds:{name}", f"ds_{name}", f"deepspeed_{_snake(name)}"))
        for name, cls in deepspeed.DS_SCHEDULERS.items()
    )


def _mmengine_entries() -> tuple[Entry, ...]:
    """MMEngine's param_scheduler list, replayed as its Runner steps it (schedulers/mmengine.py),
    and MMYOLO's LR hooks (default_hooks.param_scheduler), replayed as the Runner calls them."""
    from sched_cli.schedulers import mmengine, mmyolo

    return (
        Entry(mmengine.MMEngineParamSchedulers, ("mmengine", "mmengine_param_schedulers")),
        Entry(mmyolo.MMYOLOParamSchedulerHook, ("mmyolo_hook", "mmyolo")),
    )


def _megatron_entries() -> tuple[Entry, ...]:
    """Megatron-LM's OptimizerParamScheduler, over consumed samples (schedulers/megatron.py)."""
    from sched_cli.schedulers import megatron

    return (Entry(megatron.MegatronScheduler, ("megatron", "megatron_optimizer_param_scheduler")),)


#: The families beyond Composer's, each loaded when a name of it is first looked up (by its
#: prefix), or when every name is asked for: a run of Composer schedulers never imports them.
_FAMILIES: tuple[tuple[tuple[str, ...], Any], ...] = (
    (("hf:", "hf_"), _hf_entries),
    (("axolotl:", "axolotl_"), _axolotl_entries),
    (("timm_", "timm:"), _timm_entries),
    (("ds:", "ds_", "deepspeed_"), _deepspeed_entries),
    (("mmengine", "mmyolo"), _mmengine_entries),
    (("megatron",), _megatron_entries),
)
_LOADED: dict[int, tuple[Entry, ...]] = {}


def _key(name: str) -> str:
    return name.strip().lower().replace("-", "_")


_BY_NAME: dict[str, Entry] = {}


def _index(entries: tuple[Entry, ...]) -> None:
    for entry in entries:
        for name in (entry.name, *entry.aliases):
            _BY_NAME[_key(name)] = entry


_index(_CORE)


def _load(index: int) -> tuple[Entry, ...]:
    if index not in _LOADED:
        _LOADED[index] = _FAMILIES[index][1]()
        _index(_LOADED[index])
    return _LOADED[index]


def entries() -> tuple[Entry, ...]:
    """Every registered scheduler, in the order ``sched list`` shows them."""
    return _CORE + tuple(e for index in range(len(_FAMILIES)) for e in _load(index))


def __getattr__(name: str) -> Any:
    if name == "ENTRIES":  # every family, loaded on first use
        return entries()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def lookup(name: str) -> Entry | None:
    """The entry for a class name or alias, or ``None``."""
    key = _key(name)
    for index, (prefixes, _) in enumerate(_FAMILIES):
        if key.startswith(prefixes):
            _load(index)
    if key not in _BY_NAME:
        entries()  # a class name of a family (HFCosine...), or no name at all
    return _BY_NAME.get(key)


def all_names() -> list[str]:
    return [n for e in entries() for n in (e.name, *e.aliases)]


_SYMBOLS = {
    r"\alpha": "α",
    r"\gamma": "γ",
    r"\tau": "τ",
    r"\rho": "ρ",
    r"\kappa": "κ",
    r"\sigma": "σ",
    r"\pi": "π",
    r"\eta": "η",
    r"\cos": "cos",
    r"\min": "min",
    r"\times": "×",
    r"\lfloor": "⌊",
    r"\rfloor": "⌋",
    r"\tfrac{1}{2}": "½",
    r"\quad": "   ",
    r"\textstyle": "",
    r"\sum": "Σ",
    r"\,": " ",
    r"\left": "",
    r"\right": "",
    r"\\": "\n",
    "&": "",
    # after \left, \gamma, \tau, \times and \textstyle, which begin alike
    r"\le": "≤",
    r"\ge": "≥",
    r"\ne": "≠",
    r"\to": "→",
    r"\max": "max",
    r"\delta": "δ",
    r"\phi": "φ",
    r"\_": "_",
}


def plain_math(doc: str) -> str:
    """Docstring text with its ``.. math::`` LaTeX turned into readable plain text."""
    import re

    text = re.sub(r":(?:class|func|meth|data):`~?(?:[\w.]*\.)?(\w+)`", r"\1", doc)
    text = text.replace("``", "")
    text = re.sub(r"\\sqrt\{([^}]*)\}", r"√(\1)", text)
    text = re.sub(r"\\text(?:style)?\{([^}]*)\}", r"\1", text)
    text = re.sub(r"\\frac\{([^}]*)\}\{([^}]*)\}", r"(\1) / (\2)", text)
    text = re.sub(r"\\begin\{cases\}|\\end\{cases\}", "", text)
    for tex, plain in _SYMBOLS.items():
        text = text.replace(tex, plain)
    text = re.sub(r"_\{([^}]*)\}", r"_\1", text)
    text = re.sub(r"\^\s*\{([^}]*)\}", r"^(\1)", text)
    text = text.replace(".. math::", "").replace(":math:", "").replace("`", "")
    lines = [line.rstrip() for line in text.splitlines()]
    return "\n".join(re.sub(r"(?<=\S) {2,}(?=\S)", "  ", line) for line in lines)
