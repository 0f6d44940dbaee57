"""An import's summary in words (the CLI prints them; Slack shows them)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal

from digests.format import printable
from digests.history_words import local_day
from ledger.import_summary import ImportSummary

_CENT = Decimal("0.01")


def _dollars(amount: Decimal) -> str:
    return f"${amount.quantize(_CENT, rounding=ROUND_HALF_UP):,}"


def summary_lines(summary: ImportSummary, clean: Callable[[str], str] = printable) -> list[str]:
    """The import's summary as lines: the CLI prints them as they are; Slack passes
    ``clean=digests.format.escape`` (a bad row's reason may quote the file). Counts are
    exact; dollars are rounded to the cent for reading only."""
    verb = "Would import" if summary.dry_run else "Imported"
    lines = [
        f"{verb} {summary.imported:,} rows into {clean(summary.workspace)}"
        + (" (dry run: nothing written)" if summary.dry_run else ""),
        f"Rows read: {summary.rows:,} · already held: {summary.duplicates:,}"
        + (f" · revised: {summary.revised:,}" if summary.revised else "")
        + f" · skipped (the API's range): {summary.skipped:,} · bad: {summary.bad_count:,}",
    ]
    if summary.rows == 0 and summary.bad_count == 0:
        lines.append(
            "The file has no usage rows: export again from Cursor's dashboard (Usage ->"
            " Export CSV) with the date range you want."
        )
    if summary.first_day is not None:
        lines.append(
            f"Days: {summary.days:,}, from {summary.first_day} to {summary.last_day}"
            f" ({summary.timezone})"
        )
    if summary.api_start is not None:
        lines.append(
            f"The API's history starts {local_day(summary.api_start, summary.timezone)}:"
            " rows from then on come from syncs."
        )
    else:
        lines.append("Never synced: the first sync replaces imported rows in the range it reads.")
    for month, amount in summary.dollars_by_month.items():
        lines.append(f"  {month}: {_dollars(amount)}")
    for bad in summary.bad_rows:
        lines.append(f"  line {bad.line}: {clean(bad.reason)}")
    if summary.bad_count > len(summary.bad_rows):
        lines.append(f"  … and {summary.bad_count - len(summary.bad_rows):,} more bad rows")
    return lines
