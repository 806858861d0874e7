"""Step a synthetic run through its batches and compute the multiplier each batch trains with.

A :class:`~sched_cli.run.Run` (:mod:`sched_cli.run`) is a training run as a Composer Trainer sees
it: ``max_duration``, batches per epoch, samples per batch, tokens per sample, how often schedulers
step, an optional base LR, and the schedulers. :func:`simulate` turns a run and an SSR into rows,
one per batch trained (or a chosen subset of them), streamed in chunks of numpy arrays so memory
stays flat however long the run. Two modes:

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

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

from sched_cli.evaluation import Evaluator, NegativeMultiplierWarning, check_lr
from sched_cli.run import (
    TRAINERS,
    Run,
    SimulationError,
    Timeline,
    hf_scaled_length,
    require_count,
    scheduler_steps,
)
from sched_cli.schedulers.base import (
    Breakpoint,
    BuiltinScheduler,
    RunShape,
)
from sched_cli.time import Time, Timestamp, TimeUnit

__all__ = [
    "TRAINERS",
    "NegativeMultiplierWarning",
    "hf_scaled_length",
    "Run",
    "Plan",
    "Timeline",
    "Selection",
    "Segment",
    "SimulationError",
    "simulate_plan",
    "simulate",
    "scheduler_steps",
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
                require_count(name, value)

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
    evaluators = [Evaluator(s, p) for s in run.schedulers]
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
            check_lr(out["lr"], base_lr, multiplier, rows.batch)
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
    if run.skipped_steps:
        # The schedulers have stepped fewer times than the updates trained: each row is evaluated
        # where a run without skips would be after that many steps.
        at, fresh = _evaluation_times(replace(run, skipped_steps=()), rows, mode, first)
        return Timeline.at_batch_starts(run, scheduler_steps(run, at.batch)), fresh
    batch = rows.batch
    dl = run.dataloader_len
    if run.trainer == "timm":
        mode = "formula"  # timm's schedulers compute what train.py applies, built-in LR included
    if run.trainer in ("mmengine", "megatron"):  # their schedulers hold each iteration's LR: the formula replays it
        return rows, np.zeros(len(batch), dtype=bool)
    if run.step_every == "batch":
        # Hugging Face: its LambdaLR is built at factor(0) and stepped after each optimizer
        # update, so update k (a batch of the run) trains with factor(k): the formula itself.
        # DeepSpeed's engine steps its scheduler the same way.
        if mode == "formula" or run.trainer in ("hf", "deepspeed"):
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


def _lr_column(p: Plan, in_force: list[Evaluator], at: Timeline, multiplier: np.ndarray) -> np.ndarray:
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


def _initial_alpha(run: Run, ssr: float, in_force: list[Evaluator], shadowed: Sequence[Evaluator] = ()) -> float:
    """alpha(0) as the Trainer's LambdaLR computes it on construction, before SSR scaling."""
    state = run.state(run.max_duration, Timestamp())
    for evaluator in shadowed:  # built (and so evaluated) first, in order
        evaluator.scalar(state, ssr)
    alpha = 1.0
    for evaluator in in_force:
        alpha *= evaluator.scalar(state, ssr)
    return alpha


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
