"""The rows a table lists: the times a user asks for (--at), placed on the run, and the breakpoints."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from sched_cli import resume as resumes
from sched_cli.render.tables import Column, Table
from sched_cli.simulator import (
    Plan,
    Selection,
    breakpoints_in_force,
    collect,
    end_of_run,
    first_batch_at,
    plan,
    simulate,
    simulate_plan,
)
from sched_cli.specs import Spec
from sched_cli.time import Time, TimeStringError

if TYPE_CHECKING:  # pragma: no cover
    pass
from sched_cli.views.charts import spec_labels
from sched_cli.views.shown import Shown, ViewError, shown, time_text

__all__ = [
    "END_OF_RUN",
    "place_times",
    "batches_at",
    "default_batches",
    "table_view",
    "scheduler_table",
    "table_batches",
    "footnotes",
]


#: The label of the row after the last batch, and its ``--at`` spellings' suffix.
END_OF_RUN = "end of run"


_PLACES = "ep, ba, sp, tok or dur"


def place_times(p: Plan, times: list[str]) -> tuple[list[tuple[int, str]], list[str]]:
    """Each time (``500ba``, ``0.5dur``, ``3ep``) as the first batch whose start has reached
    it, with its text, and a message for each time that cannot be placed.

    Batch ``p.batches`` is the end of the run (``1dur``, ``max_duration`` itself): the moment
    after the last batch, shown by :func:`~sched_cli.simulator.end_of_run`; its text gets
    ``(end of run)``. Times beyond it, in iterations or seconds (a synthetic run has one
    iteration and takes no time), or in epochs without ``dataloader_len`` are messages.
    """
    placed, errors = [], []
    for text in times:
        shown = text.strip()
        try:
            time = Time.from_timestring(shown)
        except TimeStringError:
            errors.append(_not_a_time(text))
            continue
        unit = time.unit.value
        if unit in ("iter", "sec"):
            what = "iterations (it is one iteration)" if unit == "iter" else "wall-clock time (it takes no time)"
            errors.append(f"--at {text!r}: a previewed run has no {what}; give the time in {_PLACES}")
            continue
        batch = first_batch_at(p, time)
        if batch is None:
            errors.append(
                f"--at {text!r}: cannot place {time} in this run: epochs need dataloader_len "
                "(set it in the spec or pass --dataloader-len)"
            )
        elif not 0 <= batch <= p.batches:
            errors.append(
                f"--at {text!r}: batch {batch:,} is outside the run (batches 0 to {p.batches - 1:,}, "
                f"then the end of the run, {p.max_duration}, at 1dur)"
            )
        else:
            placed.append((batch, shown if batch < p.batches else f"{shown} ({END_OF_RUN})"))
    return placed, errors


def _not_a_time(text: str) -> str:
    """``--at TEXT`` that is not a time, in the units a previewed run has (not iter or sec)."""
    return f"--at {text!r}: not a time; give a number and a unit, {_PLACES} (e.g. 500ba, 3ep, 0.5dur)"


def batches_at(p: Plan, times: list[str]) -> list[tuple[int, str]]:
    """The first batch at or after each time, with its text; the first bad one raises
    :class:`ViewError` (see :func:`place_times`)."""
    placed, errors = place_times(p, times)
    if errors:
        raise ViewError(errors[0])
    return placed


def default_batches(p: Plan, mode: str = "formula") -> list[tuple[int, str]]:
    """Eleven evenly spaced batches (0% to 100% of the run), the breakpoints in force in
    ``mode``, and the end of the run (batch ``p.batches``), in order."""
    chosen: dict[int, str] = {}
    for j, b in enumerate(np.round(np.linspace(0, p.batches - 1, 11)).astype(int)):
        chosen.setdefault(int(b), "last batch" if j == 10 else f"{b / p.batches:.0%} of run")
    for bp, batch in breakpoints_in_force(p, mode)[:40]:  # type: ignore[arg-type]
        chosen[batch] = f"{bp.label} ({bp.time})"
    chosen[p.batches] = END_OF_RUN
    return sorted(chosen.items())


def table_view(spec: Spec, at: list[str] | None = None, mode: str = "formula") -> tuple[Table, list[str]]:
    """The rows ``sched table`` shows, and a message for each ``--at`` that cannot be placed.

    One row per SSR and time (``at``, else :func:`default_batches`): ssr, time, batch, epoch,
    sample, token, multiplier and lr (with a base LR). Columns that say nothing here are marked
    hidden for people: ssr with one SSR (then in the title when not 1), epoch without
    ``dataloader_len``, sample when a batch is one sample, token when a sample is one token.
    """
    run = spec.run
    if spec.resume is not None or spec.stop_at is not None:
        return _resumed_table_view(spec, at, mode), []
    names = ["ssr", "time", "batch", "epoch", "sample", "token", "multiplier"] + (["lr"] if run.lr is not None else [])
    values: dict[str, list[Any]] = {name: [] for name in names}
    errors: list[str] = []
    for ssr in spec.ssrs:
        p = plan(run, ssr)
        wanted, bad = place_times(p, at) if at else (default_batches(p, mode), [])
        errors.extend(e for e in bad if e not in errors)
        inside = sorted({b for b, _ in wanted if b < p.batches})
        rows = collect(simulate(run, ssr, mode=mode, selection=Selection(batches=tuple(inside)))) if inside else {}
        end = end_of_run(run, ssr, mode=mode) if any(b == p.batches for b, _ in wanted) else {}
        index = {int(b): i for i, b in enumerate(rows.get("batch", []))}
        for batch, label in wanted:
            source, i = (end, 0) if batch == p.batches else (rows, index[batch])
            values["ssr"].append(float(ssr))
            values["time"].append(label)
            for name in names[2:]:
                value = source[name][i]
                values[name].append(int(value) if name in ("batch", "epoch", "sample", "token") else float(value))
    one_ssr = len(spec.ssrs) == 1
    hidden = {
        "ssr": one_ssr,
        "epoch": run.dataloader_len is None,
        "sample": run.batch_size == 1,
        "token": run.seq_len == 1,
    }
    kinds = {"ssr": "float", "time": "text", "multiplier": "float", "lr": "float"}
    title = spec_labels([spec])[0]
    if one_ssr and spec.ssrs[0] != 1.0:
        title += f" (ssr {spec.ssrs[0]:g})"
    if mode == "trainer":
        title += " (as the Trainer applies it)"
    columns = [Column(n, kinds.get(n, "int"), values[n], hide=hidden.get(n, False)) for n in names]  # type: ignore[arg-type]
    return Table(columns, title=title), errors


def _resumed_end(view: Shown, mode: str) -> dict[str, np.ndarray]:
    """The end of a resumed run (the row after AFTER's last batch), as :func:`end_of_run` gives a
    plain run's; a run stopped early has no end beyond its stop."""
    import dataclasses

    rp = view.resumed
    if rp is None or view.stopped is not None:
        raise ViewError("--at: the end of the run is past where the run stops (--stop-at); ask for an earlier time")
    segment = rp.segment if mode == "trainer" else dataclasses.replace(rp.segment, base_lr=None)
    selection = Selection(batches=(rp.after.batches,))
    return collect(simulate_plan(rp.after, mode=mode, selection=selection, segment=segment, through_end=True))  # type: ignore[arg-type]


def _resumed_table_view(spec: Spec, at: list[str] | None, mode: str) -> Table:
    """:func:`table_view` of a resumed run, or one stopped early: the rows around the resume or the
    stop, and under the table the LR across the resume (the jump) and where the run stops."""
    has_lr = spec.run.lr is not None or (spec.before is not None and spec.before.run.lr is not None)
    names = ["ssr", "time", "batch", "epoch", "sample", "token", "multiplier"] + (["lr"] if has_lr else [])
    values: dict[str, list[Any]] = {name: [] for name in names}
    notes: list[str] = []
    for ssr in spec.ssrs:
        view = shown(spec, ssr)
        # The end of each segment (a row after its last batch) is not a row of a resumed run,
        # unless asked for (--at 1dur): the end of the whole run.
        wanted = [(b, t) for b, t in table_batches(view, at, mode) if b < view.batches or at]
        inside = tuple(sorted({b for b, _ in wanted if b < view.batches}))
        rows = collect(view.rows(mode, Selection(batches=inside))) if inside else {"batch": []}
        end = _resumed_end(view, mode) if any(b == view.batches for b, _ in wanted) else {}
        notes.extend((f"ssr {ssr:g}: " if len(spec.ssrs) > 1 else "") + n for n in footnotes(view, mode))
        index = {int(b): i for i, b in enumerate(rows["batch"])}
        for batch, label in wanted:
            rows_of, i = (end, 0) if batch == view.batches else (rows, index[batch])
            values["ssr"].append(float(ssr))
            values["time"].append(label)
            for name in names[2:]:
                value = rows_of[name][i]
                values[name].append(int(value) if name in ("batch", "epoch", "sample", "token") else float(value))
    kinds = {"ssr": "float", "time": "text", "multiplier": "float", "lr": "float"}
    title = spec_labels([spec])[0] + (" (as the Trainer applies it)" if mode == "trainer" else "")
    columns = [Column(n, kinds.get(n, "int"), values[n], hide=n == "ssr" and len(spec.ssrs) == 1) for n in names]  # type: ignore[arg-type]
    return Table(columns, title=title, caption="\n".join(notes))


def scheduler_table(stacked: bool = False, match: str | None = None) -> Table:
    """``sched list``: every built-in scheduler, its aliases and its parameters with defaults.

    ``stacked`` puts the aliases under each name (one per line) instead of in a column of
    their own, for terminals too narrow for three columns of names that must stay whole.
    ``match``: only the schedulers whose name, an alias or a parameter contains it (any case).
    """
    from sched_cli.registry import ENTRIES as ALL

    text = (match or "").lower()
    ENTRIES = [  # noqa: N806 - the registry's entries, filtered
        e for e in ALL if text in " ".join([e.name, *e.aliases, *(p.name for p in e.params)]).lower()
    ]

    names = [e.name for e in ENTRIES]
    aliases = [", ".join(e.aliases) for e in ENTRIES]
    params = [", ".join(p.name if p.required else f"{p.name}={p.default!r}" for p in e.params) for e in ENTRIES]
    if stacked:
        first = Column(
            "scheduler (aliases)",
            "text",
            names,
            shown=["\n".join([e.name, *(f"  {a}" for a in e.aliases)]) for e in ENTRIES],
            copyable=True,
        )
    else:
        first = Column("scheduler", "text", names, copyable=True)
    return Table(
        [
            first,
            Column(
                "aliases", "text", aliases, shown=["\n".join(e.aliases) for e in ENTRIES], hide=stacked, copyable=True
            ),
            Column("parameters (default)", "text", params),
        ],
        title="built-in schedulers (use any name in a spec's `name:`)",
    )


def table_batches(view: Shown, times: list[str] | None, mode: str) -> list[tuple[int, str]]:
    """The batches ``sched table`` lists for a view: the ``--at`` times, else the default ones,
    plus (by default) the batches around a resume and the last batch before a stop."""
    rp = view.resumed
    if rp is None:
        wanted = batches_at(view.plan, times) if times else default_batches(view.plan)
        if view.stopped is not None and not times:
            wanted = [(b, t) for b, t in wanted if b != view.stopped - 1] + [(view.stopped - 1, "stop (final)")]
        return sorted(wanted)
    if times:
        out = []
        for text in times:
            try:
                time = Time.from_timestring(text.strip())
            except TimeStringError:
                raise ViewError(_not_a_time(text)) from None
            batch = resumes.batch_reaching(rp, time)
            if batch is None:
                raise ViewError(f"--at {text!r}: cannot place {time} in this run (epochs need dataloader_len)")
            if not 0 <= batch <= rp.batches or (batch == rp.batches and not rp.after.batches):
                raise ViewError(
                    f"--at {text!r}: batch {batch:,} is outside the run (batches 0 to {rp.batches - 1:,}, "
                    f"then the end of the run, at 1dur)"
                )
            out.append((batch, text.strip() + (f" ({END_OF_RUN})" if batch == rp.batches else "")))
        return out
    k = rp.checkpoint
    chosen: dict[int, str] = {}
    for batch, label in default_batches(rp.before):
        chosen[batch] = f"{label} (before)"
    if rp.after.batches:
        for j, label in default_batches(rp.after):
            chosen[k + j] = label.replace("of run", "of the rest")
    chosen[k - 1] = "last before resume"
    if rp.after.batches:
        chosen[k] = "first after resume"
    row = resumes.first_set_row(rp, mode)  # type: ignore[arg-type]
    if row is not None and row > 0:
        chosen[k + row] = "first LR set by AFTER"
    if view.stopped is not None:
        chosen[view.stopped - 1] = "stop (final)"
    return sorted(chosen.items())


def footnotes(view: Shown, mode: str, rows: dict[str, np.ndarray] | None = None) -> list[str]:
    """Lines ``sched table`` prints under the table: the LR across a resume, where a run stops."""
    out = []
    rp = view.resumed
    if rp is not None:
        j = resumes.jump(rp, mode)  # type: ignore[arg-type]
        ts = rp.restored
        where = (
            f"resume at {time_text(view.spec.resume_at)} = batch {rp.checkpoint:,} (restored epoch {int(ts.epoch)}, "
            f"batch_in_epoch {int(ts.batch_in_epoch)}, sample {int(ts.sample):,}, token {int(ts.token):,})"
        )
        if j.after is None:
            out.append(f"{where}: {j.what} {j.before:.6g} before it; AFTER's schedulers never set the LR")
        else:
            ratio = j.ratio
            out.append(
                f"{where}: {j.what} {j.before:.6g} just before, {j.after:.6g} at batch {rp.checkpoint + j.after_row:,}"
                + ("" if ratio is None else f", a jump of x{ratio:.4g}")
            )
        out.extend(rp.warnings)
    if view.stopped is not None:
        last = view.stopped - 1
        final = collect(view.rows(mode, Selection(batches=(last,))))
        what = "lr" if "lr" in final else "multiplier"
        out.append(
            f"stopped at {time_text(view.spec.stop_at)}: batch {last:,} is the last trained, "
            f"at {what} {float(final[what][0]):.6g} ({view.stopped:,} batches)"
        )
    return out
