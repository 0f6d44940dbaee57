"""A Cursor usage export shared with the bot in Slack: once per file, then imported.

Slack may deliver the same ``file_shared`` event more than once (a retry after a slow
acknowledgement, or two replicas in Socket Mode). Each file is claimed through the delivery
table (``ledger.deliveries``) under ``import:<team>:<file id>`` before anything is said or
downloaded: a second delivery finds the claim and stands down. A claim left by a process
killed mid-import is taken over after the lease; importing the same file again adds
nothing (the export's natural keys), so the retry ends with exact totals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import BinaryIO

from bot.services import BotServices
from bot.usecases.callers import Caller, workspace_for
from bot.usecases.imports import ImportProgress, ImportSummary, import_cursor_csv
from connectors.cursor.csv_export import ExportFormatError
from digests.errors import error_text
from ledger import deliveries
from ledger.accounts import find_connection
from ledger.db import session_scope
from ledger.deliveries import Claim
from ledger.errors import LedgerError
from ledger.models import DeliveryKind

#: A claimed file is taken over by another delivery only after this long (a killed import).
IMPORT_LEASE = timedelta(hours=2)


def upload_key(team_id: str, file_id: str) -> str:
    return f"import:{team_id}:{file_id}"


def claim_file(services: BotServices, caller: Caller, file_id: str) -> int | None:
    """The delivery id when this process should handle the file; None when another
    delivery of the same event has it (or had it)."""
    workspace = workspace_for(services, caller)
    assert workspace.id is not None
    with session_scope(services.engine) as session:
        claimed = deliveries.claim(
            session,
            workspace_id=workspace.id,
            key=upload_key(caller.team_id, file_id),
            kind=DeliveryKind.NOTICE,
            channel_id=caller.channel_id,
            now=services.clock(),
            lease=IMPORT_LEASE,
        )
    if claimed.claim in (Claim.DONE, Claim.BUSY):
        return None
    return claimed.delivery_id


def finish_file(services: BotServices, delivery_id: int, message_ts: str | None) -> None:
    """The file has had its answer (summary, refusal or error): later deliveries skip it."""
    with session_scope(services.engine) as session:
        deliveries.complete(session, delivery_id, now=services.clock(), message_ts=message_ts)


def not_ready(services: BotServices, caller: Caller) -> str | None:
    """Why the caller's workspace cannot take an import now (Cursor not connected), in words;
    None when it can. Checked before a file is downloaded."""
    workspace = workspace_for(services, caller)
    try:
        with session_scope(services.engine) as session:
            find_connection(session, workspace)
    except LedgerError as exc:
        return error_text(exc)
    return None


@dataclass(frozen=True)
class ImportResult:
    """How the import ended: its summary, or why it did not happen (in words)."""

    summary: ImportSummary | None
    error: str = ""


def import_upload(
    services: BotServices,
    caller: Caller,
    stream: BinaryIO,
    *,
    on_progress: Callable[[ImportProgress], object],
) -> ImportResult:
    """Import the export in ``stream`` into the caller's workspace: the one step that joins
    the Slack path to the import use case (``bot.usecases.imports``). A file that is not a
    team export, or a workspace without Cursor, ends as the error's words."""

    try:
        summary = import_cursor_csv(
            services.engine, caller.team_id, stream, on_progress=on_progress
        )
    except ExportFormatError as exc:
        return ImportResult(None, str(exc))
    except LedgerError as exc:
        return ImportResult(None, error_text(exc))
    return ImportResult(summary)
