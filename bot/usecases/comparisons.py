"""`… vs previous`, `… vs last cycle`: two independent reports, compared.

The earlier period is read like any other: "previous" is ``ledger.periods.previous_period``
(the same days of the month, quarter, year or week before for calendar periods, else as
many days just before); anything else is a period phrase (`last cycle`, `2026-q3`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from bot.usecases.report_cache import ReportCache
from bot.usecases.reports import report_for
from ledger.comparisons import Comparison, compare
from ledger.period_spans import previous_period
from ledger.queries import Report, Row
from ledger.visibility import Viewer, visible_person_rows


def _visible(report: Report, viewer: Viewer | None) -> list[Row]:
    """The rows ``viewer`` may see (as ``digests.slack_reports.visible_rows`` has them)."""
    if viewer is not None and report.by.value == "user" and report.user is None:
        return visible_person_rows(viewer, report.rows)[0]
    return list(report.rows)


def earlier_period_text(current: Report, against: str) -> str:
    """The period text of what ``current`` is compared with."""
    if against == "previous":
        before = previous_period(current.period)
        return f"{before.start.isoformat()}..{before.end.isoformat()}"
    return against


def comparison_for(
    engine: Engine,
    *,
    workspace_ref: str,
    period_text: str,
    against: str,
    by: str,
    now: datetime,
    user: str | None = None,
    group: str | None = None,
    viewer: Viewer | None = None,
    cache: ReportCache | None = None,
) -> Comparison:
    """Both reports (each as a report of its own would be, of one billing ``group`` if
    given), then their difference; ``viewer`` (None: every row) limits the rows compared as
    it limits a report's rows."""

    def report(text: str) -> Report:
        return report_for(
            engine,
            workspace_ref=workspace_ref,
            period_text=text,
            by=by,
            now=now,
            user=user,
            group=group,
            cache=cache,
        )

    current = report(period_text)
    previous = report(earlier_period_text(current, against))
    rows = (_visible(current, viewer), _visible(previous, viewer))
    return compare(current, previous, against=against, rows=rows)
