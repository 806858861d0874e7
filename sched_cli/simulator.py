"""Step a synthetic run through its batches and compute the multiplier each batch trains with.

A :class:`Run` is a training run as a Composer Trainer sees it: ``max_duration``, batches per
epoch, samples per batch, tokens per sample, how often schedulers step, an optional base LR, and
the schedulers. :func:`simulate` turns a run and an SSR into rows, one per batch trained (or a
chosen subset of them), streamed in chunks of numpy arrays so memory stays flat however long
the run. Two modes:

- ``formula``: the multiplier of batch *k* is the product of every scheduler's alpha at the
  timestamp at the start of batch *k* (at the start of its epoch when stepping every epoch).
- ``trainer``: what Composer 0.32's Trainer really puts on the optimizer. Each scheduler is a
  ``LambdaLR`` built (and first evaluated) before the Trainer scales ``max_duration`` by SSR; it
  steps after each batch, before the timestamp advances; and each one overwrites the LR, so
  only the last scheduler is in force (yet every one is built and stepped, so any of them can
  fail the run). Batch 0 trains with alpha(0) from construction, batch *k* >= 1 with alpha at
  the start of batch *k - 1*; stepping every epoch, epoch *e* >= 1 trains
  with alpha at the timestamp after the last batch of epoch *e - 1* (whose epoch still reads
  *e - 1*).

Built-in schedulers are evaluated in one vectorized pass per chunk; any other callable is called
once per distinct timestamp, through a real :class:`~sched_cli.state.State`.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from sched_cli.geometry import Geometry, samples_before
from sched_cli.schedulers.base import (
    Breakpoint,
    BuiltinScheduler,
    RunShape,
    ScheduleError,
    call_scheduler,
    scheduler_name,
    takes_ssr,
)
from sched_cli.schedulers.torch_native import TorchScheduler, steps_taken, trainer_steps
from sched_cli.state import State
from sched_cli.time import COUNTED_UNITS, Time, Timestamp, TimeUnit

__all__ = [
    "Run",
    "Plan",
    "Timeline",
    "Selection",
    "Segment",
    "SimulationError",
    "simulate_plan",
    "simulate",
    "plan",
    "first_batch_at",
    "end_of_run",
    "breakpoints_in_force",
    "collect",
    "to_dataframe",
    "COLUMNS",
    "DEFAULT_CHUNK",
]

Mode = Literal["formula", "trainer"]
StepEvery = Literal["batch", "epoch"]

#: Columns of every row, in order; ``lr`` follows when the run has a base LR.
COLUMNS = ("ssr", "batch", "epoch", "sample", "token", "duration", "multiplier")
#: Rows per streamed chunk: large enough for numpy to be fast, small enough to keep memory flat.
DEFAULT_CHUNK = 1 << 18
#: Training loops whose stepping ``mode="trainer"`` replays: Composer's Trainer (schedulers
#: step after each batch, one batch late; see the module docstring), Hugging Face's (``LambdaLR``
#: stepped after each optimizer update: update *k* trains with the factor at *k*), timm's
#: train.py (whose schedulers' formulas already give what each update trains with) and MMEngine's
#: Runner (whose parameter schedulers are replayed as its hook steps them).
TRAINERS = ("composer", "hf", "timm", "mmengine")
# Counters are int64: refuse runs whose token count could overflow it.
_INT64_LIMIT = 2**62


class SimulationError(ScheduleError):
    """A run that cannot be simulated, or a scheduler that misbehaved during one."""


@dataclass(frozen=True)
class Run:
    """A training run to preview.

    Args:
        max_duration: Length of the run before SSR scaling (``ep``, ``ba``, ``sp`` or ``tok``).
        schedulers: One or more schedulers, in the order the Trainer is given them.
        dataloader_len: Batches per epoch; ``None`` for a loader that never ends an epoch.
        batch_size: Samples per batch.
        seq_len: Tokens per sample.
        step_every: ``"batch"`` or ``"epoch"``: when the Trainer steps the schedulers.
        lr: Optional base learning rate; adds the ``lr`` column.
        trainer: Whose training loop steps the schedulers; ``mode="trainer"`` replays it.
        last_batch_size: Samples in the last batch of each epoch (across ranks), when it is
            shorter than ``batch_size``; needs ``dataloader_len``.
        geometry: The dataset size, devices and per-device batch the loader was derived from.
    """

    max_duration: Time
    schedulers: tuple[Callable[..., Any], ...]
    dataloader_len: int | None = None
    batch_size: int = 1
    seq_len: int = 1
    step_every: StepEvery = "batch"
    lr: float | None = None
    #: Whose Trainer steps the schedulers, for ``mode="trainer"`` (see :data:`TRAINERS`).
    trainer: str = "composer"
    #: Samples in the last batch of each epoch, when the data does not divide (``None``: full).
    last_batch_size: int | None = None
    #: The facts the loader geometry was derived from, when it was (for reports).
    geometry: Geometry | None = None
    #: Hugging Face's ``num_train_epochs`` (fractional allowed) when the run's length is counted in
    #: epochs: ``max_duration`` is then the ``ceil(epochs x dataloader_len)`` updates it rounds to,
    #: and SSR scales the epochs (see :func:`hf_scaled_length`).
    num_train_epochs: float | None = None

    def __post_init__(self) -> None:
        md = Time.from_input(self.max_duration)
        object.__setattr__(self, "max_duration", md)
        object.__setattr__(self, "schedulers", tuple(self.schedulers))
        if md.unit not in COUNTED_UNITS:
            raise SimulationError(f"max_duration {md} must be in ep, ba, sp or tok, not {md.unit.value!r}")
        if md.value <= 0:
            raise SimulationError(f"max_duration {md} must be positive")
        if not self.schedulers:
            raise SimulationError("a run needs at least one scheduler")
        for name in ("batch_size", "seq_len"):
            _require_count(name, getattr(self, name))
        if self.dataloader_len is not None:
            _require_count("dataloader_len", self.dataloader_len)
        elif md.unit is TimeUnit.EPOCH:
            raise SimulationError(f"max_duration {md} is in epochs, so dataloader_len (batches per epoch) is required")
        if self.last_batch_size is not None:
            _require_count("last_batch_size", self.last_batch_size)
            if self.last_batch_size > self.batch_size:
                raise SimulationError(
                    f"last_batch_size {self.last_batch_size} cannot exceed batch_size {self.batch_size}"
                )
            if self.dataloader_len is None and self.last_batch_size != self.batch_size:
                raise SimulationError("a short last batch (last_batch_size) needs dataloader_len: it ends an epoch")
            if self.last_batch_size == self.batch_size:
                object.__setattr__(self, "last_batch_size", None)
        if self.trainer not in TRAINERS:
            raise SimulationError(f"trainer must be one of {', '.join(TRAINERS)}, not {self.trainer!r}")
        if self.num_train_epochs is not None:
            _check_hf_epochs(self)
        if self.step_every not in ("batch", "epoch"):
            raise SimulationError(f"step_every must be 'batch' or 'epoch', not {self.step_every!r}")
        if self.lr is not None and not (isinstance(self.lr, numbers.Real) and math.isfinite(self.lr)):
            raise SimulationError(f"lr must be a finite number, not {self.lr!r}")

    @property
    def tokens_per_batch(self) -> int:
        return self.batch_size * self.seq_len

    def scaled_max_duration(self, ssr: float) -> Time:
        """``max_duration`` scaled as the Trainer does: ``int(value * ssr)``, never 0 (Hugging
        Face's runs: :func:`hf_scaled_length`)."""
        _require_ssr(ssr)
        scaled = hf_scaled_length(self, ssr) if self.trainer == "hf" else self.max_duration * ssr
        if scaled.value <= 0:
            raise SimulationError(
                f"ssr {ssr:g} scales max_duration {self.max_duration} to {scaled}: the run would be empty "
                "(Composer rejects this); use a larger ssr or a longer run"
            )
        return scaled

    def shape(self, ssr: float) -> RunShape:
        """What the schedulers see at this SSR: the scaled ``max_duration``."""
        return self.shape_with(self.scaled_max_duration(ssr))

    def unscaled_shape(self) -> RunShape:
        return self.shape_with(self.max_duration)

    def shape_with(self, max_duration: Time) -> RunShape:
        """What the schedulers see of this run with the given (scaled) ``max_duration``."""
        return RunShape(max_duration, self.dataloader_len, self.batch_size, self.seq_len, self.last_batch_size)

    def state(self, max_duration: Time, timestamp: Timestamp | None = None) -> State:
        """A State of this run (with its batch and sequence sizes), at ``timestamp``."""
        return State(
            max_duration,
            self.dataloader_len,
            timestamp,
            batch_size=self.batch_size,
            seq_len=self.seq_len,
            last_batch_size=self.last_batch_size,
        )

    def batches(self, ssr: float) -> int:
        """How many batches the run trains at this SSR (the last one may overshoot sp/tok)."""
        md = self.scaled_max_duration(ssr)
        if md.unit is TimeUnit.BATCH:
            n = md.value
        elif md.unit is TimeUnit.EPOCH:
            n = md.value * self.dataloader_len  # type: ignore[operator]
        else:
            n = self.shape_with(md).first_batch_reaching(md)
        if n * self.tokens_per_batch >= _INT64_LIMIT:
            raise SimulationError(
                f"a run of {_count_text(n)} batches of {_count_text(self.tokens_per_batch)} tokens overflows the "
                "64-bit token counter"
            )
        return n


def hf_scaled_length(run: Run, ssr: float) -> Time:
    """A Hugging Face run's length at ``ssr``, in optimizer updates.

    Hugging Face has no scale schedule ratio; sched reads ``ssr`` as "train ``ssr`` times as long"
    and recomputes what the Trainer would from the scaled argument: ``num_train_epochs x ssr``
    (a float, as ``TrainingArguments`` takes it) becomes ``ceil(epochs x updates per epoch)``
    updates, as in ``Trainer.set_initial_training_values``; a ``max_steps`` run becomes
    ``int(max_steps x ssr)`` updates (truncated, as Composer scales ``max_duration``). Warmup
    given as a ratio follows, since the schedulers compute it from this length.
    """
    if run.num_train_epochs is not None:
        epochs = run.num_train_epochs * ssr
        return Time(math.ceil(epochs * run.dataloader_len), TimeUnit.BATCH)  # type: ignore[operator]
    return run.max_duration * ssr


def _check_hf_epochs(run: Run) -> None:
    epochs = run.num_train_epochs
    if isinstance(epochs, bool) or not isinstance(epochs, numbers.Real) or not math.isfinite(epochs) or epochs <= 0:
        raise SimulationError(f"num_train_epochs must be a number greater than 0, not {epochs!r}")
    if run.trainer != "hf" or run.dataloader_len is None:
        raise SimulationError("num_train_epochs belongs to a Hugging Face run (trainer: hf) with dataloader_len")
    expected = Time(math.ceil(epochs * run.dataloader_len), TimeUnit.BATCH)
    if run.max_duration != expected:
        raise SimulationError(
            f"max_duration {run.max_duration} disagrees with num_train_epochs {epochs:g} x {run.dataloader_len} "
            f"updates per epoch = {expected}"
        )


def _count_text(n: int) -> str:
    """A count for messages: exact with separators, or ``~1e+30`` past 2**53, where a count read
    from text such as ``1e30ba`` went through a float and its trailing digits mean nothing."""
    return f"{n:,}" if n <= 2**53 else f"~{float(n):.6g}"


def _require_count(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise SimulationError(f"{name} must be a whole number of at least 1, not {value!r}")


def _require_ssr(ssr: Any) -> None:
    if isinstance(ssr, bool) or not isinstance(ssr, numbers.Real) or not math.isfinite(ssr) or ssr <= 0:
        raise SimulationError(f"ssr must be a finite number greater than 0, not {ssr!r}")


# -- timelines --------------------------------------------------------------------------------
@dataclass
class Timeline:
    """Counters of many timestamps at once: the array form of a ``Timestamp``."""

    epoch: np.ndarray
    batch: np.ndarray
    sample: np.ndarray
    token: np.ndarray
    #: Batches since the epoch began, where the counters alone do not tell it (a resumed run).
    in_epoch: np.ndarray | None = None

    def get(self, unit: TimeUnit) -> np.ndarray:
        unit = TimeUnit(unit)
        if unit is TimeUnit.EPOCH:
            return self.epoch
        if unit is TimeUnit.BATCH:
            return self.batch
        if unit is TimeUnit.SAMPLE:
            return self.sample
        if unit is TimeUnit.TOKEN:
            return self.token
        if unit in (TimeUnit.ITERATION, TimeUnit.SECOND):
            return np.zeros_like(self.batch)  # a synthetic run has one iteration and takes no time
        raise ValueError(f"a timeline has no counter in {unit.value!r}")

    def __len__(self) -> int:
        return len(self.batch)

    def timestamp(self, i: int, run: Run | None = None) -> Timestamp:
        """Timestamp ``i``; with its run, the in-epoch counters too (for custom schedulers)."""
        epoch, batch, sample, token = (int(a[i]) for a in (self.epoch, self.batch, self.sample, self.token))
        if run is None:
            return Timestamp(epoch=epoch, batch=batch, sample=sample, token=token)
        # Batches since the epoch began: dataloader_len right after an epoch's last batch, whose
        # epoch counter has not moved on yet (the Trainer's epoch-stepping moment).
        if self.in_epoch is not None:
            in_epoch = int(self.in_epoch[i])
        else:
            in_epoch = batch - epoch * run.dataloader_len if run.dataloader_len else batch
        in_epoch_samples = samples_before(in_epoch, run.dataloader_len, run.batch_size, run.last_batch_size)
        return Timestamp(
            epoch=epoch,
            batch=batch,
            sample=sample,
            token=token,
            epoch_in_iteration=epoch,
            token_in_iteration=token,
            batch_in_epoch=in_epoch,
            sample_in_epoch=in_epoch_samples,
            token_in_epoch=in_epoch_samples * run.seq_len,
        )

    @classmethod
    def at_batch_starts(cls, run: Run, batches: np.ndarray) -> Timeline:
        """The timestamps at the start of each batch in ``batches``."""
        batches = np.asarray(batches, dtype=np.int64)
        epoch = batches // run.dataloader_len if run.dataloader_len else np.zeros_like(batches)
        sample = samples_before(batches, run.dataloader_len, run.batch_size, run.last_batch_size)
        return cls(epoch=epoch, batch=batches, sample=sample, token=sample * run.seq_len)


# -- which batches ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Selection:
    """Which batches to report: all of them, every ``every``-th, or ``points`` spread evenly.

    Subsets always include the first and last batch and the batches around each breakpoint of
    the schedule (warmup end, milestones, restarts).
    """

    every: int | None = None
    points: int | None = None
    batches: tuple[int, ...] | None = None  # exactly these batches, nothing added

    def __post_init__(self) -> None:
        if sum(v is not None for v in (self.every, self.points, self.batches)) > 1:
            raise SimulationError("choose one of every, points or batches")
        for name in ("every", "points"):
            value = getattr(self, name)
            if value is not None:
                _require_count(name, value)

    @property
    def is_all(self) -> bool:
        return self.every is None and self.points is None and self.batches is None

    def count(self, n: int) -> int:
        """Rows this selection yields from ``n`` batches, before breakpoints are added."""
        if self.every is not None:
            return -(-n // self.every)
        if self.points is not None:
            return min(n, self.points)
        if self.batches is not None:
            return len(self.batches)
        return n


@dataclass
class Plan:
    """A run at one SSR, ready to simulate: its scaled length, batch count and breakpoints."""

    run: Run
    ssr: float
    max_duration: Time
    batches: int
    breakpoints: list[tuple[Breakpoint, int]] = field(default_factory=list)

    @property
    def shape(self) -> RunShape:
        return self.run.shape_with(self.max_duration)


def plan(run: Run, ssr: float = 1.0) -> Plan:
    """Scale the run by ``ssr`` and find where each scheduler's breakpoints fall, in batches."""
    max_duration = run.scaled_max_duration(ssr)
    n = run.batches(ssr)
    p = Plan(run=run, ssr=ssr, max_duration=max_duration, batches=n)
    p.breakpoints = _breakpoints(p, run.schedulers)
    return p


def _breakpoints(p: Plan, schedulers: Sequence[Callable[..., Any]]) -> list[tuple[Breakpoint, int]]:
    """The breakpoints of these (built-in) schedulers inside the run, with their first batch."""
    found = []
    for scheduler in schedulers:
        if isinstance(scheduler, BuiltinScheduler):
            for bp in scheduler.breakpoints(scheduler.resolve(p.shape, p.ssr)):
                batch = _first_batch_reaching(p.run, bp.time)
                if batch is not None and 0 <= batch < p.batches:
                    found.append((bp, batch))
    return sorted(found, key=lambda item: item[1])


def breakpoints_in_force(p: Plan, mode: Mode = "formula") -> list[tuple[Breakpoint, int]]:
    """The breakpoints that shape what ``mode`` shows: every scheduler's in ``formula`` mode;
    in ``trainer`` mode only the last scheduler's, the one whose LR the Trainer applies (a
    warmup in an earlier scheduler never happens there)."""
    if mode == "formula" or len(p.run.schedulers) < 2:
        return p.breakpoints
    return _breakpoints(p, p.run.schedulers[-1:])


def first_batch_at(p: Plan, time: Time) -> int | None:
    """The first batch of the planned run whose start has reached ``time`` (``dur`` is a fraction
    of the scaled run, converted as Composer converts it)."""
    if time.unit is TimeUnit.DURATION:
        md = p.max_duration
        if md.unit is TimeUnit.EPOCH:
            time = Time(int(time.value * p.run.dataloader_len * md.value), TimeUnit.BATCH)  # type: ignore[operator]
        else:
            time = Time(int(time.value * md.value), md.unit)
    return _first_batch_reaching(p.run, time)


def _first_batch_reaching(run: Run, time: Time) -> int | None:
    """The first batch whose start-of-batch counter in ``time.unit`` is at least ``time``."""
    return run.unscaled_shape().first_batch_reaching(time)


def _selected_batches(p: Plan, selection: Selection, chunk: int, through_end: bool = False) -> Iterator[np.ndarray]:
    n = p.batches
    if selection.is_all:
        for start in range(0, n, chunk):
            yield np.arange(start, min(start + chunk, n), dtype=np.int64)
        return
    if selection.batches is not None:
        chosen = np.unique(np.asarray(selection.batches, dtype=np.int64))
        last = n if through_end else n - 1  # batch n stands for the end of the run
        if len(chosen) and (chosen[0] < 0 or chosen[-1] > last):
            raise SimulationError(f"batches must lie in 0..{last}")
        for start in range(0, len(chosen), chunk):
            yield chosen[start : start + chunk]
        return
    extra = [n - 1]
    for _, batch in p.breakpoints:
        extra.extend((batch - 1, batch, batch + 1))
    extras = np.unique(np.asarray(extra, dtype=np.int64))
    extras = extras[(extras >= 0) & (extras < n)]
    # The grid is made window by window, each merged with the (few) extra batches inside it, and
    # cut into chunks: memory stays flat however many rows are asked for.
    pending = np.empty(0, dtype=np.int64)
    for grid, start, stop in _grid_windows(n, selection, chunk):
        window = np.union1d(grid, extras[(extras >= start) & (extras < stop)])
        pending = np.concatenate([pending, window])
        while len(pending) >= chunk:
            yield pending[:chunk]
            pending = pending[chunk:]
    if len(pending):
        yield pending


def _grid_windows(n: int, selection: Selection, chunk: int) -> Iterator[tuple[np.ndarray, int, int]]:
    """The evenly spaced batches of ``--every`` or ``--points``, a window at a time: each window's
    grid and the batch range ``[start, stop)`` it covers (windows tile ``0..n``)."""
    if selection.every is not None:
        step = selection.every * chunk
        for start in range(0, n, step):
            stop = min(start + step, n)
            yield np.arange(start, stop, selection.every, dtype=np.int64), start, stop
        return
    count = min(n, selection.points)  # type: ignore[type-var]
    if count == 1:
        yield np.zeros(1, dtype=np.int64), 0, n
        return
    # What numpy's linspace(0, n - 1, count) gives, rounded, computed a slice at a time: point i
    # is i * (n - 1) / (count - 1), and the last one is exactly n - 1.
    spacing = (n - 1) / (count - 1)
    start = 0
    for first in range(0, count, chunk):
        last = min(first + chunk, count)
        points = np.arange(first, last, dtype=np.float64) * spacing
        if last == count:
            points[-1] = n - 1
        grid = np.round(points).astype(np.int64)
        stop = n if last == count else int(grid[-1]) + 1
        yield grid, start, stop
        start = stop


# -- the simulation -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Segment:
    """How a run resumed from a checkpoint continues: its rows are the run's own timeline from
    batch ``first`` on, with the restored counters added.

    A resumed run trains under its own geometry from a timestamp it did not count itself, so
    the timestamp of its batch ``first + j`` is its own timestamp there plus the offsets
    (``epoch``, ``batch``, ``sample``, ``token``). ``first`` is the restored ``batch_in_epoch``
    when it is less than ``dataloader_len`` (the epoch goes on), else ``dataloader_len`` (the
    Trainer skips through the whole loader, ends the epoch, then starts the next). In trainer
    mode the optimizer holds ``initial`` (a multiplier of ``base_lr``) until the schedulers
    first step after the resume.
    """

    first: int
    epoch: int
    batch: int
    sample: int
    token: int
    initial: float = 1.0
    base_lr: float | None = None

    def shift(self, run: Run, t: Timeline) -> Timeline:
        """The restored timeline of the run's own batches ``t``."""
        dl = run.dataloader_len
        in_epoch = t.batch - t.epoch * dl if dl else t.batch
        return Timeline(
            epoch=t.epoch + self.epoch,
            batch=t.batch + self.batch,
            sample=t.sample + self.sample,
            token=t.token + self.token,
            in_epoch=in_epoch,
        )


def simulate_plan(
    p: Plan,
    *,
    mode: Mode = "formula",
    selection: Selection | None = None,
    segment: Segment | None = None,
    chunk: int = DEFAULT_CHUNK,
    progress: Callable[[int], None] | None = None,
    through_end: bool = False,
) -> Iterator[dict[str, np.ndarray]]:
    """Like :func:`simulate` for a ready plan; with ``segment``, rows ``0 .. p.batches - 1`` are
    the batches trained after a resume (``sched_cli.resume`` builds both). ``through_end``: batch
    ``p.batches`` may be selected, the end of the run (see :func:`end_of_run`)."""
    if mode not in ("formula", "trainer"):
        raise SimulationError(f"mode must be 'formula' or 'trainer', not {mode!r}")
    return _rows(p, mode, selection or Selection(), chunk, progress, through_end=through_end, segment=segment)


def simulate(
    run: Run,
    ssr: float = 1.0,
    *,
    mode: Mode = "formula",
    selection: Selection | None = None,
    chunk: int = DEFAULT_CHUNK,
    progress: Callable[[int], None] | None = None,
) -> Iterator[dict[str, np.ndarray]]:
    """Yield the run's rows in chunks: a dict of equal-length arrays per chunk.

    Keys are :data:`COLUMNS`, plus ``lr`` when the run has a base LR. ``progress`` is called with
    the number of batches each chunk covered, for a progress bar.
    """
    if mode not in ("formula", "trainer"):
        raise SimulationError(f"mode must be 'formula' or 'trainer', not {mode!r}")
    p = plan(run, ssr)
    return _rows(p, mode, selection or Selection(), chunk, progress)


def end_of_run(run: Run, ssr: float = 1.0, *, mode: Mode = "formula") -> dict[str, np.ndarray]:
    """The row of the end of the run: what the LR is once the last batch has trained.

    Its counters are the timestamp after the last batch (``batch`` = the batches trained,
    ``epoch`` = the epochs completed, ``sample``/``token`` at ``max_duration``, or just past it
    when the last batch overshoots). In ``formula`` mode the multiplier is the schedulers' value
    at that timestamp, as for any batch (``alpha(max_duration)``: ``alpha_f`` for a decay to
    ``alpha_f``); in ``trainer`` mode it is what the optimizer holds after the Trainer's last
    step, the one taken after the last batch (alpha at the start of the last batch, or at the
    end of the last epoch when stepping every epoch). One-element arrays, keys as
    :func:`simulate`'s.
    """
    if mode not in ("formula", "trainer"):
        raise SimulationError(f"mode must be 'formula' or 'trainer', not {mode!r}")
    p = plan(run, ssr)
    return next(_rows(p, mode, Selection(batches=(p.batches,)), 1, None, through_end=True))


def _rows(
    p: Plan,
    mode: Mode,
    selection: Selection,
    chunk: int,
    progress: Callable[[int], None] | None,
    through_end: bool = False,
    segment: Segment | None = None,
) -> Iterator[dict[str, np.ndarray]]:
    """The rows of a planned run; with ``segment``, of a run resumed part-way (see :class:`Segment`)."""
    run = p.run
    evaluators = [_Evaluator(s, p) for s in run.schedulers]
    in_force = evaluators if mode == "formula" else evaluators[-1:]
    # The Trainer still builds and steps every scheduler whose LR the last one overwrites, so
    # each of them can stop the run: evaluate them for their errors alone.
    shadowed = evaluators[:-1] if mode == "trainer" else []
    initial = None
    if mode == "trainer" and segment is not None:
        initial = segment.initial
    elif mode == "trainer" and run.trainer == "composer":
        initial = _initial_alpha(run, p.ssr, in_force, shadowed)
    first = segment.first if segment is not None else 0
    base_lr = segment.base_lr if segment is not None and mode == "trainer" else run.lr
    md = p.max_duration
    for batches in _selected_batches(p, selection, chunk, through_end):
        rows = Timeline.at_batch_starts(run, batches + first)
        at, fresh = _evaluation_times(run, rows, mode, first)
        if segment is not None:
            rows, at = segment.shift(run, rows), segment.shift(run, at)
        multiplier = np.ones(len(batches), dtype=np.float64)
        for evaluator in shadowed:
            evaluator(at, rows)
        with np.errstate(over="ignore"):  # an overflow is reported below, in words
            for evaluator in in_force:
                multiplier *= evaluator(at, rows)
        if initial is not None:
            multiplier[fresh] = initial
        if len(in_force) > 1 and not np.isfinite(multiplier).all():
            i = int(np.argmin(np.isfinite(multiplier)))
            raise SimulationError(
                f"the product of the schedulers' multipliers overflows to {float(multiplier[i])} at batch "
                f"{int(rows.batch[i])}"
            )
        out = {
            "ssr": np.full(len(batches), float(p.ssr)),
            "batch": rows.batch,
            "epoch": rows.epoch,
            "sample": rows.sample,
            "token": rows.token,
            "duration": np.true_divide(rows.get(md.unit), md.value),
            "multiplier": multiplier,
        }
        if base_lr is not None:
            torch = in_force[-1] if in_force[-1].torch_lrs is not None else None
            with np.errstate(over="ignore"):  # an overflow is reported just below, in words
                if segment is not None:  # a resumed run's base LR may be BEFORE's (see sched_cli.resume)
                    out["lr"] = base_lr * multiplier
                else:
                    out["lr"] = torch.torch_lr(rows) if torch is not None else _lr_column(p, in_force, at, multiplier)
            _check_lr(out["lr"], base_lr, multiplier, rows.batch)
        if progress is not None:
            progress(int(batches[-1]) + 1 if len(batches) else 0)
        yield out


def _evaluation_times(run: Run, rows: Timeline, mode: Mode, first: int = 0) -> tuple[Timeline, np.ndarray]:
    """The timestamp each row's multiplier is computed at, and which rows use the initial LR.

    This is where each trainer's stepping lives: ``formula`` mode evaluates at the start of each
    batch (or epoch); ``trainer`` mode replays ``run.trainer``'s loop (Composer's below).
    ``first`` is the batch training starts at (not 0 in a resumed segment): until the schedulers
    first step after it, the optimizer holds the LR it started with.
    """
    batch = rows.batch
    dl = run.dataloader_len
    if run.trainer == "timm":
        mode = "formula"  # timm's schedulers compute what train.py applies, built-in LR included
    if run.trainer == "mmengine":  # its schedulers hold the LR of each iteration: the formula is the replay
        return rows, np.zeros(len(batch), dtype=bool)
    if run.step_every == "batch":
        # Hugging Face: its LambdaLR is built at factor(0) and stepped after each optimizer
        # update, so update k (a batch of the run) trains with factor(k): the formula itself.
        if mode == "formula" or run.trainer == "hf":
            return rows, np.zeros(len(batch), dtype=bool)
        # Trainer: the scheduler stepped after batch k-1, before the timestamp moved past it.
        return Timeline.at_batch_starts(run, np.maximum(batch - 1, first)), batch == first
    # Stepping every epoch.
    epoch = rows.epoch
    start = epoch * dl if dl else np.zeros_like(batch)
    if mode == "formula":
        return Timeline.at_batch_starts(run, start), np.zeros(len(batch), dtype=bool)
    # Trainer: stepped after the last batch of epoch e-1: batch counter at e*dl, epoch still e-1.
    after = Timeline.at_batch_starts(run, start)
    after.epoch = np.maximum(epoch - 1, 0)
    return after, epoch == 0


def _lr_column(p: Plan, in_force: list[_Evaluator], at: Timeline, multiplier: np.ndarray) -> np.ndarray:
    """Base LR x multiplier; a scheduler that computes the optimizer's LR itself gives its own, to
    the bit: timm's (``learning_rates``, for the LR it was built with) and MMEngine's chains
    (``optimizer_lr``)."""
    scheduler = in_force[-1].scheduler
    if len(in_force) == 1:
        replay = getattr(scheduler, "optimizer_lr", None)
        if replay is not None:
            return replay(p.shape, p.ssr, at, p.run.lr)
        if getattr(scheduler, "base_lr", None) == p.run.lr:
            return scheduler.learning_rates(at, p.shape, p.ssr)
    return p.run.lr * multiplier


def _initial_alpha(run: Run, ssr: float, in_force: list[_Evaluator], shadowed: Sequence[_Evaluator] = ()) -> float:
    """alpha(0) as the Trainer's LambdaLR computes it on construction, before SSR scaling."""
    state = run.state(run.max_duration, Timestamp())
    for evaluator in shadowed:  # built (and so evaluated) first, in order
        evaluator.scalar(state, ssr)
    alpha = 1.0
    for evaluator in in_force:
        alpha *= evaluator.scalar(state, ssr)
    return alpha


class _Evaluator:
    """One scheduler evaluated over timelines: vectorized if built in, else call by call."""

    def __init__(self, scheduler: Callable[..., Any], p: Plan) -> None:
        self.scheduler = scheduler
        self.plan = p
        self.builtin = isinstance(scheduler, BuiltinScheduler)
        self.torch_lrs: np.ndarray | None = None
        if isinstance(scheduler, TorchScheduler):
            # A real PyTorch scheduler, stepped once per Trainer step up front (plus the step after
            # the last batch, which fails in a real run if the scheduler runs out of steps).
            run = p.run
            steps = trainer_steps(p.batches, run.step_every, run.dataloader_len) + 1
            self.torch_raw = scheduler.lrs(steps, p.ssr, run.lr or 1.0)
            self.torch_lrs = self.torch_raw / (run.lr or 1.0)
        elif not self.builtin:
            self.ssr_aware = takes_ssr(scheduler)
            if not self.ssr_aware and p.ssr != 1.0:
                call_scheduler(scheduler, None, p.ssr, ssr_aware=False)  # raises the clear error
            self.state = p.run.state(p.max_duration)

    def __call__(self, at: Timeline, rows: Timeline) -> np.ndarray:
        """The multiplier of each row, evaluated at the timestamps ``at`` (see _evaluation_times)."""
        if self.torch_lrs is not None:
            return self.torch_lrs[self._torch_steps(rows)]
        if self.builtin:
            return self.scheduler.evaluate(at, self.plan.shape, self.plan.ssr)  # type: ignore[attr-defined]
        return self._call_each(at)

    def _torch_steps(self, rows: Timeline) -> np.ndarray:
        # The optimizer's own LR: batch k trains with the LR after the steps taken before it, in
        # either mode (there is no formula apart from what the optimizer holds).
        run = self.plan.run
        return steps_taken(rows.batch, run.step_every, run.dataloader_len)

    def torch_lr(self, rows: Timeline) -> np.ndarray:
        """The LR the real optimizer holds for each row, to the bit (not base LR x multiplier)."""
        return self.torch_raw[self._torch_steps(rows)]

    def scalar(self, state: State, ssr: float) -> float:
        if self.torch_lrs is not None:
            return float(self.torch_lrs[0])
        if self.builtin:
            return _checked(self.scheduler(state, ssr), self.scheduler, state.timestamp)
        return _checked(_call_user(self.scheduler, state, ssr, self.ssr_aware), self.scheduler, state.timestamp)

    def _call_each(self, at: Timeline) -> np.ndarray:
        # Many rows share a timestamp (epoch stepping, the trainer's lag): call once per distinct one.
        keys = np.stack([at.epoch, at.batch], axis=1)
        _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
        values = np.empty(len(first), dtype=np.float64)
        state = self.state
        for j, i in enumerate(first):
            state.timestamp = at.timestamp(int(i), self.plan.run)
            values[j] = _checked(
                _call_user(self.scheduler, state, self.plan.ssr, self.ssr_aware), self.scheduler, state.timestamp
            )
        return values[inverse.reshape(-1)]


def _call_user(scheduler: Callable[..., Any], state: State, ssr: float, ssr_aware: bool) -> Any:
    """Call a custom scheduler; whatever it raises becomes an error that says where."""
    try:
        return call_scheduler(scheduler, state, ssr, ssr_aware=ssr_aware)
    except ScheduleError:
        raise
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - user code may raise anything, sys.exit() too
        ts = state.timestamp
        what = (
            f"called sys.exit({exc.code!r})" if isinstance(exc, SystemExit) else f"raised {type(exc).__name__}: {exc}"
        )
        raise SimulationError(
            f"scheduler {scheduler_name(scheduler)!r} {what} at batch {int(ts.batch)} (epoch {int(ts.epoch)})"
        ) from exc


def _checked(value: Any, scheduler: Any, timestamp: Timestamp) -> float:
    name = scheduler_name(scheduler)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise SimulationError(
            f"scheduler {name!r} returned {value!r} ({type(value).__name__}) at batch {int(timestamp.batch)}; "
            "a scheduler must return a number"
        )
    try:
        value = float(value)
    except OverflowError:  # an int such as 10**400
        raise SimulationError(
            f"scheduler {name!r} returned a number too large for a float ({_digits(value)}) at batch "
            f"{int(timestamp.batch)}; a multiplier must be finite"
        ) from None
    if value < 0 and not isinstance(scheduler, BuiltinScheduler):
        _warn_negative(scheduler, value, timestamp)
    if not math.isfinite(value):
        raise SimulationError(
            f"scheduler {name!r} returned {value} at batch {int(timestamp.batch)} "
            f"(epoch {int(timestamp.epoch)}); a multiplier must be finite"
        )
    return value


_warned_negative: set[int] = set()


def _warn_negative(scheduler: Any, value: float, timestamp: Timestamp) -> None:
    """A custom scheduler returned a negative multiplier: legal, but a negative LR ascends the
    loss; warn once per scheduler."""
    if id(scheduler) in _warned_negative:
        return
    _warned_negative.add(id(scheduler))
    warnings.warn(
        f"scheduler {scheduler_name(scheduler)!r} returned a negative multiplier ({value:g}) at batch "
        f"{int(timestamp.batch)}: the LR would be negative there",
        NegativeMultiplierWarning,
        stacklevel=2,
    )


class NegativeMultiplierWarning(UserWarning):
    """A custom scheduler returned a multiplier below 0."""


def _digits(value: Any) -> str:
    try:
        return f"{len(str(abs(int(value)))):,} digits"
    except (ValueError, TypeError, OverflowError):
        return type(value).__name__


def _check_lr(lr: np.ndarray, base: float, multiplier: np.ndarray, batch: np.ndarray) -> None:
    """The LR column must be finite: a huge base LR times a huge multiplier overflows to inf."""
    finite = np.isfinite(lr)
    if not finite.all():
        i = int(np.argmin(finite))
        raise SimulationError(
            f"lr {base:g} x multiplier {float(multiplier[i]):g} overflows to {float(lr[i])} at batch {int(batch[i])}; "
            "use a smaller lr or multiplier"
        )


def breakpoints_in_batches(run: Run, ssr: float = 1.0) -> list[tuple[Breakpoint, int]]:
    """Each scheduler's breakpoints and the first batch that reaches it."""
    return plan(run, ssr).breakpoints


def collect(chunks: Sequence[dict[str, np.ndarray]] | Iterator[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Join streamed chunks into one dict of arrays (for short runs and tests)."""
    chunks = list(chunks)
    if not chunks:
        return {}
    return {key: np.concatenate([c[key] for c in chunks]) for key in chunks[0]}


def to_dataframe(
    rows: dict[str, np.ndarray] | Sequence[dict[str, np.ndarray]] | Iterator[dict[str, np.ndarray]],
) -> Any:
    """The rows of :func:`simulate` (its chunks, or :func:`collect`'s arrays) as a pandas
    ``DataFrame``, one row per batch, columns in :data:`COLUMNS` order (then ``lr``), each with
    its array's dtype (counters ``int64``, ``multiplier`` and ``lr`` ``float64``).

    pandas is optional: it is imported here, and only here.

    Raises:
        ImportError: pandas is not installed (the message says how to install it).
    """
    try:
        import pandas as pd
    except ImportError:
        raise ImportError(
            "to_dataframe needs pandas, which sched does not install by itself: "
            "pip install 'sched-cli[pandas]' (or pip install pandas)"
        ) from None
    columns = rows if isinstance(rows, dict) else collect(rows)
    return pd.DataFrame({key: columns[key] for key in columns}, copy=False)
