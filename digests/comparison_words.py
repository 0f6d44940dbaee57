"""A comparison of two periods in words: terminal text, the JSON fields, the shared phrases.

Totals are the team's (or the one person's asked about); rows are those the viewer may
see in each period (``digests.slack_reports.visible_rows``), biggest movers first.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from digests.format import csv_text, dollars, json_cents, printable
from digests.group_words import group_title
from digests.history_words import first_local_day, gap_words
from digests.words import provider_name
from ledger.comparisons import Comparison, RowChange
from ledger.period_spans import days_before, previous_period
from ledger.queries import Report

_CENT = Decimal("0.01")


def signed_dollars(cents: Decimal) -> str:
    """``+$12.30``, ``-$4.00``, ``$0.00``."""
    text = dollars(cents)
    return f"+{text}" if cents.quantize(Decimal("0.01")) > 0 else text


def percent_words(percent: Decimal | None, before: Decimal) -> str:
    if percent is None:
        return "new" if before == 0 else "n/a"
    return f"{'+' if percent > 0 else ''}{percent}%"


def span(report: Report) -> str:
    return f"{report.period.start} to {report.period.end}"


def against_label(comparison: Comparison) -> str:
    if comparison.against == "previous":
        return previous_period(comparison.current.period).label
    return comparison.previous.period.label


def title(comparison: Comparison) -> str:
    report = comparison.current
    who = f" for {report.user}" if report.user else ""
    name = provider_name(report.provider)
    where = group_title(report)
    return f"{name} spend{who}{where}: {report.period.label} vs {against_label(comparison)}"


def history_notes(comparison: Comparison) -> list[str]:
    """What each period misses for lack of history (so a change may be overstated)."""
    notes = []
    pairs = (("This period", comparison.current), ("The earlier period", comparison.previous))
    for which, report in pairs:
        gap = gap_words(
            report.period, report.history, report.history_start, report.timezone, subject="it"
        )
        if gap:
            notes.append(f"{which} ({span(report)}) is incomplete: {gap}.")
    return notes


def mover_lines(changes: list[RowChange], width_cap: int = 32) -> list[str]:
    labels = [_label(change)[:width_cap] for change in changes]
    width = max((len(label) for label in labels), default=0)
    return [
        f"{label:<{width}}  {dollars(c.previous_cents):>11} → {dollars(c.cents):>11}  "
        f"{signed_dollars(c.change_cents):>12}  {percent_words(c.percent, c.previous_cents):>7}"
        for label, c in zip(labels, changes, strict=True)
    ]


def _label(change: RowChange) -> str:
    """The row's key; by day, with the earlier day it is set against (``2026-11-22 vs 11-15``)."""
    if change.previous_key == change.key:
        return change.key
    earlier = change.previous_key
    return f"{change.key} vs {earlier[5:] if earlier[:5] == change.key[:5] else earlier}"


def comparison_text(comparison: Comparison, *, limit: int = 25) -> str:
    """For the terminal: totals, change, movers (control characters made visible)."""
    now, before = comparison.current, comparison.previous
    percent = percent_words(comparison.percent, before.totals.cents)
    lines = [
        printable(title(comparison)),
        f"Now    {dollars(now.totals.cents):>12}  ({span(now)})",
        f"Before {dollars(before.totals.cents):>12}  ({span(before)})",
        f"Change {signed_dollars(comparison.change_cents):>12}  ({percent})",
        "",
        f"Biggest movers by {now.by.value}:",
    ]
    lines += [f"  {printable(line)}" for line in mover_lines(comparison.rows[:limit])] or [
        "  (no usage in either period)"
    ]
    if len(comparison.rows) > limit:
        lines.append(f"  … and {len(comparison.rows) - limit} more (--format json for all)")
    lines += [f"Note: {note}" for note in history_notes(comparison)]
    return "\n".join(lines)


def comparison_json(comparison: Comparison) -> dict[str, Any]:
    """The ``comparison`` field of the report JSON (fields are only ever added)."""
    before = comparison.previous
    first = first_local_day(before.history, before.history_start, before.timezone)
    return {
        "against": comparison.against,
        "period": before.period.label,
        "start": before.period.start.isoformat(),
        "end": before.period.end.isoformat(),
        "total_cents": json_cents(before.totals.cents),
        "change_cents": json_cents(comparison.change_cents),
        "change_percent": float(comparison.percent) if comparison.percent is not None else None,
        "days_before_history": days_before(before.period, first),
        "notes": history_notes(comparison),
        "rows": [
            {
                "key": change.key,
                "previous_key": change.previous_key,
                "cents": json_cents(change.cents),
                "previous_cents": json_cents(change.previous_cents),
                "change_cents": json_cents(change.change_cents),
                "change_percent": float(change.percent) if change.percent is not None else None,
            }
            for change in comparison.rows
        ],
    }


def comparison_csv(comparison: Comparison) -> str:
    """Every compared row as CSV: the key, dollars before and now, the change (numbers as
    numbers; text cells never start a formula)."""
    out = io.StringIO()
    by = comparison.current.by.value
    csv.writer(out).writerow([by, "previous_dollars", "dollars", "change_dollars", "change_pct"])
    writer = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC)
    for change in comparison.rows:
        writer.writerow(
            [
                csv_text(change.key),
                (change.previous_cents / 100).quantize(_CENT),
                (change.cents / 100).quantize(_CENT),
                (change.change_cents / 100).quantize(_CENT),
                "" if change.percent is None else change.percent,
            ]
        )
    return out.getvalue()
