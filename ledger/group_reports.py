"""Reports by billing group: every group's total, or one group's by user or model.

``/spend cursor by group`` and ``/spend cursor group "Platform" by model`` (and the CLI's
``report --by group`` / ``--group``) end here. The answer is an ordinary ``Report`` whose
``groups`` facts name the group and list the groups whose total differs from Cursor's own
``spendCents`` for the billing cycle (``ledger.group_report.reconcile``).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlmodel import Session

from ledger.group_facts import GroupFacts, Reconciled
from ledger.group_ranges import CYCLES
from ledger.group_report import (
    Directory,
    by_group,
    directory,
    one_group,
    require_groups,
)
from ledger.import_join import connection_history
from ledger.periods import Cycle, Period
from ledger.queries import Breakdown, Report, Scope, freshness


def build_group_report(
    session: Session,
    *,
    scope: Scope,
    period: Period,
    cycle: Cycle,
    by: Breakdown,
    group: str | None = None,
    today: date | None = None,
) -> Report:
    """``group`` None: one row per group (``by`` is ``GROUP``); else that group's rows by
    ``by`` (user or model). Raises ``GroupsUnavailable`` or ``UnknownGroup``."""
    state = require_groups(session, scope.connection_id)
    names = directory(session, scope.connection_id)
    if group is None:
        summary, rows, cents = by_group(session, scope, period, names, today)
        facts = GroupFacts(
            reconciliation=reconcile(session, scope, period, cents, names),
            read_at=state.synced_at,
        )
        by = Breakdown.GROUP
    else:
        group_id, name = names.find(group)
        if by not in (Breakdown.USER, Breakdown.MODEL):
            by = Breakdown.USER
        summary, rows = one_group(session, scope, period, group_id, by, today)
        mine = {group_id: summary.cents}
        facts = GroupFacts(
            group_id=group_id,
            group_name=name,
            reconciliation=reconcile(session, scope, period, mine, names, only=group_id),
            read_at=state.synced_at,
        )
    as_of, history_start = freshness(session, scope)
    return Report(
        provider=scope.connection.provider,
        workspace=scope.workspace.slack_team_id,
        timezone=scope.workspace.timezone,
        period=period,
        by=by,
        user=None,
        as_of=as_of,
        history_start=history_start,
        cycle=cycle,
        totals=summary,
        rows=rows,
        history=connection_history(session, scope.connection_id, history_start),
        groups=facts,
    )


def reconcile(
    session: Session,
    scope: Scope,
    period: Period,
    ledger_cents: dict[str, Decimal],
    names: Directory,
    *,
    only: str | None = None,
) -> list[Reconciled]:
    """Groups whose total differs from Cursor's by a cent or more, when the period starts
    on a billing cycle Cursor's groups were read for; empty otherwise."""
    tz = scope.tz
    query = select(CYCLES.c.cycle_start, CYCLES.c.group_id, CYCLES.c.spend_cents, CYCLES.c.read_at)
    midnight = datetime.combine(period.start, time(), tz)  # a cycle starting that local day
    query = query.where(
        CYCLES.c.connection_id == scope.connection_id,
        CYCLES.c.cycle_start >= midnight,
        CYCLES.c.cycle_start < midnight + timedelta(days=1),
    )
    differing: list[Reconciled] = []
    for cycle_start, group_id, cursor_cents, read_at in session.connection().execute(query):
        if cycle_start.astimezone(tz).date() != period.start or only not in (None, group_id):
            continue
        ours = ledger_cents.get(group_id, Decimal(0))
        if abs(ours - Decimal(cursor_cents)) >= 1:
            differing.append(Reconciled(names.label(group_id), ours, cursor_cents, read_at))
    differing.sort(key=lambda item: -abs(item.difference_cents))
    return differing
