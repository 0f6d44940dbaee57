"""Spend limits from Slack: who may, whose limit, the dialog's facts, the change, the lists.

Admins only, at every step: the command, the alert button and the dialog's submit each
check again (``callers.is_admin``), since a button or a submit can arrive without the
command before it. The change itself is ``bot.usecases.limit_changes``'s, shared with the
CLI.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING

from slack_sdk import WebClient

from bot.services import BotServices
from bot.slack import grammar
from bot.usecases import callers, limit_changes
from bot.usecases.alert_actions import owned_alert
from bot.usecases.callers import ADMIN_ONLY, Caller, Reply
from digests import limit_words
from digests.blocks import Message, section
from ledger.models import AlertKind, Workspace
from ledger.spend_limits import PersonLimit, person_alert_email

REFUSED = ADMIN_ONLY.format(what="see or change Cursor spend limits")
NO_EMAIL = (
    "I don't know the Cursor email of <@{user}>: give it instead "
    "(`/spend limit alice@company.com $200`), or link it with "
    "`/spend settings link @alice alice@company.com`."
)
NOT_A_PERSON = (
    "This alert is not about one person, so there is no spend limit to set from it. "
    "Use `/spend limit @person $200`."
)


class Refusal(Exception):
    """A step that cannot go on; the text says why and what to do."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


@dataclass(frozen=True)
class LimitDraft:
    """What the confirm dialog shows and asks: the person, their facts, the change."""

    email: str
    person: PersonLimit | None
    #: The amount shown in the dialog's field (whole dollars; None: empty).
    dollars: int | None
    #: The dialog removes the limit instead of asking for an amount.
    off: bool
    timezone: str


def require_admin(services: BotServices, client: WebClient, caller: Caller) -> Workspace:
    """The caller's workspace, if they are an admin; ``Refusal`` for anyone else."""
    if not callers.is_admin(services, client, caller):
        raise Refusal(REFUSED)
    return callers.workspace_for(services, caller)


def draft(
    services: BotServices, client: WebClient, caller: Caller, command: grammar.LimitSet
) -> LimitDraft:
    """The dialog for `/spend limit @alice $200` (or `off`, or no amount: the dialog asks)."""
    workspace = require_admin(services, client, caller)
    email = command.email
    if email is None and command.user_id is not None:
        email = callers.email_of(services, client, caller, command.user_id)
        if email is None:
            raise Refusal(NO_EMAIL.format(user=command.user_id))
    assert email is not None
    person = limit_changes.limit_of(services.engine, workspace, email)
    dollars = command.dollars
    if dollars is None and not command.off and person is not None:
        dollars = person.own_dollars
    return LimitDraft(email.lower(), person, dollars, command.off, workspace.timezone)


def draft_for_alert(
    services: BotServices, client: WebClient, caller: Caller, alert_id: int
) -> LimitDraft:
    """The same dialog, from an alert's "Set spend limit" button: its person, prefilled with
    their own limit, else the budget the alert measured them against (whole dollars up)."""
    workspace = require_admin(services, client, caller)
    alert = owned_alert(services, caller, alert_id)
    email = person_alert_email(alert.kind, alert.subject)
    if email is None:
        raise Refusal(NOT_A_PERSON)
    person = limit_changes.limit_of(services.engine, workspace, email)
    dollars = person.own_dollars if person is not None else None
    if (
        dollars is None
        and alert.limit_cents is not None
        and alert.kind is not AlertKind.ANOMALY_USER
    ):
        dollars = int((alert.limit_cents / 100).to_integral_value(rounding=ROUND_CEILING))
    return LimitDraft(email, person, dollars, False, workspace.timezone)


def limits_reply(services: BotServices, client: WebClient, caller: Caller) -> Reply:
    """`/spend limits`: everyone with a limit of their own, from the last spend snapshot."""
    if not callers.is_admin(services, client, caller):
        return callers.text_reply(REFUSED)
    workspace = callers.workspace_for(services, caller)
    now = limit_changes.current_limits(services.engine, workspace)
    lines = limit_words.limits_lines(now, workspace.timezone)
    return _lines_reply(lines)


def history_reply(services: BotServices, client: WebClient, caller: Caller) -> Reply:
    """`/spend limits history`: the changes asked for and Cursor's answers, newest first."""
    if not callers.is_admin(services, client, caller):
        return callers.text_reply(REFUSED)
    workspace = callers.workspace_for(services, caller)
    changes = limit_changes.changes_of(services.engine, workspace)
    return _lines_reply(limit_words.history_lines(changes, workspace.timezone))


#: One section's text stays under Slack's 3,000 characters; a message under 50 blocks.
_SECTION_CHARS = 2800
_MAX_SECTIONS = 40


def _lines_reply(lines: list[str]) -> Reply:
    """The lines in as many sections as they need (a long list is cut, and says so)."""
    head, rest = lines[0], lines[1:]
    chunks: list[list[str]] = [[f"*{head}*"]]
    size = len(chunks[0][0])
    for index, line in enumerate(rest):
        if size + len(line) + 1 > _SECTION_CHARS:
            if len(chunks) == _MAX_SECTIONS:
                chunks[-1].append(f"… and {len(rest) - index} more.")
                break
            chunks.append([])
            size = 0
        chunks[-1].append(line)
        size += len(line) + 1
    return Reply(Message(text=head, blocks=[section("\n".join(c)) for c in chunks]))
