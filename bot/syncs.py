"""A sync on the bot's behalf (scheduled, asked for in Slack, before a digest), one way."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.operations import sync_one
from bot.services import BotServices
from ledger.models import SyncTrigger
from ledger.sync import SyncOutcome


def sync_for_bot(
    services: BotServices,
    connection_id: int,
    *,
    trigger: SyncTrigger,
    now: datetime | None = None,
    on_started: Callable[[], None] | None = None,
) -> SyncOutcome:
    """Sync with the bot's Cursor access, options and stop signal (at ``now``, by default
    the services' clock).

    Raises ``ledger.lease.SyncAlreadyRunning`` while another sync holds the connection.
    """
    return sync_one(
        services.engine,
        connection_id=connection_id,
        access=services.cursor_access(),
        box=services.box,
        now=now or services.clock(),
        trigger=trigger,
        options=services.sync_options,
        stop=services.stopping,
        on_started=on_started,
    )
