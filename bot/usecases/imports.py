"""Importing a Cursor usage export (dashboard -> Usage -> Export CSV) into a workspace's
connection: the one use case behind `stackspend import cursor-csv` and the Slack upload.

Raises ``connectors.cursor.csv_export.ExportFormatError`` (not an export, or a personal
one: the missing columns named), ``StrictImportRefused`` (``strict`` and a bad row:
nothing written), ``ledger.errors.NotConnected`` (connect the workspace first) and
``ledger.errors.NotFound`` (no such workspace).
"""

from __future__ import annotations

import io
import shutil
import tempfile
from collections.abc import Callable, Iterator
from typing import BinaryIO

from sqlalchemy import Engine

from connectors.cursor.csv_export import BadRow, ExportReader
from connectors.records import UsageEvent
from ledger.accounts import find_connection, find_workspace
from ledger.db import session_scope
from ledger.import_summary import ImportProgress, ImportSummary
from ledger.imports import TRANSACTION_ROWS, import_events

__all__ = [
    "ImportProgress",
    "ImportSummary",
    "StrictImportRefused",
    "import_cursor_csv",
]

#: Events per batch read from the file (progress is reported once per batch).
READ_BATCH = 5_000


class StrictImportRefused(ValueError):
    """``strict``: the file has a bad row, so nothing of it was imported."""

    def __init__(self, bad: BadRow) -> None:
        super().__init__(
            f"line {bad.line}: {bad.reason}. Nothing was imported (--strict refuses the whole"
            " file at its first bad row); fix the row, or import without --strict to skip it."
        )
        self.bad = bad


def import_cursor_csv(
    engine: Engine,
    workspace: str,
    stream: BinaryIO,
    *,
    dry_run: bool = False,
    strict: bool = False,
    on_progress: Callable[[ImportProgress], object] | None = None,
    transaction_rows: int = TRANSACTION_ROWS,
    pause_collector: bool = False,
) -> ImportSummary:
    """Import the export in ``stream`` into ``workspace``'s (team id or name) Cursor
    connection; ``dry_run`` reads the file and the ledger and writes nothing.

    Idempotent: running it again on the same file (after success, or after the process
    was killed mid-way) adds nothing already held and ends with exact totals.
    ``pause_collector``: see ``ledger.imports.import_events`` (the CLI sets it)."""
    with session_scope(engine) as session:
        found = find_workspace(session, workspace)
        connection = find_connection(session, found)
        assert connection is not None and connection.id is not None
        connection_id, team_id, timezone = connection.id, found.slack_team_id, found.timezone
    with _seekable(stream) as readable:
        start = readable.tell()
        total = _size(readable)
        if strict:  # a first pass that writes nothing, then the import
            _refuse_bad_rows(readable)
            readable.seek(start)
        reader = ExportReader(readable, team=True)
        totals = import_events(
            engine,
            connection_id=connection_id,
            batches=_reported(reader, total, on_progress),
            dry_run=dry_run,
            transaction_rows=transaction_rows,
            pause_collector=pause_collector,
        )
    return ImportSummary(
        workspace=team_id,
        timezone=timezone,
        dry_run=dry_run,
        rows=totals.rows,
        imported=totals.imported,
        revised=totals.revised,
        duplicates=totals.duplicates,
        skipped=totals.skipped,
        bad_count=reader.bad_count,
        bad_rows=tuple(reader.bad_rows),
        days=totals.days,
        first_day=totals.first_day,
        last_day=totals.last_day,
        dollars_by_month=totals.dollars_by_month(),
        api_start=totals.history_start,
    )


def _reported(
    reader: ExportReader,
    total: int | None,
    on_progress: Callable[[ImportProgress], object] | None,
) -> Iterator[list[UsageEvent]]:
    for batch in reader.batches(READ_BATCH):
        yield batch
        if on_progress is not None:
            on_progress(ImportProgress(reader.bytes_read, total, reader.rows))
    if on_progress is not None:
        on_progress(ImportProgress(reader.bytes_read, total, reader.rows))


def _refuse_bad_rows(stream: BinaryIO) -> None:
    """Read the whole file once, writing nothing; raise at its first bad row."""
    reader = ExportReader(stream, team=True)
    for _ in reader.batches(READ_BATCH):
        if reader.bad_rows:
            break
    if reader.bad_rows:
        raise StrictImportRefused(reader.bad_rows[0])


class _seekable:
    """The stream itself when it can seek (a file), else a spooled copy (an upload)."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._copy: BinaryIO | None = None

    def __enter__(self) -> BinaryIO:
        if self._stream.seekable():
            return self._stream
        self._copy = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # type: ignore[assignment]
        assert self._copy is not None
        shutil.copyfileobj(self._stream, self._copy)
        self._copy.seek(0)
        return self._copy

    def __exit__(self, *exc: object) -> None:
        if self._copy is not None:
            self._copy.close()


def _size(stream: BinaryIO) -> int | None:
    """Bytes from the stream's position to its end (None if it cannot tell)."""
    try:
        here = stream.tell()
        size = stream.seek(0, io.SEEK_END) - here
        stream.seek(here)
    except OSError:
        return None
    return size
