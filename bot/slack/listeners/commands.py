"""`/spend`: acknowledge at once, then answer through the response URL."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeAlias, assert_never

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot import log_context
from bot.metrics import CommandTiming, command_kind
from bot.services import BotServices
from bot.slack import grammar, import_words
from bot.slack.errors import SORRY
from bot.slack.listeners.connect import open_connect_modal
from bot.slack.listeners.delivery import deliver
from bot.slack.listeners.fresh_replies import answer_query
from bot.slack.listeners.syncing import run_sync_and_report
from bot.usecases import (
    answers,
    budgets,
    callers,
    period_help,
    personal_lines,
    schedules,
    seats,
    spend_limits,
)
from bot.usecases.callers import ADMIN_ONLY, Caller, Reply
from digests.blocks import Message, section
from digests.errors import error_text
from ledger.errors import LedgerError
from ledger.models import SyncTrigger

logger = logging.getLogger(__name__)

ADMIN_COMMANDS = (
    grammar.Disconnect,
    grammar.SyncNow,
    grammar.SetTimezone,
    grammar.SetVisibility,
    grammar.LinkPerson,
    grammar.DigestAdd,
    grammar.DigestRemove,
    grammar.DigestPreview,
    grammar.DigestSend,
    grammar.BudgetSet,
    grammar.BudgetRemove,
    grammar.SetSeatPrice,
)


def caller_from(body: dict[str, Any]) -> Caller:
    return Caller(
        team_id=body.get("team_id") or body.get("team", {}).get("id", ""),
        user_id=body.get("user_id") or body.get("user", {}).get("id", ""),
        channel_id=body.get("channel_id"),
        enterprise_id=body.get("enterprise_id") or None,
        team_name=body.get("team_domain", ""),
    )


def on_spend(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, services: BotServices
) -> None:
    """`/spend …`: parse, acknowledge (with the answer when it needs no lookup), answer."""
    command = grammar.parse(body.get("text", ""))
    timing = CommandTiming(command_kind(command))
    caller = caller_from(body)
    immediate = immediate_answer(command)
    if immediate is not None:
        ack(text=immediate.message.text, blocks=immediate.message.blocks)
        timing.acked()
        timing.replied()
        return
    ack()
    timing.acked()
    if isinstance(command, grammar.Connect):
        # The trigger expires three seconds after the command: open the modal at once.
        if not callers.is_admin(services, client, caller):
            respond(text=ADMIN_ONLY.format(what="connect Cursor"), response_type="ephemeral")
        else:
            open_connect_modal(client, body["trigger_id"], caller)
        timing.replied()
        return
    if isinstance(command, grammar.LimitSet):
        # The confirm dialog too needs the trigger, which expires in three seconds.
        from bot.slack.listeners.limits import open_dialog  # (it imports this module)

        open_dialog(services, client, body, caller, command, respond)
        timing.replied()
        return

    def work() -> None:
        if isinstance(command, grammar.SpendQuery):  # fresh first when it asks about today
            answer_query(services, client, caller, command, respond)
            return
        reply = answer(services, client, caller, command, respond)
        if reply is not None:
            deliver(client, respond, caller, reply)

    in_background(services, respond, caller, work, done=timing.replied)


def in_background(
    services: BotServices,
    respond: Respond,
    caller: Caller,
    work: Callable[[], None],
    *,
    done: Callable[[], None] | None = None,
) -> None:
    """Run ``work`` on the answer pool; a failure is logged and apologised for, never silent.
    ``done`` is called once the reply (or the apology) is out."""

    def guarded() -> None:
        try:
            work()
        except Exception:
            logger.exception("answer failed for team %s user %s", caller.team_id, caller.user_id)
            respond(text=SORRY, response_type="ephemeral", replace_original=False)
        finally:
            if done is not None:
                done()

    services.workers.submit(log_context.carry(guarded))


def immediate_answer(command: grammar.Command) -> Reply | None:
    """Answers that need no database or Slack call: sent with the acknowledgement."""
    if isinstance(command, grammar.SecretRefused) or (
        isinstance(command, grammar.Connect) and command.pasted_secret
    ):
        return callers.text_reply(f":warning: {grammar.SECRET_ADVICE}")
    if isinstance(command, grammar.Invalid):
        hint = f" Did you mean `/spend {command.suggestion}`?" if command.suggestion else ""
        text = f"{command.message}{hint}\n{command.usage}"
        return Reply(Message(text=text, blocks=[section(text)]))
    if isinstance(command, grammar.Help) and command.topic != "periods":
        text = grammar.USAGE.get(command.topic or "", grammar.HELP_TEXT)
        return Reply(Message(text=text, blocks=[section(text)]))
    return None


def answer(
    services: BotServices,
    client: WebClient,
    caller: Caller,
    command: grammar.Command,
    respond: Respond,
) -> Reply | None:
    """The reply to a parsed command; None when the command answers on its own."""
    if isinstance(command, ADMIN_COMMANDS) and not callers.is_admin(services, client, caller):
        return callers.text_reply(ADMIN_ONLY.format(what="change the bot's settings or sync"))
    try:
        return _dispatch(services, client, caller, command, respond)
    except LedgerError as exc:
        return callers.text_reply(error_text(exc))


def _dispatch(
    services: BotServices,
    client: WebClient,
    caller: Caller,
    command: grammar.Command,
    respond: Respond,
) -> Reply | None:
    """Every parsed command has its arm: mypy proves it through ``assert_never``."""
    match command:
        case grammar.SpendQuery():
            return answers.handle_query(services, client, caller, command)
        case grammar.Status():
            return answers.handle_status(services, caller, client)
        case grammar.Disconnect():
            callers.workspace_for(services, caller)
            return answers.disconnect_prompt()
        case grammar.SyncNow():
            return _sync_now(services, caller, respond)
        case grammar.CursorImport():
            if not callers.is_admin(services, client, caller):
                return callers.text_reply(import_words.REFUSED)
            return callers.text_reply(import_words.how_to_import(services.import_max_bytes))
        case grammar.SetTimezone() | grammar.SetVisibility():
            return answers.handle_settings(services, command, caller)
        case grammar.LinkPerson():
            return answers.handle_link(services, command, caller)
        case grammar.ShowSettings():
            return answers.handle_show_settings(services, caller)
        case grammar.DigestAdd():
            return schedules.add(services, client, caller, command)
        case grammar.DigestList():
            return schedules.list_all(services, caller)
        case grammar.DigestRemove():
            return schedules.remove(services, caller, command)
        case grammar.DigestPreview():
            return schedules.preview(services, caller)
        case grammar.DigestSend():
            return schedules.send_now(services, caller, command)
        case grammar.BudgetSet():
            return budgets.set_budget(services, client, caller, command)
        case grammar.BudgetList():
            return budgets.list_all(services, client, caller)
        case grammar.BudgetRemove():
            return budgets.remove(services, caller, command)
        case grammar.AlertsList():
            return budgets.list_alerts(services, client, caller)
        case grammar.Help(topic="periods"):  # with today's dates: needs the workspace's zone
            return period_help.periods_help_reply(services, caller)
        case (
            grammar.LimitList() | grammar.LimitHistory() | grammar.LimitSet()
            | grammar.SeatsQuery() | grammar.AdoptionQuery() | grammar.SetSeatPrice()
            | grammar.PersonalLine() | grammar.PersonalLineOff()
        ):  # fmt: skip
            return _dispatch_people(services, client, caller, command)
        case grammar.Help() | grammar.SecretRefused() | grammar.Invalid() | grammar.Connect():
            # Answered with the acknowledgement, or by the connect modal.
            return immediate_answer(command)
        case _:
            assert_never(command)


PeopleCommand: TypeAlias = (
    grammar.LimitList | grammar.LimitHistory | grammar.LimitSet
    | grammar.SeatsQuery | grammar.AdoptionQuery | grammar.SetSeatPrice
    | grammar.PersonalLine | grammar.PersonalLineOff
)  # fmt: skip


def _dispatch_people(
    services: BotServices, client: WebClient, caller: Caller, command: PeopleCommand
) -> Reply | None:
    """Spend limits, seats and adoption, personal lines."""
    match command:
        case grammar.LimitList():
            return spend_limits.limits_reply(services, client, caller)
        case grammar.LimitHistory():
            return spend_limits.history_reply(services, client, caller)
        case grammar.LimitSet():
            return None  # a dialog, opened by `on_spend` while its trigger is valid
        case grammar.SeatsQuery():
            return seats.handle_seats(services, client, caller, command)
        case grammar.AdoptionQuery():
            return seats.handle_adoption(services, client, caller, command)
        case grammar.SetSeatPrice():
            return seats.handle_seat_price(services, command, caller)
        case grammar.PersonalLine():
            return personal_lines.subscribe(services, client, caller, command)
        case grammar.PersonalLineOff():
            return personal_lines.unsubscribe(services, caller)
        case _:
            assert_never(command)


def _sync_now(services: BotServices, caller: Caller, respond: Respond) -> Reply | None:
    connection_id, refusal = answers.sync_allowed(services, caller)
    if connection_id is None:
        return callers.text_reply(refusal or "A sync cannot start now.")
    respond(text="Syncing Cursor now; I will post the result here.", response_type="ephemeral")
    run_sync_and_report(services, connection_id, trigger=SyncTrigger.SLACK, respond=respond)
    return None
