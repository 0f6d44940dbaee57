"""`/spend cursor 7d vs previous` in Slack: the comparison as a reply."""

from __future__ import annotations

from bot.services import BotServices
from bot.slack import grammar
from bot.usecases.callers import Reply
from bot.usecases.chart_replies import query_chart
from bot.usecases.comparisons import comparison_for
from digests.comparison_blocks import comparison_message
from digests.comparison_words import comparison_csv
from ledger.visibility import Viewer


def comparison_reply(
    services: BotServices,
    workspace_ref: str,
    query: grammar.SpendQuery,
    *,
    subject: str | None,
    viewer: Viewer,
) -> Reply:
    """`/spend cursor 7d vs previous`: the comparison, as the viewer may see it."""
    assert query.compare is not None
    comparison = comparison_for(
        services.engine,
        workspace_ref=workspace_ref,
        period_text=query.period,
        against=query.compare,
        by=query.by,
        now=services.clock(),
        user=subject,
        group=query.group,
        viewer=viewer,
        cache=services.reports,
    )
    chart = (
        query_chart(services, workspace_ref, query, subject=subject, viewer=viewer)
        if query.chart
        else None
    )
    csv_file = None
    if query.csv:
        now, before = comparison.current.period, comparison.previous.period
        name = f"{query.provider}-{now.start}-{now.end}-vs-{before.start}-{before.end}.csv"
        csv_file = (name, comparison_csv(comparison))
    message = comparison_message(comparison, top=query.top)
    return Reply(message, public=query.public, csv=csv_file, chart=chart)
