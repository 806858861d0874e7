r"""Native PyTorch schedulers (``torch.optim.lr_scheduler``), previewed by stepping a real one.

Composer's Trainer takes PyTorch schedulers beside its own, and treats them differently:

1. **They count steps, not time.** A PyTorch scheduler sees only how many times ``step()`` was
   called. The Trainer calls it after every epoch by default (one PyTorch scheduler in the list
   is enough: ``_get_default_scheduler_frequency``), or after every batch with
   ``step_schedulers_every_batch=True`` (a spec's ``step_every: batch``). Either way the step
   comes after the batch or epoch has trained, so with :math:`k` the steps taken so far,

   .. math::
      \eta_{\text{batch } b} = \eta(k), \qquad
      k = \begin{cases} b & \text{stepping every batch} \\
                         \lfloor b / \text{dataloader\_len} \rfloor & \text{stepping every epoch}
          \end{cases}

   where :math:`\eta(0)` is the LR the scheduler sets when it is built (:func:`steps_taken`).
   With no ``dataloader_len`` an epoch never ends, so an epoch-stepped scheduler never moves.
   There is no formula/Trainer split: what the optimizer holds is the only LR there is.

2. **SSR rescales five classes, in place, after they are built** (Composer's
   ``scale_pytorch_scheduler``, re-implemented here): ``StepLR.step_size`` and
   ``CosineAnnealingLR.T_max`` become ``int(value * ssr)``, each ``MultiStepLR`` milestone
   ``int(m * ssr)``, ``CosineAnnealingWarmRestarts.T_0`` becomes ``int(T_0 * ssr)`` and
   ``ExponentialLR.gamma`` becomes ``gamma ** (1 / ssr)``. Any other PyTorch scheduler with
   ``ssr != 1`` is an error, as in Composer. Two consequences are Composer's, kept on purpose:

   - ``CosineAnnealingWarmRestarts`` reads ``T_0`` only when ``step()`` is given an epoch; the
     Trainer never gives one, and the cycle length was fixed from the unscaled ``T_0`` when the
     scheduler was built, so SSR leaves its curve unchanged (the run is still shortened).
   - ``MultiStepLR`` milestones are rescaled as a set: a milestone listed twice (gamma applied
     twice there) counts once after scaling.

3. **The LR, not a multiplier.** The scheduler drives a real ``SGD`` over one dummy parameter
   whose LR is ``lr`` (default 1.0, so the LR *is* the multiplier); the multiplier is the
   optimizer's LR divided by ``lr``. Arguments that are absolute LRs (``OneCycleLR``'s
   ``max_lr``, ``CyclicLR``'s ``base_lr`` and ``max_lr``, which ignore the optimizer's LR
   altogether, and the cosine schedulers' ``eta_min``) only mean what they say when ``lr`` is
   the run's real base LR: pass it, and ``lr * multiplier`` is the optimizer's LR.

torch is imported only when a :class:`TorchScheduler` is built; without it that raises an
``ImportError`` that names the extra to install. Stepping costs a few microseconds per step
(about 3 s for a million), so at most :data:`MAX_STEPS` steps are taken.
"""

from __future__ import annotations

import difflib
import inspect
import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from sched_cli.schedulers.base import ScheduleError

__all__ = [
    "TorchScheduler",
    "TORCH_SCHEDULERS",
    "SCALABLE",
    "MAX_STEPS",
    "is_torch_scheduler_name",
    "describe_torch_scheduler",
    "TorchDescription",
    "torch_trainer_multipliers",
    "steps_taken",
    "trainer_steps",
]

PREFIX = "torch.optim.lr_scheduler."
#: Every scheduler class in ``torch.optim.lr_scheduler`` (torch 2.x), previewable or not.
TORCH_SCHEDULERS = (
    "StepLR",
    "MultiStepLR",
    "ConstantLR",
    "LinearLR",
    "ExponentialLR",
    "PolynomialLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "CyclicLR",
    "OneCycleLR",
    "LambdaLR",
    "MultiplicativeLR",
    "SequentialLR",
    "ChainedScheduler",
    "ReduceLROnPlateau",
)
#: How Composer's Trainer rescales a scheduler by SSR: the attribute it sets, and to what.
_SCALE_RULES: dict[str, tuple[str, Callable[[Any, float], Any]]] = {
    "StepLR": ("step_size", lambda step_size, ssr: int(step_size * ssr)),
    # Iterating a Counter yields each milestone once: a repeated one loses its repeat, as in Composer.
    "MultiStepLR": ("milestones", lambda milestones, ssr: Counter([int(m * ssr) for m in milestones])),
    "CosineAnnealingLR": ("T_max", lambda t_max, ssr: int(t_max * ssr)),
    "CosineAnnealingWarmRestarts": ("T_0", lambda t_0, ssr: int(t_0 * ssr)),
    "ExponentialLR": ("gamma", lambda gamma, ssr: gamma ** (1 / ssr)),
}
#: The classes Composer's Trainer knows how to rescale by SSR.
SCALABLE = tuple(_SCALE_RULES)
#: Why the others cannot be built from a spec's plain values.
_NOT_PREVIEWABLE = {
    "LambdaLR": "takes a Python function (lr_lambda); write a Composer-style scheduler function instead",
    "MultiplicativeLR": "takes a Python function (lr_lambda); write a Composer-style scheduler function instead",
    "SequentialLR": "takes other scheduler objects; list the schedulers in the spec instead",
    "ChainedScheduler": "takes other scheduler objects; list the schedulers in the spec instead",
    "ReduceLROnPlateau": "steps on a validation metric, which a preview does not have",
}
#: A cap on steps taken: about two minutes of stepping and 256 MiB of LRs.
MAX_STEPS = 2**25
_INSTALL = "pip install 'sched-cli[torch]'"
_NUMBER = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")


def is_torch_scheduler_name(name: Any) -> bool:
    """Whether a spec's scheduler name means a PyTorch scheduler (without importing torch)."""
    if not isinstance(name, str):
        return False
    name = name.strip()
    return name.startswith(PREFIX) or name.lower() in {n.lower() for n in TORCH_SCHEDULERS}


@dataclass(frozen=True)
class TorchDescription:
    """What ``sched describe`` says of a PyTorch scheduler.

    Args:
        name: The class name, as torch spells it.
        params: Its constructor's arguments a spec may give (not ``optimizer``, ``last_epoch``,
            ``verbose``): ``(name, default)`` with the
            default as torch's source writes it, or ``None`` for a required one; empty when torch
            is not installed.
        summary: The opening paragraph of its docstring (empty without torch).
        notes: How sched previews it: stepping, SSR, whether it can be previewed at all.
        torch_found: Whether torch's source was found (it is read, never imported).
    """

    name: str
    params: tuple[tuple[str, str | None], ...]
    summary: str
    notes: tuple[str, ...]
    torch_found: bool


def describe_torch_scheduler(name: str) -> TorchDescription:
    """A PyTorch scheduler's signature, summary and how sched previews it, read from torch's
    ``torch/optim/lr_scheduler.py`` with :mod:`ast`: torch is found, not imported (that takes
    seconds), and none of its code runs.

    Raises:
        ScheduleError: ``name`` is not one of :data:`TORCH_SCHEDULERS`.
    """
    wanted = name.strip().removeprefix(PREFIX).lower()
    matches = [n for n in TORCH_SCHEDULERS if n.lower() == wanted]
    if not matches:
        raise ScheduleError(f"{name!r} is not a torch.optim.lr_scheduler class")
    cls = matches[0]
    notes = []
    if cls in _NOT_PREVIEWABLE:
        notes.append(f"sched cannot preview it: it {_NOT_PREVIEWABLE[cls]}.")
    else:
        notes.append(
            "sched steps the real scheduler on a real optimizer (needs torch: pip install 'sched-cli[torch]'), "
            "after every epoch as Composer's Trainer does, or every batch with step_every: batch."
        )
        if cls in SCALABLE:
            attribute = _SCALE_RULES[cls][0]
            notes.append(f"An SSR rescales its {attribute} as Composer's Trainer does.")
        else:
            notes.append("Only ssr 1: Composer's Trainer cannot rescale it.")
        notes.append(f"In a spec: name: {cls}, with the arguments below as keys.")
    source = _torch_source()
    if source is None:
        notes.insert(0, "torch is not installed, so its arguments cannot be shown: pip install 'sched-cli[torch]'.")
        return TorchDescription(cls, (), "", tuple(notes), False)
    import ast

    params: list[tuple[str, str | None]] = []
    summary = ""
    for node in ast.parse(source).body:
        if isinstance(node, ast.ClassDef) and node.name == cls:
            doc = ast.get_docstring(node) or ""
            summary = doc.split("\n\n")[0].replace("\n", " ").strip()
            init = next((n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
            if init is not None:
                positional = [*init.args.posonlyargs, *init.args.args]
                defaults = [None] * (len(positional) - len(init.args.defaults)) + list(init.args.defaults)
                pairs = list(zip(positional, defaults, strict=True))
                pairs += list(zip(init.args.kwonlyargs, init.args.kw_defaults, strict=True))
                for arg, default in pairs:
                    # optimizer is sched's own, last_epoch resumes mid-run, verbose prints: none is a spec key.
                    if arg.arg not in ("self", "optimizer", "last_epoch", "verbose"):
                        params.append((arg.arg, None if default is None else ast.unparse(default)))
            break
    return TorchDescription(cls, tuple(params), summary, tuple(notes), True)


def _torch_source() -> str | None:
    """The text of torch's ``optim/lr_scheduler.py``, found without importing torch, or None."""
    import importlib.util
    from pathlib import Path

    try:
        spec = importlib.util.find_spec("torch")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        path = Path(root) / "optim" / "lr_scheduler.py"
        if path.is_file():
            return path.read_text(encoding="utf-8")
    return None


def steps_taken(batch: Any, step_every: str, dataloader_len: int | None) -> np.ndarray:
    """How many times the Trainer has stepped a PyTorch scheduler when batch ``batch`` starts.

    The LR batch ``b`` trains with is ``lrs[steps_taken(b)]``: ``b`` stepping every batch,
    ``b // dataloader_len`` stepping every epoch (0 throughout when ``dataloader_len`` is None).
    """
    batch = np.asarray(batch, dtype=np.int64)
    if step_every == "batch":
        return batch
    if step_every == "epoch":
        return batch // dataloader_len if dataloader_len else np.zeros_like(batch)
    raise ScheduleError(f"step_every must be 'batch' or 'epoch', not {step_every!r}")


def trainer_steps(batches: int, step_every: str, dataloader_len: int | None) -> int:
    """How many times the Trainer steps a PyTorch scheduler in a run of ``batches`` batches.

    One step after each batch, or after each epoch that finishes (a run that ends mid-epoch
    does not step at its end). The last step comes after training ends: no batch uses its LR,
    but a scheduler that fails there fails the real run, so a faithful preview takes it too:
    ``lrs(trainer_steps(...) + 1)``.
    """
    if step_every == "batch":
        return batches
    if step_every == "epoch":
        return batches // dataloader_len if dataloader_len else 0
    raise ScheduleError(f"step_every must be 'batch' or 'epoch', not {step_every!r}")


class TorchScheduler:
    """A ``torch.optim.lr_scheduler`` class and its arguments, stepped on a real optimizer.

    Args:
        name: The class, as ``torch.optim.lr_scheduler.OneCycleLR`` or ``OneCycleLR`` (any case).
        **kwargs: Its constructor's arguments, without ``optimizer``. Numbers written as text
            (YAML reads ``1e-3`` as text) are read as numbers.

    Raises:
        ImportError: torch is not installed.
        ScheduleError: an unknown or unpreviewable class, or arguments it rejects.
    """

    def __init__(self, name: str, **kwargs: Any) -> None:
        lr_scheduler = _torch_lr_scheduler()
        self.name = _class_name(name, lr_scheduler)
        if self.name in _NOT_PREVIEWABLE:
            raise ScheduleError(f"{self.name} cannot be previewed: it {_NOT_PREVIEWABLE[self.name]}")
        for reserved, why in (
            ("optimizer", "sched gives it an optimizer of its own"),
            ("last_epoch", "it resumes a scheduler mid-run, and a preview starts at the beginning"),
        ):
            if reserved in kwargs:
                raise ScheduleError(f"{self.name}: do not give {reserved}: {why}")
        self.kwargs = {key: _numbers_from_text(value) for key, value in kwargs.items()}
        self._cls = getattr(lr_scheduler, self.name)
        self._build(1.0)  # fail fast on bad arguments

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        return f"{self.name}({args})"

    @property
    def scalable(self) -> bool:
        """Whether Composer's Trainer can rescale this scheduler by an SSR other than 1."""
        return self.name in SCALABLE

    def check_ssr(self, ssr: float) -> None:
        """Raise where Composer's Trainer refuses this SSR for this scheduler."""
        if isinstance(ssr, bool) or not isinstance(ssr, (int, float)) or not math.isfinite(ssr) or ssr <= 0:
            raise ScheduleError(f"{self.name}: ssr must be a finite number greater than 0, not {ssr!r}")
        if ssr != 1.0 and not self.scalable:
            raise ScheduleError(
                f"{self.name} cannot be scaled by ssr={ssr:g}: Composer's Trainer rescales only "
                f"{', '.join(SCALABLE)}, and raises a ValueError for any other PyTorch scheduler; "
                "use ssr 1, or a Composer scheduler"
            )

    def lrs(self, steps: int, ssr: float = 1.0, lr: float = 1.0) -> np.ndarray:
        """The optimizer's LR after 0, 1, ..., ``steps - 1`` calls of ``step()``.

        The scheduler is built on ``SGD(lr=lr)``, rescaled for ``ssr`` as Composer's Trainer
        does, then stepped; entry 0 is the LR it set when built.
        """
        self.check_ssr(ssr)
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
            raise ScheduleError(f"{self.name}: steps must be a whole number of at least 0, not {steps!r}")
        if steps > MAX_STEPS:
            raise ScheduleError(
                f"{self.name}: previewing {steps:,} steps would step a real PyTorch scheduler that many times "
                f"(more than {MAX_STEPS:,}, minutes of work); shorten the run, or step every epoch"
            )
        optimizer, scheduler = self._build(lr)
        scaled = self._scale(scheduler, ssr)
        group = optimizer.param_groups[0]
        out = np.empty(int(steps), dtype=np.float64)
        if steps:
            out[0] = group["lr"]
        # The Trainer has always run an optimizer step first; without one, torch warns.
        optimizer.step()
        for k in range(1, int(steps)):
            try:
                scheduler.step()
            except Exception as exc:  # noqa: BLE001 - torch may raise anything; say where
                raise ScheduleError(
                    f"{self!r}{scaled}: step {k} failed, as it would in Composer's Trainer: {type(exc).__name__}: {exc}"
                ) from exc
            out[k] = group["lr"]
        bad = ~np.isfinite(out)
        if np.any(bad):
            k = int(np.argmax(bad))
            raise ScheduleError(f"{self!r}{scaled}: the LR is {out[k]} after {k} steps; check its arguments")
        return out

    def multipliers(self, steps: int, ssr: float = 1.0, lr: float = 1.0) -> np.ndarray:
        """:meth:`lrs` divided by ``lr``: the multiplier of the base LR after each step."""
        out = self.lrs(steps, ssr, lr)
        return out if lr == 1.0 else out / lr

    def _scale(self, scheduler: Any, ssr: float) -> str:
        """Rescale in place as Composer's ``scale_pytorch_scheduler`` does; say what changed."""
        if ssr == 1.0:  # Composer leaves every scheduler alone then, scalable or not
            return ""
        attr, rule = _SCALE_RULES[self.name]
        before = getattr(scheduler, attr)
        setattr(scheduler, attr, rule(before, ssr))
        show = (lambda v: sorted(v.elements())) if attr == "milestones" else (lambda v: v)
        return f" at ssr {ssr:g} (Composer rescaled {attr} {show(before)} -> {show(getattr(scheduler, attr))})"

    def _build(self, lr: float) -> tuple[Any, Any]:
        import torch

        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr <= 0:
            raise ScheduleError(f"{self.name}: lr must be a finite number greater than 0, not {lr!r}")
        optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(()))], lr=float(lr))
        try:
            return optimizer, self._cls(optimizer, **self.kwargs)
        except TypeError as exc:
            params = [
                p
                for p in inspect.signature(self._cls.__init__).parameters
                if p not in ("self", "optimizer", "last_epoch", "verbose")
            ]
            raise ScheduleError(f"{self!r}: {exc}; its parameters are {', '.join(params)}") from None
        except Exception as exc:  # noqa: BLE001 - torch's own checks raise ValueError, KeyError, ...
            raise ScheduleError(f"{self!r}: {type(exc).__name__}: {exc}") from None


def torch_trainer_multipliers(
    scheduler_name: str, kwargs: dict[str, Any], steps: int, ssr: float = 1.0, *, lr: float = 1.0
) -> np.ndarray:
    """The multiplier in force after 0, 1, ..., ``steps - 1`` Trainer steps of a PyTorch scheduler.

    ``TorchScheduler(scheduler_name, **kwargs).multipliers(steps, ssr, lr)``; map batches to
    steps with :func:`steps_taken`.
    """
    return TorchScheduler(scheduler_name, **kwargs).multipliers(steps, ssr, lr)


# -- helpers ---------------------------------------------------------------------------------------
def _torch_lr_scheduler() -> Any:
    try:
        from torch.optim import lr_scheduler
    except ImportError as exc:
        raise ImportError(f"PyTorch schedulers need PyTorch: {_INSTALL}") from exc
    return lr_scheduler


def _class_name(name: str, lr_scheduler: Any) -> str:
    if not isinstance(name, str):
        raise ScheduleError(f"a PyTorch scheduler name must be text, not {name!r}")
    short = name.strip().removeprefix(PREFIX)
    # A fixed list of torch's scheduler classes, never any attribute a spec names (trust rule).
    classes = [n for n in TORCH_SCHEDULERS if inspect.isclass(getattr(lr_scheduler, n, None))]
    for candidate in classes:
        if candidate.lower() == short.lower():
            return candidate
    close = difflib.get_close_matches(short, classes, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ScheduleError(
        f"{name!r} is not a scheduler in torch.optim.lr_scheduler{hint}; it has {', '.join(sorted(classes))}"
    )


def _numbers_from_text(value: Any) -> Any:
    if isinstance(value, list):
        return [_numbers_from_text(v) for v in value]
    if isinstance(value, str) and _NUMBER.fullmatch(value):
        return int(value) if re.fullmatch(r"\s*[-+]?\d+\s*", value) else float(value)
    return value
