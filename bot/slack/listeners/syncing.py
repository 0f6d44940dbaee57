"""Running a sync on someone's behalf and telling them how it went."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from bot.services import BotServices
from bot.usecases.syncs import sync_for_bot, timezone_of, workspace_of
from digests.format import escape, local_time
from ledger.errors import SyncAlreadyRunning
from ledger.models import SyncTrigger
from ledger.sync import SyncOutcome

logger = logging.getLogger(__name__)


def history_days(outcome: SyncOutcome, now: datetime) -> int | None:
    if outcome.history_start is None:
        return None
    return max(0, (now - outcome.history_start).days)


def already_running_text(services: BotServices, busy: SyncAlreadyRunning) -> str:
    """`A sync has been running since 14:05 …`, in the workspace's reporting timezone."""
    tz = timezone_of(services.engine, busy.connection_id)
    return (
        f":hourglass_flowing_sand: A sync has been running since {local_time(busy.since, tz)} "
        f"({busy.trigger}). Its result will show in `/spend cursor status`; "
        "there is no need to start another."
    )


def outcome_text(outcome: SyncOutcome, now: datetime) -> str:
    if outcome.ok:
        days = history_days(outcome, now)
        history = f" Cursor returned {days} days of history." if days is not None else ""
        return f":white_check_mark: Cursor {outcome.summary()}.{history}"
    return f":x: Cursor {escape(outcome.summary())}"  # the error may quote Cursor's words


def run_sync_and_report(
    services: BotServices,
    connection_id: int,
    *,
    trigger: SyncTrigger,
    respond: Callable[..., object],
) -> SyncOutcome | None:
    """Sync now and tell the person; None (and they are told why) if a sync already runs."""
    now = services.clock()
    try:
        outcome = sync_for_bot(
            services, connection_id, trigger=trigger, now=now, on_started=services.jobs.reconcile
        )
    except SyncAlreadyRunning as busy:
        services.jobs.reconcile()
        respond(
            text=already_running_text(services, busy),
            response_type="ephemeral",
            replace_original=False,
        )
        return None
    if outcome.ok:  # alerts first: the reply says the sync, and what it raised, is done
        workspace_id = workspace_of(services.engine, connection_id)
        if workspace_id is not None:
            services.evaluate_alerts(workspace_id)
    respond(text=outcome_text(outcome, now), response_type="ephemeral", replace_original=False)
    return outcome
