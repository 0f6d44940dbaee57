"""Spend limits from Slack: the command and the alert button open the confirm dialog; its
submit sends the change to Cursor once and shows Cursor's answer in the dialog.

Admins only at every step. Slack's three seconds: the dialog opens right after the
acknowledgement; the submit is acknowledged with a "sending" dialog at once, and Cursor is
asked on the answer pool, its answer replacing that dialog (or, if it was closed, told in
the channel).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import log_context
from bot.services import BotServices
from bot.slack import grammar, ids
from bot.slack.grammar.limit import MAX_EMAIL, whole_dollars
from bot.slack.grammar.refusals import Reject
from bot.slack.grammar.words import email as email_in
from bot.slack.limit_view import limit_view, notice_view, result_message, result_view, sending_view
from bot.slack.listeners.actions import caller_from_action
from bot.slack.listeners.alerts import BAD_ID, GONE, _alert_id
from bot.slack.listeners.connect import notifier
from bot.usecases import callers, limit_changes, spend_limits
from bot.usecases.callers import Caller
from bot.usecases.spend_limits import LimitDraft, Refusal
from digests import limit_words
from digests.errors import error_text
from ledger.errors import LedgerError, NotFound

logger = logging.getLogger(__name__)

EXPIRED = "The dialog could not open in time: run the command again."
STALE = "This dialog is not valid any more: run `/spend limit @person $200` again."
NO_AMOUNT = "Enter whole dollars, e.g. 200 (0 caps their on-demand spend at $0)."


def open_dialog(
    services: BotServices,
    client: WebClient,
    body: dict[str, Any],
    caller: Caller,
    command: grammar.LimitSet,
    respond: Respond,
) -> None:
    """`/spend limit …`: the confirm dialog (admins), or why not, privately."""
    try:
        draft = spend_limits.draft(services, client, caller, command)
    except Refusal as refusal:
        respond(text=refusal.text, response_type="ephemeral")
        return
    except LedgerError as exc:
        respond(text=error_text(exc), response_type="ephemeral")
        return
    _open(client, str(body.get("trigger_id") or ""), draft, caller, respond)


def _open(
    client: WebClient, trigger_id: str, draft: LimitDraft, caller: Caller, respond: Respond
) -> None:
    try:
        client.views_open(trigger_id=trigger_id, view=limit_view(draft, caller.channel_id))
    except SlackApiError as exc:
        logger.info("spend limit dialog did not open: %s", exc.response.get("error"))
        respond(text=EXPIRED, response_type="ephemeral", replace_original=False)


def on_button(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, services: BotServices
) -> None:
    """ "Set spend limit" on an alert DM: the same dialog, prefilled with the alert's person."""
    ack()
    caller = caller_from_action(body)
    alert_id = _alert_id(body["actions"][0].get("value"))
    tell = _teller(respond)
    if alert_id is None:
        tell(BAD_ID)
        return
    try:
        draft = spend_limits.draft_for_alert(services, client, caller, alert_id)
    except Refusal as refusal:
        tell(refusal.text)
        return
    except NotFound:
        tell(GONE)
        return
    except LedgerError as exc:
        tell(error_text(exc))
        return
    _open(client, str(body.get("trigger_id") or ""), draft, caller, respond)


def _teller(respond: Respond) -> Any:
    def tell(text: str) -> None:
        respond(text=text, response_type="ephemeral", replace_original=False)

    return tell


def _read_metadata(view: dict[str, Any]) -> tuple[str, bool, str | None] | None:
    """(email, off, channel) from the dialog's metadata; None unless it is all well formed."""
    try:
        meta = json.loads(view.get("private_metadata") or "")
    except ValueError:
        return None
    if not isinstance(meta, dict):
        return None
    email, off, channel = meta.get("email"), meta.get("off"), meta.get("channel_id")
    if not isinstance(email, str) or email_in(email) != email.lower() or len(email) > MAX_EMAIL:
        return None
    if not isinstance(off, bool) or not (channel is None or isinstance(channel, str)):
        return None
    return email.lower(), off, channel


def _amount(view: dict[str, Any]) -> tuple[int | None, str | None]:
    """(whole dollars, None) from the dialog's field, or (None, why not)."""
    values = ((view.get("state") or {}).get("values") or {}).get(ids.LIMIT_AMOUNT_BLOCK) or {}
    raw = str((values.get(ids.LIMIT_AMOUNT_INPUT) or {}).get("value") or "").strip()
    if not raw:
        return None, NO_AMOUNT
    try:
        return whole_dollars(raw), None
    except Reject as reject:
        return None, reject.invalid.message.replace("`", "")


@dataclass(frozen=True)
class _Confirmed:
    """A confirm that passed every check: who, for whom, how much, in which dialog."""

    caller: Caller
    workspace_id: int
    view_id: str
    email: str
    dollars: int | None


def _check(
    ack: Ack, body: dict[str, Any], client: WebClient, services: BotServices
) -> _Confirmed | None:
    """The confirm's checks, each answered in the dialog when it fails: the dialog is ours,
    the presser is an admin, the amount is whole dollars."""
    view = body["view"]
    read = _read_metadata(view)
    if read is None:
        ack(response_action="update", view=notice_view(STALE))
        return None
    email, off, channel = read
    caller = Caller(
        team_id=body["team"]["id"],
        user_id=body["user"]["id"],
        channel_id=channel,
        enterprise_id=(body.get("enterprise") or {}).get("id"),
    )
    if not callers.is_admin(services, client, caller):
        ack(response_action="update", view=notice_view(spend_limits.REFUSED))
        return None
    dollars: int | None = None
    if not off:
        dollars, problem = _amount(view)
        if problem is not None:
            ack(response_action="errors", errors={ids.LIMIT_AMOUNT_BLOCK: problem})
            return None
    workspace = callers.workspace_for(services, caller)
    assert workspace.id is not None
    return _Confirmed(caller, workspace.id, str(view["id"]), email, dollars)


def on_submit(ack: Ack, body: dict[str, Any], client: WebClient, services: BotServices) -> None:
    """The dialog's confirm: checked again, claimed once, then sent to Cursor."""
    confirmed = _check(ack, body, client, services)
    if confirmed is None:
        return
    caller, view_id = confirmed.caller, confirmed.view_id
    key = limit_changes.request_key(caller.team_id, view_id, confirmed.email, confirmed.dollars)
    held = limit_changes.reserve(services.engine, key, services.clock())
    if held is None:  # pressed twice: the first press sends it
        ack(response_action="update", view=notice_view(limit_words.ALREADY_SENT))
        return
    ack(response_action="update", view=sending_view(confirmed.email, confirmed.dollars))

    def send() -> None:
        try:
            result = limit_changes.change_limit(
                services.engine,
                services.cursor_access(),
                services.box,
                workspace_id=confirmed.workspace_id,
                requested_by=caller.user_id,
                email=confirmed.email,
                dollars=confirmed.dollars,
                clock=services.clock,
                held=held,
            )
        except LedgerError as exc:  # disconnected meanwhile, say
            _show(client, view_id, caller, notice_view(error_text(exc)), error_text(exc))
            return
        _show(client, view_id, caller, result_view(result), result_message(result))

    services.workers.submit(log_context.carry(_guarded(send, client, view_id, caller)))


def _guarded(work: Any, client: WebClient, view_id: str, caller: Caller) -> Any:
    def guarded() -> None:
        try:
            work()
        except Exception as exc:
            logger.error("spend limit change failed (%s)", type(exc).__name__)
            text = "Sorry, something went wrong sending the change: see `/spend limits history`."
            _show(client, view_id, caller, notice_view(text), text)

    return guarded


def _show(client: WebClient, view_id: str, caller: Caller, view: dict[str, Any], text: str) -> None:
    """The answer in the dialog; in the channel (or a DM) if the dialog is gone."""
    try:
        client.views_update(view_id=view_id, view=view)
    except SlackApiError as exc:
        logger.info("spend limit dialog not updated: %s", exc.response.get("error"))
        notifier(client, caller)(text=text)
