"""A comparison of two periods as a Slack message: totals, change, biggest movers."""

from __future__ import annotations

from digests.blocks import MAX_SECTION_CHARS, Message, code_lines, context, fields_section, section
from digests.comparison_words import (
    against_label,
    history_notes,
    mover_lines,
    percent_words,
    signed_dollars,
    span,
    title,
)
from digests.format import dollars, escape
from ledger.comparisons import Comparison

DEFAULT_MOVERS = 10


def _totals_fields(comparison: Comparison) -> list[str]:
    now, before = comparison.current, comparison.previous
    change = comparison.change_cents
    percent = percent_words(comparison.percent, before.totals.cents)
    return [
        f"*{escape(now.period.label)}*\n{dollars(now.totals.cents)} ({span(now)})",
        f"*{escape(against_label(comparison))}*\n{dollars(before.totals.cents)} ({span(before)})",
        f"*Change*\n{signed_dollars(change)} ({percent})",
    ]


def comparison_message(comparison: Comparison, *, top: int | None = None) -> Message:
    """The comparison as Slack blocks; the rows are the ones ``comparison`` was built with."""
    shown = comparison.rows[: top or DEFAULT_MOVERS]
    heading = f"*Biggest movers by {comparison.current.by.value}*\n"
    lines = mover_lines(shown) or ["(no usage in either period)"]
    table, kept = code_lines(lines, budget=MAX_SECTION_CHARS - len(heading))
    notes = history_notes(comparison)
    more = len(comparison.rows) - (kept if shown else 0)
    if more > 0:
        notes.append(f"… and {more} more rows changed less.")
    blocks = [
        section(f"*{escape(title(comparison))}*"),
        fields_section(_totals_fields(comparison)),
        section(heading + table),
    ]
    if notes:
        blocks.append(
            context(*(f":warning: {note}" if "incomplete" in note else note for note in notes))
        )
    percent = percent_words(comparison.percent, comparison.previous.totals.cents)
    text = (
        f"{escape(title(comparison))}: {dollars(comparison.current.totals.cents)} vs "
        f"{dollars(comparison.previous.totals.cents)} ({signed_dollars(comparison.change_cents)}, "
        f"{percent})"
    )
    return Message(text=text, blocks=blocks)
