"""The App Home tab: your spend this cycle, the team's, the budgets you may see, connection
health, quick buttons. What a person may see is ``ledger.visibility``'s rule."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient

from bot.services import BotServices
from bot.slack.grammar import HOME_EXAMPLES
from bot.usecases.callers import Caller
from bot.usecases.home import CycleSpend, home_facts
from digests.blocks import context, divider, header, section
from digests.errors import error_text
from digests.format import dollars, escape, local_time
from digests.freshness_words import data_as_of
from digests.seat_words import seat_card
from digests.slack_reports import quick_actions
from ledger.errors import LedgerError
from ledger.models import Connection, Workspace

logger = logging.getLogger(__name__)

NOT_CONNECTED = "Cursor is not connected yet. An admin can connect it with `/spend cursor connect`."


def home_view(services: BotServices, client: WebClient, caller: Caller) -> dict[str, Any]:
    facts = home_facts(services, client, caller)
    blocks = [header("StackSpend: AI coding spend")]
    if facts.connection is None or facts.spend is None:
        blocks.append(section(NOT_CONNECTED))
        return {"type": "home", "blocks": blocks}
    blocks.append(section(spend_text(facts.spend)))
    if facts.seats is not None:
        blocks.append(section(seat_card(facts.seats)))
    blocks += [
        context(
            data_as_of(facts.spend.team.as_of, facts.workspace.timezone, facts.spend.team.today)
            + " · "
            + connection_text(facts.connection, facts.workspace)
        ),
        divider(),
        quick_actions(),
        context(HOME_EXAMPLES),
    ]
    return {"type": "home", "blocks": blocks}


def spend_text(spend: CycleSpend) -> str:
    mine, team = spend.mine, spend.team
    yours = dollars(mine.totals.cents) if mine else "unknown (your Slack profile has no email)"
    lines = [f"*Your spend this cycle:* {yours}"]
    # Team totals are visible to everyone under either visibility policy.
    lines.append(
        f"*Team this cycle:* {dollars(team.totals.cents)} "
        f"(on-demand {dollars(team.totals.on_demand_cents)})"
    )
    if team.rows:
        top = team.rows[0]
        lines.append(f"*Top model:* {escape(top.key)} ({dollars(top.cents)})")
    if spend.budgets:
        lines.append("*Budgets:*\n" + "\n".join(f"• {escape(line)}" for line in spend.budgets))
    return "\n".join(lines)


def connection_text(connection: Connection, workspace: Workspace) -> str:
    history = (
        f" · history since {connection.history_start.date()}" if connection.history_start else ""
    )
    return (
        f"Cursor {connection.status} · last sync "
        f"{local_time(connection.last_success_at, workspace.timezone)}" + history
    )


def on_home_opened(
    event: dict[str, Any], body: dict[str, Any], client: WebClient, services: BotServices
) -> None:
    """Publish the person's App Home whenever they open its tab."""
    if event.get("tab", "home") != "home":
        return
    caller = Caller(
        team_id=body.get("team_id", ""),
        user_id=event["user"],
        enterprise_id=body.get("enterprise_id") or None,
    )
    try:
        view = home_view(services, client, caller)
    except LedgerError as exc:
        view = {"type": "home", "blocks": [section(error_text(exc))]}
    client.views_publish(user_id=caller.user_id, view=view)
