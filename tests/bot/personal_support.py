"""Helpers for personal-line tests: a sender on the harness, its DMs, local instants."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.testing.fake_slack import Call
from bot.usecases.personal_delivery import PersonalSender
from ledger.accounts import find_connection, find_workspace
from ledger.db import session_scope
from ledger.rollups import ROLLUPS
from tests.bot.harness import Harness


def personal_sender(bot: Harness, *, presync: bool = False) -> PersonalSender:
    client = bot.slack.client()
    return PersonalSender(bot.services, lambda _workspace: client, presync=presync)


def dms(bot: Harness, user: str | None = None) -> list[Call]:
    """Personal lines posted (to ``user``'s DM, or to anyone's) that Slack accepted."""
    return [
        call
        for call in bot.slack.calls_to("chat.postMessage")
        if (call.json("metadata") or {})
        .get("event_payload", {})
        .get("key", "")
        .startswith("personal:")
        and (user is None or call.params.get("channel") == user)
        and isinstance(call.response, dict)
        and call.response.get("ok")
    ]


def line_key_of(call: Call) -> str:
    return str(call.json("metadata")["event_payload"]["key"])


def local(zone: str, day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), ZoneInfo(zone)).astimezone(ZoneInfo("UTC"))


def ledger_cents(bot: Harness, email: str, first: date, last: date, team: str = "T1") -> Decimal:
    """The ledger's own total for one person over local days ``first``..``last``."""
    with session_scope(bot.engine) as session:
        connection = find_connection(session, find_workspace(session, team))
        assert connection is not None
        total = session.execute(
            select(func.sum(ROLLUPS.c.charged_cents)).where(
                ROLLUPS.c.connection_id == connection.id,
                ROLLUPS.c.user_email == email.lower(),
                ROLLUPS.c.day >= first,
                ROLLUPS.c.day <= last,
            )
        ).scalar()
    return Decimal(total or 0)
