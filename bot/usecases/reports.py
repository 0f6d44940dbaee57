"""Spend reports for Slack, App Home and the CLI, answered from the rollups (and cached)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from bot.usecases.report_cache import ReportCache
from ledger.accounts import find_workspace
from ledger.db import session_scope
from ledger.group_reports import build_group_report
from ledger.periods import parse_period
from ledger.queries import Breakdown, Report, build_report, current_cycle, freshness, scope_for


def report_for(
    engine: Engine,
    *,
    workspace_ref: str,
    period_text: str,
    by: str,
    now: datetime,
    user: str | None = None,
    provider: str = "cursor",
    cache: ReportCache | None = None,
    group: str | None = None,
) -> Report:
    """Parse the request, then answer it from the rollups of the workspace's connection
    (by billing group, or for one group: ``ledger.group_reports``)."""
    breakdown = Breakdown.parse(by)
    with session_scope(engine) as session:
        workspace = find_workspace(session, workspace_ref)
        scope = scope_for(session, workspace, provider)
        today = now.astimezone(scope.tz).date()
        cycle = current_cycle(session, scope, today)
        period = parse_period(period_text, today=today, cycle=cycle)

        def build() -> Report:
            if group is not None or breakdown is Breakdown.GROUP:
                return build_group_report(
                    session,
                    scope=scope,
                    period=period,
                    cycle=cycle,
                    by=breakdown,
                    group=group,
                    today=today,
                )
            return build_report(
                session,
                scope=scope,
                period=period,
                by=breakdown,
                cycle=cycle,
                user=user,
                today=today,
            )

        if cache is None:
            return build()
        as_of, _ = freshness(session, scope)
        key = (
            scope.connection_id,
            workspace.timezone,
            period,
            breakdown,
            (user or "").lower(),
            cycle,
            group,
            as_of,
            scope.connection.last_success_at,
        )
        return cache.get_or_build(key, build)
