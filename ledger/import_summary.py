"""What an import of a usage export did: the summary every way in (CLI, Slack) shows.

Plain data, built by ``bot.usecases.imports`` and rendered by ``digests.imports``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from connectors.cursor.csv_export import BadRow


@dataclass(frozen=True)
class ImportProgress:
    """Where a running import is: bytes of the file read (for a progress bar) and rows."""

    bytes_read: int
    #: The file's size when known (None for a stream of unknown length).
    total_bytes: int | None
    rows: int


@dataclass(frozen=True)
class ImportSummary:
    """The outcome of an import (or of a dry run: what it would do, nothing written)."""

    workspace: str
    timezone: str
    dry_run: bool
    #: Data rows read and understood.
    rows: int
    #: Rows written that the ledger did not hold (in a dry run: would be written).
    imported: int
    #: Rows held already whose values changed in the export (written again).
    revised: int
    #: Rows held already, unchanged: importing the same file again adds nothing.
    duplicates: int
    #: Rows at or after the API's history start: the API's range, not the import's.
    skipped: int
    #: Rows that could not be read, and the first ten of them with their line numbers.
    bad_count: int
    bad_rows: tuple[BadRow, ...]
    #: Local days (workspace timezone) the import holds rows of, first and last.
    days: int
    first_day: date | None
    last_day: date | None
    #: "YYYY-MM" -> dollars charged (exact), over the rows the import holds.
    dollars_by_month: dict[str, Decimal]
    #: The API's history start (None: never synced; the first sync replaces what it covers).
    api_start: datetime | None

    def to_json(self) -> dict[str, Any]:
        """The import's JSON contract (README; fields are only ever added). Dollars are
        strings of exact decimals."""
        return {
            "workspace": self.workspace,
            "timezone": self.timezone,
            "dry_run": self.dry_run,
            "rows": self.rows,
            "imported": self.imported,
            "revised": self.revised,
            "duplicates": self.duplicates,
            "skipped": self.skipped,
            "bad": self.bad_count,
            "bad_rows": [{"line": bad.line, "reason": bad.reason} for bad in self.bad_rows],
            "days": self.days,
            "first_day": self.first_day.isoformat() if self.first_day else None,
            "last_day": self.last_day.isoformat() if self.last_day else None,
            "dollars_by_month": {m: str(d) for m, d in self.dollars_by_month.items()},
            "api_start": self.api_start.isoformat() if self.api_start else None,
        }
