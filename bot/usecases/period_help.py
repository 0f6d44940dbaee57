"""`/spend help periods` for the asker's workspace: its timezone's today, its billing cycle
(calendar months until Cursor is connected and has reported one)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.services import BotServices
from bot.usecases.callers import Caller, Reply, text_reply, workspace_for
from digests.period_help import periods_help
from ledger.accounts import find_connection
from ledger.db import session_scope
from ledger.periods import calendar_cycle
from ledger.queries import Scope, current_cycle


def periods_help_reply(services: BotServices, caller: Caller) -> Reply:
    workspace = workspace_for(services, caller)
    today = services.clock().astimezone(ZoneInfo(workspace.timezone)).date()
    with session_scope(services.engine) as session:
        connection = find_connection(session, workspace, "cursor", required=False)
        cycle = (
            current_cycle(session, Scope(workspace=workspace, connection=connection), today)
            if connection is not None
            else calendar_cycle(today)
        )
    return text_reply(periods_help(today, cycle, workspace.timezone))
