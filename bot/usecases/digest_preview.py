"""Digests as data, read for whoever asks: the scheduler's plan, a preview, a manual send."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from bot.usecases.seat_digest import with_seats
from ledger import schedules
from ledger.accounts import find_workspace
from ledger.db import session_scope
from ledger.digest_data import DigestInputs, digest_inputs
from ledger.models import DigestSchedule, Workspace
from ledger.queries import scope_for


def enabled_digests(engine: Engine) -> list[tuple[DigestSchedule, str]]:
    """Every enabled schedule with its workspace's reporting timezone."""
    with session_scope(engine) as session:
        return [
            (schedule, workspace.timezone) for schedule, workspace in schedules.all_enabled(session)
        ]


def digest_inputs_for(
    engine: Engine, workspace_ref: str, *, now: datetime, top: int = 5
) -> DigestInputs:
    """The figures of today's digest (in the workspace's timezone) for a workspace."""
    with session_scope(engine) as session:
        scope = scope_for(session, find_workspace(session, workspace_ref))
        today = now.astimezone(scope.tz).date()
        return with_seats(
            session, scope, digest_inputs(session, scope, today=today, top=top, now=now)
        )


def schedules_of(
    engine: Engine, workspace_ref: str, schedule_id: int | None = None
) -> tuple[Workspace, list[DigestSchedule]]:
    """A workspace's digest schedules (only ``schedule_id``, when given)."""
    with session_scope(engine) as session:
        workspace = find_workspace(session, workspace_ref)
        found = schedules.list_schedules(session, workspace)
    return workspace, [s for s in found if schedule_id in (None, s.id)]
