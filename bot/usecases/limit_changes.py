"""Changing a person's spend limit in Cursor, and reading the limits the ledger knows.

Shared by Slack (``bot.usecases.spend_limits``) and the terminal (``stackspend limit``), so
it imports no Slack code. The key comes from the ledger (the workspace's connection),
never from the person asking. Every change is recorded before it is sent and its answer
after (``ledger.spend_limits``); the limit itself is only seen to change when the next
sync reads Cursor's spend snapshot again.

A change asked for twice with the same ``request_key`` (a double-clicked confirm) is sent
once: the key is a unit of work (``ledger.claims``) that stays done for a day.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from connectors.errors import (
    AuthError,
    ConnectorError,
    OutcomeUnknownError,
    PlanError,
    RateLimitedError,
    UnavailableError,
)
from ledger import claims
from ledger.accounts import find_connection, find_workspace
from ledger.db import session_scope
from ledger.limit_models import LimitOutcome, SpendLimitChange
from ledger.models import Workspace
from ledger.secrets import SecretBox
from ledger.spend_limits import (
    LimitsNow,
    PersonLimit,
    finish_change,
    history,
    limits_now,
    person_limit,
)
from ledger.spend_limits import start_change as record_start

if TYPE_CHECKING:
    from connectors.cursor.access import CursorAccess

#: Longest a change may be in flight before a second request for it may be sent (the
#: client's whole call, retries of a 429 included, ends well within it).
IN_FLIGHT = timedelta(minutes=10)
#: How long a request key stays done: a second press within it sends nothing.
REMEMBERED = timedelta(days=1)
#: Cursor takes whole dollars; far beyond any real monthly limit.
MAX_DOLLARS = 1_000_000


class Why(enum.StrEnum):
    """What became of a change, for the words that explain it."""

    SUCCESS = "success"  # Cursor said outcome: success
    ERROR = "error"  # Cursor said outcome: error (its message says why)
    NOT_ENTERPRISE = "not_enterprise"  # 403: the plan has no spend-limit API
    KEY_REJECTED = "key_rejected"  # 401: the key is invalid or revoked
    NOT_SENT = "not_sent"  # Cursor could not be reached or kept rate-limiting: nothing changed
    UNKNOWN = "unknown"  # sent, no answer that says whether it was made


@dataclass(frozen=True)
class ChangeResult:
    email: str
    dollars: int | None
    why: Why
    #: Cursor's message as it was sent (success or error), else the connector's.
    message: str
    change_id: int


def _connection(engine: Engine, workspace_id: int) -> tuple[int, str]:
    with session_scope(engine) as session:
        workspace = session.get(Workspace, workspace_id)
        assert workspace is not None
        connection = find_connection(session, workspace)
        assert connection is not None and connection.id is not None
        return connection.id, connection.encrypted_key


def limit_of(engine: Engine, workspace: Workspace, email: str) -> PersonLimit | None:
    """The person's spend this cycle and limits, from the latest spend snapshot."""
    with session_scope(engine) as session:
        connection = find_connection(session, workspace)
        assert connection is not None and connection.id is not None
        return person_limit(session, connection.id, email)


def workspace_named(engine: Engine, ref: str) -> Workspace:
    """A workspace by Slack team id or name (the CLI's ``--workspace``)."""
    with session_scope(engine) as session:
        return find_workspace(session, ref)


def changes_of(engine: Engine, workspace: Workspace) -> list[SpendLimitChange]:
    """The workspace's latest changes, newest first (the audit)."""
    assert workspace.id is not None
    with session_scope(engine) as session:
        return history(session, workspace.id)


def current_limits(engine: Engine, workspace: Workspace) -> LimitsNow:
    with session_scope(engine) as session:
        connection = find_connection(session, workspace)
        assert connection is not None and connection.id is not None
        return limits_now(session, connection.id)


def request_key(team_id: str, dialog_id: str, email: str, dollars: int | None) -> str:
    """The unit of work of one confirm: the workspace, the dialog and what it asks (hashed,
    so that a long email keeps the key within ``work_claim.key``'s 160 characters)."""
    asked = hashlib.sha256(f"{email.lower()}\0{dollars}".encode()).hexdigest()[:32]
    return f"{team_id[:32]}:{dialog_id[:64]}:{asked}"


def reserve(engine: Engine, request_key: str, now: datetime) -> claims.Claim | None:
    """Claim the change ``request_key`` names; None when it was sent already (within
    ``REMEMBERED``) or is being sent right now: then nothing more is to be sent."""
    held = claims.claim(
        engine, f"limit:{request_key}", now=now, ttl=IN_FLIGHT, fresh_within=REMEMBERED
    )
    return held if held.outcome.ours else None


def change_limit(
    engine: Engine,
    access: CursorAccess,
    box: SecretBox,
    *,
    workspace_id: int,
    requested_by: str,
    email: str,
    dollars: int | None,
    clock: Callable[[], datetime],
    held: claims.Claim | None = None,
) -> ChangeResult:
    """Send one change to Cursor and record it. ``held`` (from ``reserve``) is finished
    once Cursor may have been asked, even when recording its answer then fails, so that
    the same request key sends nothing more; it is given back only when the change could
    not even be recorded (nothing was sent)."""
    try:
        api_key, change_id = _start(engine, box, workspace_id, requested_by, email, dollars, clock)
    except BaseException:
        if held is not None:
            claims.release(engine, held)
        raise
    try:
        why, message = _ask_cursor(access, api_key, email, dollars)
        outcome = {
            Why.SUCCESS: LimitOutcome.SUCCESS,
            Why.ERROR: LimitOutcome.ERROR,
            Why.UNKNOWN: LimitOutcome.UNKNOWN,
        }.get(why, LimitOutcome.REFUSED)
        with session_scope(engine) as session:
            finish_change(session, change_id, outcome=outcome, message=message, now=clock())
    finally:
        if held is not None:
            claims.finish(engine, held, now=clock())
    return ChangeResult(email.lower(), dollars, why, message, change_id)


def _start(
    engine: Engine,
    box: SecretBox,
    workspace_id: int,
    requested_by: str,
    email: str,
    dollars: int | None,
    clock: Callable[[], datetime],
) -> tuple[str, int]:
    """The connection's key, and the change recorded as asked (before it is sent)."""
    connection_id, encrypted = _connection(engine, workspace_id)
    api_key = box.decrypt(encrypted)
    with session_scope(engine) as session:
        before = person_limit(session, connection_id, email)
        change_id = record_start(
            session,
            workspace_id=workspace_id,
            requested_by=requested_by,
            email=email,
            before=before,
            new_dollars=dollars,
            now=clock(),
        )
    return api_key, change_id


def _ask_cursor(
    access: CursorAccess, api_key: str, email: str, dollars: int | None
) -> tuple[Why, str]:
    """What Cursor answered, in its own words where it gave some."""
    client = access.client(api_key)
    try:
        answer = client.set_user_spend_limit(email=email, dollars=dollars)
    except PlanError as exc:
        return Why.NOT_ENTERPRISE, str(exc)
    except AuthError as exc:
        return Why.KEY_REJECTED, str(exc)
    except OutcomeUnknownError as exc:
        return Why.UNKNOWN, str(exc)
    except (RateLimitedError, UnavailableError) as exc:
        # Only a request that cannot have landed is retried until these are raised.
        return Why.NOT_SENT, str(exc)
    except ConnectorError as exc:  # an unreadable answer to a request that was made
        return Why.UNKNOWN, str(exc)
    finally:
        client.close()
    if answer.outcome == "success":
        return Why.SUCCESS, answer.message
    if answer.outcome == "error":
        return Why.ERROR, answer.message
    return Why.UNKNOWN, f"Cursor answered with outcome {answer.outcome[:40]!r}"
