"""Charts on demand: `/spend cursor 30d chart` and `stackspend report cursor --chart PATH`.

The report is built as any report is; the chart reads the same rollups per day and is
drawn by ``digests.chart`` (as the digest's is). Imports matplotlib: import this module
only where a chart is asked for.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from bot.usecases.callers import ChartFile
from bot.usecases.report_cache import ReportCache
from bot.usecases.reports import report_for
from digests.chart import render_stacked
from digests.period_chart import period_drawing
from ledger.accounts import find_workspace
from ledger.chart_data import daily_cents
from ledger.db import session_scope
from ledger.errors import PeriodError, PeriodProblem
from ledger.queries import Report, scope_for
from ledger.visibility import Viewer

#: The longest period a chart draws, a bar a day (two years, one of them leap).
MAX_CHART_DAYS = 731


def chart_for(
    engine: Engine,
    *,
    workspace_ref: str,
    period_text: str,
    by: str,
    now: datetime,
    user: str | None = None,
    viewer: Viewer | None = None,
    cache: ReportCache | None = None,
) -> tuple[Report, ChartFile]:
    """The report and its chart, as ``viewer`` (None: everyone) may see them."""
    report = report_for(
        engine, workspace_ref=workspace_ref, period_text=period_text, by=by, now=now,
        user=user, cache=cache,
    )  # fmt: skip
    if report.period.days > MAX_CHART_DAYS:  # a bar a day: centuries would take minutes
        raise PeriodError(
            PeriodProblem.CHART_TOO_LONG, report.period.label, max_days=MAX_CHART_DAYS
        )
    with session_scope(engine) as session:
        scope = scope_for(session, find_workspace(session, workspace_ref), report.provider)
        daily = daily_cents(session, scope, report.period, report.by.value, report.user)
    drawing = period_drawing(report, daily, viewer)
    period = report.period
    name = f"{report.provider}-{period.start}-{period.end}-by-{report.by.value}.png"
    return report, ChartFile(name, render_stacked(drawing), drawing.title, drawing.description)
