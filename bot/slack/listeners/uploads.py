"""A file shared in the bot's DM: an admin's Cursor usage export, imported in the background.

The event is ``file_shared`` (scope ``files:read``): it names the file, the person and the
conversation, and ``files.info`` tells the rest (name, type, size, download URL). The
``message.im`` event would carry the same through ``im:history``, which also lets the bot
read every message people write to it: the narrower scope wins. Bolt acknowledges events
before this listener runs; the listener only claims the file, checks who and what, and posts
the progress message; the download and the import run on the answer pool.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import log_context
from bot.services import BotServices
from bot.slack import import_words as words
from bot.slack.errors import SORRY
from bot.slack.file_download import DownloadError, download
from bot.slack.progress_message import ProgressMessage
from bot.usecases import callers, csv_upload
from bot.usecases.callers import Caller

logger = logging.getLogger(__name__)

#: Temporary copies of downloads are named so (and removed when the import ends).
TEMP_PREFIX = "stackspend-import-"
CSV_TYPES = frozenset({"csv"})
CSV_MIMETYPES = frozenset({"text/csv", "application/csv"})


@dataclass(frozen=True)
class SharedFile:
    """What ``files.info`` says about a file, as far as an import needs it."""

    id: str
    name: str
    size: int | None
    url: str | None
    is_csv: bool

    @classmethod
    def of(cls, info: dict[str, Any]) -> SharedFile:
        name = str(info.get("name") or info.get("title") or info.get("id") or "file")
        size = info.get("size")
        is_csv = (
            str(info.get("filetype") or "").lower() in CSV_TYPES
            or str(info.get("mimetype") or "").lower() in CSV_MIMETYPES
            or name.lower().endswith(".csv")
        )
        return cls(
            id=str(info.get("id") or ""),
            name=name,
            size=size if isinstance(size, int) and size >= 0 else None,
            url=info.get("url_private_download") or None,
            is_csv=is_csv,
        )


def refusal(shared: SharedFile, max_bytes: int) -> str | None:
    """Why this file is not downloaded (checked before a byte of it is fetched)."""
    if not shared.is_csv:
        return words.not_csv(shared.name)
    if shared.size is not None and shared.size > max_bytes:
        return words.too_large(shared.name, shared.size, max_bytes)
    if shared.url is None:
        return words.unreadable(shared.name)
    return None


def on_file_shared(
    event: dict[str, Any],
    body: dict[str, Any],
    context: BoltContext,
    client: WebClient,
    services: BotServices,
) -> None:
    """`file_shared`: only files shared by a person in their DM with the bot are imported."""
    channel = str(event.get("channel_id") or "")
    file_id = str(event.get("file_id") or (event.get("file") or {}).get("id") or "")
    user_id = str(event.get("user_id") or "")
    if not (channel.startswith("D") and file_id and user_id) or user_id == context.bot_user_id:
        return  # a channel's file, or the bot's own upload (its CSV replies)
    caller = Caller(
        team_id=context.team_id or body.get("team_id") or "",
        user_id=user_id,
        channel_id=channel,
        enterprise_id=context.enterprise_id or None,
    )
    delivery_id = csv_upload.claim_file(services, caller, file_id)
    if delivery_id is None:
        return  # the same file, delivered again: already handled or being handled
    _start(services, client, caller, file_id, delivery_id)


def _start(
    services: BotServices, client: WebClient, caller: Caller, file_id: str, delivery_id: int
) -> None:
    """Answer at once (a refusal), or post the progress message and hand the download and
    the import to the import pool (one at a time, apart from the answers), which finishes
    the claim when the import ends."""
    progress = ProgressMessage(client, str(caller.channel_id))
    try:
        if not callers.is_admin(services, client, caller):
            answer = words.REFUSED
        else:
            shared = SharedFile.of(client.files_info(file=file_id)["file"])
            answer = refusal(shared, services.import_max_bytes) or _not_ready(services, caller)
            if not answer:
                progress.post(words.received(shared.name, shared.size))
                job = _job(services, client, caller, shared, progress, delivery_id)
                services.imports.submit(log_context.carry(job))
                return
    except SlackApiError as exc:
        logger.warning("could not start an import: %s", exc.response.get("error"))
        answer = words.unreadable(file_id)
    try:
        progress.post(answer)
    finally:
        csv_upload.finish_file(services, delivery_id, progress.ts)


def _not_ready(services: BotServices, caller: Caller) -> str:
    problem = csv_upload.not_ready(services, caller)
    return f":warning: {problem}" if problem else ""


def _job(
    services: BotServices,
    client: WebClient,
    caller: Caller,
    shared: SharedFile,
    progress: ProgressMessage,
    delivery_id: int,
) -> Callable[[], None]:
    def run() -> None:
        try:
            progress.finish(_download_and_import(services, client, caller, shared, progress))
        except Exception as exc:  # the class only: a database error quotes the file's rows
            logger.error(
                "import failed for team %s user %s (%s)",
                caller.team_id,
                caller.user_id,
                type(exc).__name__,
            )
            progress.finish(SORRY)
        finally:
            csv_upload.finish_file(services, delivery_id, progress.ts)

    return run


def _download_and_import(
    services: BotServices,
    client: WebClient,
    caller: Caller,
    shared: SharedFile,
    progress: ProgressMessage,
) -> str:
    """The summary, or why the file was not imported; the temporary copy is always removed."""
    assert shared.url is not None  # checked by ``refusal``
    handle, path = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".csv")
    try:
        with os.fdopen(handle, "w+b") as copy:
            try:
                download(
                    shared.url,
                    token=client.token or "",
                    dest=copy,
                    api_base_url=client.base_url,
                    max_bytes=services.import_max_bytes,
                    on_bytes=lambda got: progress.update(
                        words.downloading(shared.name, got, shared.size)
                    ),
                )
            except DownloadError as exc:
                return words.failed(shared.name, str(exc))
            copy.seek(0)
            result = csv_upload.import_upload(
                services,
                caller,
                copy,
                on_progress=lambda done: progress.update(words.importing(shared.name, done)),
            )
    finally:
        os.unlink(path)
    if result.summary is None:
        return words.refused(shared.name, result.error)
    return words.summary(shared.name, result.summary)
