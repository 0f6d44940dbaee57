"""The chart a `/spend … chart` query asks for, built for its asker."""

from __future__ import annotations

from bot.services import BotServices
from bot.slack import grammar
from bot.usecases.callers import ChartFile
from bot.usecases.charts import chart_for
from ledger.visibility import Viewer


def query_chart(
    services: BotServices,
    workspace_ref: str,
    query: grammar.SpendQuery,
    *,
    subject: str | None,
    viewer: Viewer,
) -> ChartFile:
    """The chart a `/spend … chart` query asks for."""
    return chart_for(
        services.engine,
        workspace_ref=workspace_ref,
        period_text=query.period,
        by=query.by,
        now=services.clock(),
        user=subject,
        viewer=viewer,
        cache=services.reports,
    )[1]
