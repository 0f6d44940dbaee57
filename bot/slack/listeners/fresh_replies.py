"""`/spend` questions about today on data an hour old: a light sync first, then the answer.

The command is acknowledged before any of this (``commands.on_spend``). When the sync
ends within ``FRESH_WAIT_SECONDS`` the answer is on the fresh data; otherwise the answer
goes out on the data there is, says so, and is replaced once the sync ends: one
``replace_original`` through the command's response URL, never a second message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout

from slack_bolt import Respond
from slack_sdk import WebClient

from bot import log_context
from bot.services import BotServices
from bot.slack import grammar
from bot.slack.listeners.delivery import deliver, send_file_to_user
from bot.usecases import answers, callers
from bot.usecases.callers import Caller, Reply
from bot.usecases.refresh import Staleness, needs_refresh
from digests.blocks import Message, context
from digests.errors import error_text
from digests.freshness_words import refreshing_note
from ledger.errors import LedgerError

logger = logging.getLogger(__name__)

#: How long a question waits for its light sync before answering on the data there is.
FRESH_WAIT_SECONDS = 3.0


def answer_query(
    services: BotServices,
    client: WebClient,
    caller: Caller,
    query: grammar.SpendQuery,
    respond: Respond,
) -> None:
    """Answer ``query``, after a light sync when it asks about today on stale data."""
    stale = needs_refresh(services, caller.team_id, query.period, query.provider)
    if stale is None:
        deliver(client, respond, caller, query_reply(services, client, caller, query))
        return
    sync = services.refreshes.refresh(services, stale.connection_id)
    if _ends_within(sync, FRESH_WAIT_SECONDS):
        deliver(client, respond, caller, query_reply(services, client, caller, query))
        return
    first = query_reply(services, client, caller, query)
    deliver(client, respond, caller, marked_stale(first, stale))

    def update() -> None:
        reply = query_reply(services, client, caller, query)
        respond(
            text=reply.message.text,
            blocks=reply.message.blocks,
            response_type="in_channel" if reply.public else "ephemeral",
            replace_original=True,
        )
        if reply.csv is not None:
            send_file_to_user(client, respond, caller.user_id, *reply.csv)

    def after_sync(_done: Future[None]) -> None:
        services.workers.submit(log_context.carry(_guarded(update, caller)))

    sync.add_done_callback(after_sync)


def query_reply(
    services: BotServices, client: WebClient, caller: Caller, query: grammar.SpendQuery
) -> Reply:
    try:
        return answers.handle_query(services, client, caller, query)
    except LedgerError as exc:
        return callers.text_reply(error_text(exc))


def marked_stale(reply: Reply, stale: Staleness) -> Reply:
    """The reply on the data there is, saying newer hours are coming (its CSV, if any,
    comes with the update)."""
    note = refreshing_note(stale.as_of, stale.timezone, stale.today)
    blocks = [*reply.message.blocks, context(note)]
    return Reply(Message(text=f"{reply.message.text} ({note})", blocks=blocks), public=reply.public)


def _ends_within(sync: Future[None], seconds: float) -> bool:
    try:
        sync.result(timeout=seconds)
    except FutureTimeout:
        return False
    except Exception as exc:  # answer on what there is; the class only: messages may
        # quote Cursor's answers
        logger.error("a light sync for a question failed (%s)", type(exc).__name__)
    return True


def _guarded(work: Callable[[], None], caller: Caller) -> Callable[[], None]:
    def run() -> None:
        try:
            work()
        except Exception:
            logger.exception(
                "updating an answer failed for team %s user %s", caller.team_id, caller.user_id
            )

    return run
