"""What the App Home tab shows: the Cursor connection, this cycle's spend (yours and the
team's) and the budgets you may see (``ledger.visibility``'s rule)."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk import WebClient

from bot.services import BotServices
from bot.usecases import callers
from bot.usecases.budget_view import budget_lines
from bot.usecases.callers import Caller
from bot.usecases.reports import report_for
from bot.usecases.seat_reports import seats_for
from ledger.accounts import find_connection
from ledger.db import session_scope
from ledger.models import Connection, Workspace
from ledger.queries import Report
from ledger.seats import SeatReport


@dataclass(frozen=True)
class CycleSpend:
    """This cycle's spend: the team's by model, the viewer's (None without an email), and
    the budget lines the viewer may see."""

    team: Report
    mine: Report | None
    budgets: tuple[str, ...]


@dataclass(frozen=True)
class HomeFacts:
    """The App Home's content; no spend until Cursor is connected."""

    workspace: Workspace
    connection: Connection | None
    spend: CycleSpend | None = None
    #: This cycle's seats: admins only, as for `/spend cursor seats`.
    seats: SeatReport | None = None


def home_facts(services: BotServices, client: WebClient, caller: Caller) -> HomeFacts:
    workspace = callers.workspace_for(services, caller)
    with session_scope(services.engine) as session:
        connection = find_connection(session, workspace, "cursor", required=False)
    if connection is None:
        return HomeFacts(workspace, None)
    spend = cycle_spend(services, client, caller, workspace)
    seats = None
    if callers.is_admin(services, client, caller):
        seats = seats_for(
            services.engine,
            workspace_ref=workspace.slack_team_id,
            period_text="cycle",
            now=services.clock(),
        )
    return HomeFacts(workspace, connection, spend, seats)


def cycle_spend(
    services: BotServices, client: WebClient, caller: Caller, workspace: Workspace
) -> CycleSpend:
    now = services.clock()
    viewer = callers.viewer_for(services, client, caller, workspace)
    team = report_for(
        services.engine,
        workspace_ref=workspace.slack_team_id,
        period_text="cycle",
        by="model",
        now=now,
    )
    mine = None
    if viewer.email:
        mine = report_for(
            services.engine,
            workspace_ref=workspace.slack_team_id,
            period_text="cycle",
            by="model",
            user=viewer.email,
            now=now,
        )
    with session_scope(services.engine) as session:
        budgets = budget_lines(session, workspace, now, viewer)
    return CycleSpend(team, mine, budgets)
