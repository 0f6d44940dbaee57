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
from ledger import deliveries
from ledger.db import session_scope
from ledger.deliveries import Claim
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


@dataclass(frozen=True)
class ImportResult:
    """What the person is told when the import ends."""

    ok: bool
    text: str


def import_upload(
    services: BotServices,  # noqa: ARG001  # until the import use case lands
    caller: Caller,  # noqa: ARG001
    stream: BinaryIO,  # noqa: ARG001
    *,
    on_progress: Callable[[str], object],  # noqa: ARG001
) -> ImportResult:
    """Import the export in ``stream`` into the caller's workspace: the one step that joins
    the Slack path to the import use case (``bot.usecases.imports``)."""
    return ImportResult(ok=False, text="Importing exports is not available in this build.")
