"""Running a sync on someone's behalf and telling them how it went."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from bot.operations import sync_one
from bot.services import BotServices
from ledger.db import session_scope
from ledger.models import Connection
from ledger.sync import SyncOutcome

logger = logging.getLogger(__name__)


def history_days(outcome: SyncOutcome, now: datetime) -> int | None:
    if outcome.history_start is None:
        return None
    return max(0, (now - outcome.history_start).days)


def run_sync_and_report(
    services: BotServices,
    connection_id: int,
    *,
    trigger: str,
    respond: Callable[..., object],
) -> SyncOutcome:
    now = services.clock()
    outcome = sync_one(
        services.engine,
        connection_id=connection_id,
        access=services.cursor_access(),
        box=services.box,
        now=now,
        trigger=trigger,
        options=services.sync_options,
    )
    if outcome.ok:
        days = history_days(outcome, now)
        history = f" Cursor returned {days} days of history." if days is not None else ""
        text = f":white_check_mark: Cursor {outcome.summary()}.{history}"
    else:
        text = f":x: Cursor {outcome.summary()}"
    if outcome.ok:  # alerts first: the reply says the sync, and what it raised, is done
        with session_scope(services.engine) as session:
            connection = session.get(Connection, connection_id)
            workspace_id = connection.workspace_id if connection else None
        if workspace_id is not None:
            services.evaluate_alerts(workspace_id)
    respond(text=text, response_type="ephemeral", replace_original=False)
    return outcome
