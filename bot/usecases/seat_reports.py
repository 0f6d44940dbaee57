"""Seats and adoption reports from the ledger, for Slack, App Home and the CLI (no Slack
imports: a `stackspend report` waits for nothing else)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from ledger.accounts import find_workspace
from ledger.adoption import AdoptionReport, adoption_report
from ledger.db import session_scope
from ledger.periods import parse_period
from ledger.queries import current_cycle, scope_for
from ledger.seat_settings import seat_price
from ledger.seats import DEFAULT_IDLE_DAYS, SeatReport, seat_report


def seats_for(
    engine: Engine,
    *,
    workspace_ref: str,
    period_text: str,
    now: datetime,
    idle_days: int = DEFAULT_IDLE_DAYS,
    price_cents: int | None = None,
) -> SeatReport:
    """The seats report; ``price_cents`` overrides the workspace's stored seat price."""
    with session_scope(engine) as session:
        workspace = find_workspace(session, workspace_ref)
        scope = scope_for(session, workspace)
        today = now.astimezone(scope.tz).date()
        cycle = current_cycle(session, scope, today)
        period = parse_period(period_text, today=today, cycle=cycle)
        price = price_cents if price_cents is not None else seat_price(session, workspace)
        return seat_report(
            session, scope, period=period, cycle=cycle, today=today, price_cents=price,
            idle_days=idle_days,
        )  # fmt: skip


def adoption_for(
    engine: Engine, *, workspace_ref: str, period_text: str, now: datetime
) -> AdoptionReport:
    with session_scope(engine) as session:
        workspace = find_workspace(session, workspace_ref)
        scope = scope_for(session, workspace)
        today = now.astimezone(scope.tz).date()
        period = parse_period(period_text, today=today, cycle=current_cycle(session, scope, today))
        return adoption_report(session, scope, period=period)
