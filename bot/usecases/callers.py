"""Who is asking: the caller, their workspace, whether they are an admin, what they may see.

Also the ``Reply`` every use case returns, which listeners deliver.
"""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk import WebClient
from sqlmodel import col, select

from bot.services import BotServices
from digests.blocks import Message, section
from ledger.accounts import get_or_create_workspace
from ledger.db import session_scope
from ledger.models import Connection, Member, Workspace
from ledger.visibility import Viewer


@dataclass(frozen=True)
class Caller:
    team_id: str
    user_id: str
    channel_id: str | None = None
    enterprise_id: str | None = None
    team_name: str = ""


@dataclass(frozen=True)
class ChartFile:
    """A chart to upload with a reply (``bot.usecases.charts``)."""

    filename: str
    png: bytes
    title: str
    alt_text: str


@dataclass
class Reply:
    message: Message
    public: bool = False
    csv: tuple[str, str] | None = None  # (filename, content)
    replace_original: bool = False
    chart: ChartFile | None = None


def text_reply(text: str) -> Reply:
    return Reply(Message(text=text, blocks=[section(text)]))


ADMIN_ONLY = (
    "Only workspace admins and owners (or people on the bot's admin list) can {what}. "
    "Ask one of them, or ask for your own spend with `/spend me`."
)


def workspace_for(services: BotServices, caller: Caller) -> Workspace:
    with session_scope(services.engine) as session:
        return get_or_create_workspace(
            session,
            team_id=caller.team_id,
            name=caller.team_name,
            enterprise_id=caller.enterprise_id,
        )


def is_admin(services: BotServices, client: WebClient, caller: Caller) -> bool:
    if caller.user_id in services.admin_user_ids:
        return True
    return services.directory.person(client, caller.team_id, caller.user_id).is_admin


def email_of(services: BotServices, client: WebClient, caller: Caller, user_id: str) -> str | None:
    """The provider email for a Slack user: a hand-made link first, then their Slack email."""
    workspace = workspace_for(services, caller)
    with session_scope(services.engine) as session:
        linked = session.exec(
            select(Member.email)
            .join(Connection, col(Connection.id) == col(Member.connection_id))
            .where(Connection.workspace_id == workspace.id, Member.slack_user_id == user_id)
        ).first()
    if linked:
        return linked
    return services.directory.person(client, caller.team_id, user_id).email


def viewer_for(
    services: BotServices, client: WebClient, caller: Caller, workspace: Workspace | None = None
) -> Viewer:
    """The caller as a viewer: what they may see is ``ledger.visibility``'s rule."""
    workspace = workspace or workspace_for(services, caller)
    return Viewer.person(
        email_of(services, client, caller, caller.user_id),
        is_admin=is_admin(services, client, caller),
        policy=workspace.visibility,
    )
