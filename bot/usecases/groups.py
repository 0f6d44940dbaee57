"""`stackspend groups`: a billing cycle's groups as Cursor lists them now, next to the
ledger's totals for them. The key is the one stored for the workspace (never an argument)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from connectors.errors import PlanError
from connectors.group_records import UNASSIGNED_ID, UNASSIGNED_NAME
from ledger.accounts import find_connection, find_workspace
from ledger.db import session_scope
from ledger.errors import LedgerError
from ledger.group_errors import GroupsUnavailable, Unavailable
from ledger.group_report import by_group, directory, require_groups
from ledger.periods import Period
from ledger.queries import scope_for
from ledger.secrets import SecretBox

if TYPE_CHECKING:
    from connectors.cursor.access import CursorAccess


@dataclass(frozen=True)
class GroupLine:
    group_id: str
    name: str
    members: int
    former_members: int
    cursor_cents: Decimal
    #: The ledger's total for the group over the cycle's local days so far (None: unknown).
    ledger_cents: Decimal | None


@dataclass(frozen=True)
class GroupListing:
    cycle_start: datetime
    cycle_end: datetime
    groups: list[GroupLine]


def list_groups(
    engine: Engine,
    *,
    access: CursorAccess,
    box: SecretBox,
    workspace_ref: str,
    day: date | None,
    now: datetime,
) -> GroupListing:
    """Read the groups of the cycle containing ``day`` (default: today, UTC) from Cursor."""
    with session_scope(engine) as session:
        workspace = find_workspace(session, workspace_ref)
        connection = find_connection(session, workspace)
        assert connection is not None
        key = box.decrypt(connection.encrypted_key)
    try:
        cycle = access.source(key).cycle_groups(day or now.date())
    except PlanError:
        raise GroupsUnavailable(Unavailable.PLAN) from None
    finally:
        access.close()
    ledger = _ledger_cents(engine, workspace_ref, cycle.cycle_start, cycle.cycle_end, now)
    lines = [
        GroupLine(
            group.group_id,
            group.name,
            sum(1 for s in group.stays if s.left_at is None or s.left_at >= cycle.cycle_end),
            sum(1 for s in group.stays if s.left_at is not None and s.left_at < cycle.cycle_end),
            group.spend_cents,
            None if ledger is None else ledger.get(group.group_id, Decimal(0)),
        )
        for group in cycle.groups
    ]
    lines.sort(key=lambda line: (-line.cursor_cents, line.name))
    lines.append(
        GroupLine(
            UNASSIGNED_ID,
            UNASSIGNED_NAME,
            0,
            0,
            cycle.unassigned_cents,
            None if ledger is None else ledger.get(UNASSIGNED_ID, Decimal(0)),
        )
    )
    return GroupListing(cycle.cycle_start, cycle.cycle_end, lines)


def _ledger_cents(
    engine: Engine, workspace_ref: str, start: datetime, end: datetime, now: datetime
) -> dict[str, Decimal] | None:
    """The ledger's group totals over the cycle's local days up to today, if it has groups."""
    with session_scope(engine) as session:
        workspace = find_workspace(session, workspace_ref)
        scope = scope_for(session, workspace)
        try:
            require_groups(session, scope.connection_id)
        except LedgerError:
            return None
        tz = scope.tz
        today = now.astimezone(tz).date()
        first = start.astimezone(tz).date()
        last = min(today, (end.astimezone(tz) - timedelta(microseconds=1)).date())
        if last < first:
            return {}
        period = Period(first, last, "cycle")
        names = directory(session, scope.connection_id)
        return by_group(session, scope, period, names, today)[2]
