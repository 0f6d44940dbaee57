"""`/spend cursor seats`, `/spend cursor adoption` and the seat price, answered for Slack."""

from __future__ import annotations

from decimal import Decimal

from slack_sdk import WebClient

from bot.services import BotServices
from bot.slack import grammar
from bot.usecases.callers import (
    ADMIN_ONLY,
    Caller,
    Reply,
    is_admin,
    text_reply,
    viewer_for,
    workspace_for,
)
from bot.usecases.seat_reports import adoption_for, seats_for
from digests.adoption_words import GROUPS_UNAVAILABLE, adoption_message
from digests.format import dollars
from digests.seat_words import PRICE_HINT, seat_message
from ledger.db import session_scope
from ledger.models import Workspace
from ledger.seat_settings import seat_price, set_seat_price


def handle_seats(
    services: BotServices, client: WebClient, caller: Caller, query: grammar.SeatsQuery
) -> Reply:
    if not is_admin(services, client, caller):
        return text_reply(ADMIN_ONLY.format(what="see seats and their cost"))
    workspace = workspace_for(services, caller)
    report = seats_for(
        services.engine,
        workspace_ref=workspace.slack_team_id,
        period_text=query.period,
        now=services.clock(),
        idle_days=query.idle_days,
    )
    return Reply(seat_message(report))


def handle_adoption(
    services: BotServices, client: WebClient, caller: Caller, query: grammar.AdoptionQuery
) -> Reply:
    if query.by == "group":
        return text_reply(GROUPS_UNAVAILABLE)
    workspace = workspace_for(services, caller)
    viewer = viewer_for(services, client, caller, workspace)
    report = adoption_for(
        services.engine,
        workspace_ref=workspace.slack_team_id,
        period_text=query.period,
        now=services.clock(),
    )
    return Reply(adoption_message(report, viewer=viewer))


def handle_seat_price(
    services: BotServices, command: grammar.SetSeatPrice, caller: Caller
) -> Reply:
    workspace = workspace_for(services, caller)
    with session_scope(services.engine) as session:
        stored = session.get(Workspace, workspace.id)
        assert stored is not None
        set_seat_price(session, stored, command.cents, by=caller.user_id, now=services.clock())
    if command.cents is None:
        return text_reply(f"The seat price is cleared. {PRICE_HINT}")
    return text_reply(
        f"A Cursor seat now costs {dollars_of(command.cents)} a month in seat reports "
        "(`/spend cursor seats`)."
    )


def dollars_of(cents: int) -> str:
    return dollars(Decimal(cents))


def seat_price_line(services: BotServices, workspace: Workspace) -> str:
    """The settings line for the seat price."""
    with session_scope(services.engine) as session:
        price = seat_price(session, workspace)
    shown = "not set" if price is None else f"{dollars_of(price)} a month"
    return f"*Seat price:* {shown} (`/spend settings seat-price $40`, see your Cursor invoice)"
