"""What the commands show, computed from specs: chart curves, the rows a table lists, summaries
and the HTML report's content.

This sits between the simulator and the renderers: it runs specs through the simulator and hands
the renderers arrays and labels, so that the CLI only parses options and prints. By what it holds:
:mod:`.shown` (a spec at one SSR, plain, stopped or resumed), :mod:`.charts`, :mod:`.tables`,
:mod:`.summaries` and :mod:`.report`; beside them, ``views_export`` (what ``export`` writes) and
``views_check`` (what ``check`` shows).
"""

from __future__ import annotations

from sched_cli.views.charts import chart, chart_title, curve_labels, several_ssrs, spec_labels, x_values
from sched_cli.views.report import MAX_REPORT_POINTS, report, summary_table
from sched_cli.views.shown import AXIS_NAMES, ProgressFactory, Shown, ViewError, has_custom_schedulers, shown, time_text
from sched_cli.views.summaries import SUMMARY_COLUMNS, resume_notes, run_facts, summary, summary_view
from sched_cli.views.tables import (
    END_OF_RUN,
    batches_at,
    default_batches,
    footnotes,
    place_times,
    scheduler_table,
    table_batches,
    table_view,
)

__all__ = [
    "AXIS_NAMES",
    "END_OF_RUN",
    "MAX_REPORT_POINTS",
    "SUMMARY_COLUMNS",
    "ProgressFactory",
    "Shown",
    "ViewError",
    "batches_at",
    "chart",
    "chart_title",
    "curve_labels",
    "default_batches",
    "footnotes",
    "has_custom_schedulers",
    "place_times",
    "report",
    "resume_notes",
    "run_facts",
    "scheduler_table",
    "several_ssrs",
    "shown",
    "spec_labels",
    "summary",
    "summary_table",
    "summary_view",
    "table_batches",
    "table_view",
    "time_text",
    "x_values",
]
