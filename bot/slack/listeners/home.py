"""The App Home tab: your spend this cycle, the team's, the budgets you may see, connection
health, quick buttons. What a person may see is ``ledger.visibility``'s rule."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.services import BotServices
from bot.usecases import answers
from bot.usecases.answers import Caller
from bot.usecases.budget_view import budget_lines
from bot.usecases.operations import report_for
from digests.blocks import context, divider, header, section
from digests.errors import error_text
from digests.format import dollars, escape, local_time
from digests.slack_reports import quick_actions
from ledger.accounts import find_connection
from ledger.db import session_scope
from ledger.errors import LedgerError

logger = logging.getLogger(__name__)


def home_view(services: BotServices, client: WebClient, caller: Caller) -> dict[str, Any]:
    workspace = answers.workspace_for(services, caller)
    with session_scope(services.engine) as session:
        connection = find_connection(session, workspace, "cursor", required=False)
    blocks = [header("StackSpend: AI coding spend")]
    if connection is None:
        blocks.append(
            section(
                "Cursor is not connected yet. An admin can connect it with `/spend cursor connect`."
            )
        )
        return {"type": "home", "blocks": blocks}
    now = services.clock()
    viewer = answers.viewer_for(services, client, caller, workspace)
    email = viewer.email
    team = report_for(
        services.engine,
        workspace_ref=workspace.slack_team_id,
        period_text="cycle",
        by="model",
        now=now,
    )
    mine = None
    if email:
        mine = report_for(
            services.engine,
            workspace_ref=workspace.slack_team_id,
            period_text="cycle",
            by="model",
            user=email,
            now=now,
        )
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
    with session_scope(services.engine) as session:
        budgets = budget_lines(session, workspace, now, viewer)
    if budgets:
        lines.append("*Budgets:*\n" + "\n".join(f"• {escape(line)}" for line in budgets))
    blocks += [
        section("\n".join(lines)),
        context(
            f"Cursor {connection.status} · last sync "
            f"{local_time(connection.last_success_at, workspace.timezone)}"
            + (
                f" · history since {connection.history_start.date()}"
                if connection.history_start
                else ""
            )
        ),
        divider(),
        quick_actions(),
    ]
    return {"type": "home", "blocks": blocks}


def register(app: App, services: BotServices) -> None:
    def on_home_opened(event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        caller = Caller(team_id=body.get("team_id", ""), user_id=event["user"])
        try:
            view = home_view(services, client, caller)
        except LedgerError as exc:
            view = {"type": "home", "blocks": [section(error_text(exc))]}
        client.views_publish(user_id=caller.user_id, view=view)

    app.event("app_home_opened")(on_home_opened)
