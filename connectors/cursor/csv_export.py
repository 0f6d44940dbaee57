"""Read Cursor's usage CSV export (dashboard -> Usage -> Export CSV) as a stream of events.

The API keeps about a week; the export goes back months, so importing it is how history
starts before the connection. Columns are found by name: older team exports lack
``Cloud Agent ID`` and ``Automation ID``, personal exports lack ``User``, newer ones may add
columns (ignored). Rows become the same neutral :class:`UsageEvent` the API path yields.

Parser choice: the standard library ``csv`` (C). ``python -m bench csv_bench`` (500k rows of
the newest format, every field quoted, CRLF; 2 CPUs shared with other work, CPython 3.11)
measured ``csv.reader`` alone at 0.65-1.0M rows/s and this reader, to finished
``UsageEvent``s, at 80-190k rows/s: 0.12-0.19 of the bare parse in the same run, over six
runs. The time goes to building the events (dates, Decimals, keys, the tuple), not to
splitting fields, so a faster splitter (pyarrow, polars: neither installed, each a large
native dependency) could save at most the bare parse's share, under a fifth. Per-row work
is kept cheap (see :mod:`csv_rows`).

Hostile files: a line longer than :data:`MAX_LINE_CHARS` stops the read (one line is never
held whole past that), a field longer than :data:`MAX_FIELD_CHARS` is a bad row (through
``csv.field_size_limit``, process-wide: set to that value, Python's own default, in case
something raised it; nothing else in the app reads CSV), a file that is not UTF-8 or lacks
the columns is refused with :class:`ExportFormatError`. Bad rows are skipped and recorded
with their physical line number (the header is line 1; a quoted field may span lines).

Natural keys (see :mod:`csv_rows`): ``{epoch_ms:013d}-{hash}`` like the API's, the hash over
``csv|`` + identity (ms, user, model, cloud agent id, automation id; never costs or tokens,
which Cursor may revise), plus an ordinal for identical rows in file order, so re-reading
the same file gives the same keys and never an API key.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from connectors.cursor.csv_fields import (
    COST,
    DATE,
    KIND,
    MODEL,
    NEWEST_COLUMNS,
    USER,
    BadField,
)
from connectors.cursor.csv_rows import RowConverter
from connectors.records import UsageEvent

__all__ = [
    "BAD_ROWS_KEPT",
    "MAX_FIELD_CHARS",
    "MAX_LINE_CHARS",
    "NEWEST_COLUMNS",
    "BadRow",
    "ExportFormatError",
    "ExportReader",
]

#: Columns without which the money or its attribution cannot be read.
REQUIRED_TEAM: tuple[str, ...] = (DATE, USER, KIND, MODEL, COST)
REQUIRED_PERSONAL: tuple[str, ...] = (DATE, KIND, MODEL, COST)
#: Longest physical line read (characters); a Cursor row is a few hundred.
MAX_LINE_CHARS = 1 << 20
#: Longest field (characters), a quoted field spanning lines included.
MAX_FIELD_CHARS = 128 * 1024
#: Bad rows kept with their reason; the rest are only counted.
BAD_ROWS_KEPT = 10

_EXPECTED = (
    "Expected the CSV from Cursor's dashboard -> Usage -> Export CSV, exported by a team "
    "admin for the whole team."
)


class ExportFormatError(ValueError):
    """The file is not a Cursor usage export (or not one this import can use)."""

    def __init__(self, missing: tuple[str, ...], problem: str | None = None) -> None:
        self.missing = missing
        if problem is None:
            problem = f"missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}"
            if missing == (USER,):
                problem += " (this looks like a personal export)"
        super().__init__(f"Not a Cursor usage export: {problem}. {_EXPECTED}")


@dataclass(frozen=True)
class BadRow:
    """A row skipped: its 1-based physical line number (header = 1) and why."""

    line: int
    reason: str


class _CountingStream(io.RawIOBase):
    """The binary stream, counting bytes handed to the text decoder (for progress)."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._stream.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        self.count += size
        return size


def _lines(text: io.TextIOWrapper) -> Iterator[str]:
    readline = text.readline
    while line := readline(MAX_LINE_CHARS):
        if len(line) == MAX_LINE_CHARS and line[-1] not in "\r\n":
            raise ExportFormatError((), f"a line longer than {MAX_LINE_CHARS} characters")
        yield line


class ExportReader:
    """Streams a Cursor usage export into :class:`UsageEvent` batches.

    The header is read and checked at construction. ``team=False`` accepts a personal export
    (no ``User`` column): its rows belong to ``user_email`` if given, else to
    ``UNKNOWN_USER`` with ``email_missing`` set. The export's ``Included`` kind is stored as
    the API's label for a team (``Included in Business``) so both sources group together.
    """

    def __init__(
        self, stream: BinaryIO, *, team: bool = True, user_email: str | None = None
    ) -> None:
        self._raw = _CountingStream(stream)
        buffered = io.BufferedReader(self._raw, 1 << 16)
        # Bytes that are not UTF-8 read as U+FFFD: the header is then refused, a row is
        # a bad row (``csv_rows``) with its own line number, and the rest goes on.
        self._text = io.TextIOWrapper(buffered, encoding="utf-8-sig", errors="replace", newline="")
        csv.field_size_limit(MAX_FIELD_CHARS)
        self._reader = csv.reader(_lines(self._text), skipinitialspace=True)
        self.team = team
        self.rows = 0
        self.bad_rows: list[BadRow] = []
        self.bad_count = 0
        self.columns = self._read_header(REQUIRED_TEAM if team else REQUIRED_PERSONAL)
        self._rows = RowConverter(self.columns, team=team, user_email=user_email)

    @property
    def bytes_read(self) -> int:
        return self._raw.count

    def _read_header(self, required: tuple[str, ...]) -> tuple[str, ...]:
        try:
            header = next(self._reader, [])
        except UnicodeDecodeError:
            raise ExportFormatError(required, "the file is not UTF-8 text") from None
        except csv.Error:
            raise ExportFormatError(required, "the first line is not a CSV header") from None
        if any("\ufffd" in name for name in header):
            raise ExportFormatError(required, "the file is not UTF-8 text")
        columns = tuple(name.strip() for name in header)
        present = {name.lower() for name in columns}
        missing = tuple(name for name in required if name.lower() not in present)
        if missing:
            raise ExportFormatError(missing)
        return columns

    def _bad(self, line: int, reason: str, lines: int = 1) -> None:
        """A bad row from ``line`` on, over ``lines`` lines of the file (a quoted field may
        hold line breaks: each line it swallowed is counted)."""
        self.bad_count += max(1, lines)
        if len(self.bad_rows) < BAD_ROWS_KEPT:
            self.bad_rows.append(BadRow(line, reason))

    def batches(self, size: int = 5000) -> Iterator[list[UsageEvent]]:
        """Events in file order, ``size`` at a time; bad rows skipped and recorded."""
        if size < 1:
            raise ValueError("batch size must be at least 1")
        reader, convert, width = self._reader, self._rows.one, len(self.columns)
        batch: list[UsageEvent] = []
        append = batch.append
        last = reader.line_num
        while True:
            try:
                for row in reader:
                    start, last = last + 1, reader.line_num
                    if not row:
                        continue
                    self.rows += 1
                    if len(row) != width:
                        reason = f"{len(row)} fields where the header has {width}"
                        self._bad(start, reason, last - start + 1)
                        continue
                    try:
                        append(convert(row))
                    except BadField as exc:
                        self._bad(start, str(exc), last - start + 1)
                        continue
                    if len(batch) >= size:
                        yield batch
                        batch = []
                        append = batch.append
                break
            except csv.Error as exc:  # an unclosed quote, say: the lines it took are bad
                self.rows += 1
                self._bad(last + 1, f"not valid CSV ({exc})", reader.line_num - last)
                last = reader.line_num
        if batch:
            yield batch
