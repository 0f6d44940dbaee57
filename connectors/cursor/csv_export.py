"""Read Cursor's usage CSV export (dashboard -> Usage -> Export CSV) as a stream of events.

The API keeps about a week; the export goes back months, so importing it is how history
starts before the connection. Columns are found by name: older team exports lack
``Cloud Agent ID`` and ``Automation ID``, personal exports lack ``User``, newer ones may add
columns (ignored). Rows become the same neutral :class:`UsageEvent` the API path yields.

Parser choice: the standard library ``csv`` (C). ``python -m bench csv_bench`` on 500k rows
of the newest format measured ``csv.reader`` alone at about 1.0M rows/s and this reader, to
finished ``UsageEvent``s, at about 190k rows/s (0.19 of the bare parse): the time goes to
building the events (dates, Decimals, keys), not to splitting fields, so a faster splitter
(pyarrow, polars: neither installed, each a large native dependency) could win at most the
bare parse's share, about a fifth. Per-row work is kept cheap: no regex, ``Decimal`` built
from the text, ``datetime.fromisoformat`` (reads ``Z`` on 3.11+), cached kind lookups.

Hostile files: a line longer than :data:`MAX_LINE_CHARS` stops the read (one line is never
held whole past that), a field longer than ``csv.field_size_limit()`` (128 KiB by default,
process-wide state this module leaves alone) is a bad row, a file that is not UTF-8 or lacks
the columns is refused with :class:`ExportFormatError`. Bad rows are skipped and recorded
with their physical line number (the header is line 1; a quoted field may span lines).

Natural keys: ``{epoch_ms:013d}-{hash}`` like the API's, the hash over ``csv|`` + identity
(ms, user, model, cloud agent id, automation id; never costs or tokens, which Cursor may
revise), plus an ordinal for identical identities in file order, so re-reading the same file
gives the same keys. Exports are sorted by time (either direction), so twins are adjacent:
only the most recent :data:`_REMEMBERED_KEYS` identities are kept for ordinals.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from operator import itemgetter
from typing import BinaryIO

from connectors.cursor import csv_fields as fields
from connectors.cursor.csv_fields import (
    CACHE_READ,
    COST,
    DATE,
    INPUT_WITH_CW,
    INPUT_WITHOUT_CW,
    KIND,
    MAX_COST_DOLLARS,
    MAX_TOKENS,
    MODEL,
    NEWEST_COLUMNS,
    OUTPUT,
    TOTAL,
    USER,
    BadField,
    KindCache,
)
from connectors.records import UNKNOWN_USER, UsageEvent

__all__ = [
    "BAD_ROWS_KEPT",
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
#: Bad rows kept with their reason; the rest are only counted.
BAD_ROWS_KEPT = 10

#: Cost texts seen most, read without raising (an exception costs more than a whole row).
_WORD_COSTS = {"-": Decimal(0), "Included": Decimal(0), "Free": Decimal(0), "": Decimal(0)}
_MAX_MODE = {"Yes": True, "No": False, "": False}
_REMEMBERED_KEYS = 1 << 16
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)
_ZERO = Decimal(0)
_HUNDRED = Decimal(100)
#: From 2001-09-09 on, epoch ms have 13 digits: the key's zero padding is then a no-op.
_THIRTEEN_DIGITS = 10**12
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
        self._text = io.TextIOWrapper(buffered, encoding="utf-8-sig", newline="")
        self._reader = csv.reader(_lines(self._text), skipinitialspace=True)
        self.team = team
        self.rows = 0
        self.bad_rows: list[BadRow] = []
        self.bad_count = 0
        self.columns = self._read_header(REQUIRED_TEAM if team else REQUIRED_PERSONAL)
        self._convert = self._converter(user_email)

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
        columns = tuple(name.strip() for name in header)
        present = {name.lower() for name in columns}
        missing = tuple(name for name in required if name.lower() not in present)
        if missing:
            raise ExportFormatError(missing)
        return columns

    def _bad(self, line: int, reason: str) -> None:
        self.bad_count += 1
        if len(self.bad_rows) < BAD_ROWS_KEPT:
            self.bad_rows.append(BadRow(line, reason))

    def batches(self, size: int = 5000) -> Iterator[list[UsageEvent]]:
        """Events in file order, ``size`` at a time; bad rows skipped and recorded."""
        if size < 1:
            raise ValueError("batch size must be at least 1")
        reader, convert, width = self._reader, self._convert, len(self.columns)
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
                        self._bad(start, f"{len(row)} fields where the header has {width}")
                        continue
                    try:
                        append(convert(row))
                    except BadField as exc:
                        self._bad(start, str(exc))
                        continue
                    if len(batch) >= size:
                        yield batch
                        batch = []
                        append = batch.append
                break
            except UnicodeDecodeError:
                raise ExportFormatError((), f"line {last + 1} is not UTF-8 text") from None
            except csv.Error as exc:
                self.rows += 1
                self._bad(last + 1, f"not valid CSV ({exc})")
                last = reader.line_num
        if batch:
            yield batch

    def _converter(self, user_email: str | None) -> Callable[[list[str]], UsageEvent]:
        """One row -> one event; a closure over the column positions (the hot path)."""
        width = len(self.columns)
        where: dict[str, int] = {}
        for position, name in enumerate(self.columns):
            where.setdefault(name.lower(), position)
        # A missing optional column reads the empty string appended at index ``width``.
        absent = any(name.lower() not in where for name in NEWEST_COLUMNS if name != TOTAL)
        pick = itemgetter(
            *(where.get(name.lower(), width) for name in NEWEST_COLUMNS if name != TOTAL)
        )
        fixed_user = user_email.strip().lower() if user_email else ""
        has_user = USER.lower() in where
        kinds = KindCache(self.team)
        known_kinds = kinds.known
        counts: dict[str, int] = {}
        fromisoformat, blake2b, new = datetime.fromisoformat, hashlib.blake2b, tuple.__new__

        def convert(row: list[str]) -> UsageEvent:
            if absent:
                row.append("")
            (date_text, email, cloud, automation, kind, model, max_text, with_text,
             without_text, read_text, out_text, cost_text) = pick(row)  # fmt: skip
            try:
                moment = fromisoformat(date_text)
            except ValueError:
                moment = fields.parse_date(date_text)
            if moment.tzinfo is not UTC:
                moment = fields.to_utc(moment)
            ms = (moment - _EPOCH) // _ONE_MS
            if ms < 0:
                raise BadField("Date is before 1970")
            if moment.microsecond % 1000:
                moment = _EPOCH + ms * _ONE_MS
            email = email.strip().lower() if has_user else fixed_user
            found = known_kinds.get(kind)
            label, klass = found if found is not None else kinds.get(kind)
            charged = _WORD_COSTS.get(cost_text)
            if charged is None:
                try:
                    charged = Decimal(cost_text[1:] if cost_text[:1] == "$" else cost_text)
                    if not _ZERO <= charged <= MAX_COST_DOLLARS:  # NaN raises here too
                        raise InvalidOperation
                    charged = charged * _HUNDRED if charged else _ZERO
                except ArithmeticError:  # rare: raising costs more than the whole row
                    charged = fields.cost(cost_text)
            max_mode = _MAX_MODE.get(max_text)
            if max_mode is None:
                max_mode = fields.yes_no(max_text)
            try:
                without, output = int(without_text), int(out_text)
                cache_write, cache_read = int(with_text) - without, int(read_text)
            except ValueError:
                without = fields.count(without_text, INPUT_WITHOUT_CW)
                output = fields.count(out_text, OUTPUT)
                cache_read = fields.count(read_text, CACHE_READ)
                cache_write = fields.count(with_text, INPUT_WITH_CW) - without if with_text else 0
            tokens = without + cache_write + cache_read + output
            if without < 0 or output < 0 or cache_read < 0 or cache_write < 0:
                raise BadField(fields.negative(without, output, cache_read))
            if tokens > MAX_TOKENS:
                raise BadField(f"more than {MAX_TOKENS} tokens")
            base = f"csv|{ms}|{email}|{model}|{cloud}|{automation}"
            ordinal = counts.get(base, 0)
            counts[base] = ordinal + 1
            if ordinal:
                base = f"{base}|{ordinal}"
            elif len(counts) > _REMEMBERED_KEYS:
                for stale in list(counts)[: _REMEMBERED_KEYS // 2]:
                    del counts[stale]
            digest = blake2b(base.encode(), digest_size=10).hexdigest()
            key = f"{ms}-{digest}" if ms >= _THIRTEEN_DIGITS else f"{ms:013d}-{digest}"
            return new(
                UsageEvent,
                (
                    key, moment, email or UNKNOWN_USER, not email, model or "unknown", label,
                    klass, max_mode, charged > 0, bool(cloud or automation),
                    tokens > 0, _ZERO, without, output,
                    cache_read, cache_write, charged, _ZERO, charged, None, None, cloud or None,
                ),
            )  # fmt: skip

        return convert
