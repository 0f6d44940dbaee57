"""Spend reports as Slack messages: totals, split, rows with small text bars.

What a viewer may see is ``ledger.visibility``'s rule; every value from Cursor or Slack
(emails, model names, a timezone) is escaped for mrkdwn, code blocks or CSV on the way out.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from digests.blocks import (
    MAX_SECTION_CHARS,
    Button,
    Message,
    actions,
    code_lines,
    context,
    fields_section,
    section,
)
from digests.format import bar, compact, csv_text, dollars, escape, share
from digests.freshness_words import data_as_of
from digests.group_words import group_title, reconciliation_lines
from digests.history_words import gap_words, history_words
from digests.words import provider_name
from ledger.queries import Report, Row
from ledger.visibility import Viewer, is_own, visible_person_rows

DEFAULT_TOP = 10
_CENT = Decimal("0.01")


def _row_label(row: Row, report: Report, viewer: Viewer | None) -> str:
    if viewer is not None and report.by.value == "user" and is_own(viewer, row.key):
        return f"{row.key} (you)"
    return row.key


def visible_rows(report: Report, viewer: Viewer | None) -> tuple[list[Row], int]:
    """Rows the viewer may see, and how many others were folded away (None: every row)."""
    if viewer is not None and report.by.value == "user" and report.user is None:
        return visible_person_rows(viewer, report.rows)
    return list(report.rows), 0


def _title(report: Report) -> str:
    provider = provider_name(report.provider)
    who = f" for {report.user}" if report.user else group_title(report)
    return f"{provider} spend{who}: {report.period.label}"


def _table_lines(report: Report, shown: list[Row], viewer: Viewer | None) -> list[str]:
    """One line per row, aligned as plain text; code_lines escapes each for the code block."""
    totals = report.totals
    largest = shown[0].cents if shown else Decimal(0)
    labels = [_row_label(r, report, viewer)[:40] for r in shown]
    width = max((len(label) for label in labels), default=0)
    return [
        f"{label:<{width}}  {dollars(r.cents):>11}  "
        f"{share(r.cents, totals.cents):>4}  {bar(r.cents, largest, 10)}"
        for label, r in zip(labels, shown, strict=True)
    ]


def _table_section(report: Report, lines: list[str]) -> tuple[str, int]:
    """The rows section's text, and how many lines fitted in it."""
    heading = f"*By {report.by.value}*\n"
    table, kept = code_lines(
        lines or ["(no usage in this period)"], budget=MAX_SECTION_CHARS - len(heading)
    )
    return heading + table, kept


def _totals_fields(report: Report) -> list[str]:
    totals = report.totals
    return [
        f"*Total*\n{dollars(totals.cents)}",
        f"*On-demand / included*\n{dollars(totals.on_demand_cents)} / "
        f"{dollars(totals.included_cents)}",
        f"*Events*\n{totals.events:,}",
        f"*Tokens in / out*\n{compact(totals.input_tokens)} / {compact(totals.output_tokens)}",
    ]


def _notes(report: Report, more: int, folded: int) -> list[str]:
    notes = []
    gap = gap_words(report.period, report.history, report.history_start, report.timezone)
    if gap:
        notes.append(f":warning: {gap[0].upper()}{gap[1:]}.")
    if more > 0:
        notes.append(f"… and {more} more: add `csv` for every row.")
    if folded:
        notes.append(
            f"{folded} other people are included in the total; only your own row is shown."
        )
    if report.cycle.assumed and "cycle" in report.period.label:
        notes.append("Billing cycle not known yet: calendar month shown.")
    differing = reconciliation_lines(report)
    if differing:  # one note: a context block holds at most ten elements
        extra = len(differing) - 9
        shown = differing[:9] + ([f"… and {extra} more groups"] if extra > 0 else [])
        notes.append(escape("\n".join(shown)))
    return notes


def _freshness(report: Report) -> str:
    freshness = data_as_of(report.as_of, report.timezone, report.today)
    history = history_words(report.history, report.history_start, report.timezone)
    if history:
        freshness += f" · {history}"
    return freshness


def report_message(
    report: Report, *, viewer: Viewer | None = None, top: int | None = None
) -> Message:
    """The report for ``viewer`` (None: every row, for admins' and the CLI's own use)."""
    rows, folded = visible_rows(report, viewer)
    lines = _table_lines(report, rows[: top or DEFAULT_TOP], viewer)
    table, kept = _table_section(report, lines)
    more = len(rows) - (kept if lines else 0)
    blocks = [
        section(
            f"*{escape(_title(report))}*  ·  {report.period.start} to {report.period.end} "
            f"({escape(report.timezone)})"
        ),
        fields_section(_totals_fields(report)),
        section(table),
        context(_freshness(report), *_notes(report, more, folded)),
    ]
    text = (
        f"{escape(_title(report))}: {dollars(report.totals.cents)} "
        f"({report.period.start} to {report.period.end})"
    )
    return Message(text=text, blocks=blocks)


def report_csv(report: Report, viewer: Viewer | None = None) -> str:
    """Every row the viewer may see as CSV (cents as dollars with two decimals).

    Text cells (the key: an email, a model name) are quoted and never start a formula
    (``csv_text``); the figures are written as numbers, negative ones included.
    """
    rows, _ = visible_rows(report, viewer)
    out = io.StringIO()
    csv.writer(out).writerow(
        [report.by.value, "dollars", "events", "input_tokens", "output_tokens"]
    )
    writer = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC)
    for row in rows:
        writer.writerow(
            [
                csv_text(row.key),
                (row.cents / 100).quantize(_CENT),
                row.events,
                row.input_tokens,
                row.output_tokens,
            ]
        )
    return out.getvalue()


def quick_buttons() -> list[Button]:
    return [
        Button("My spend this cycle", "quick_me_cycle", "me cycle"),
        Button("Team by user", "quick_team_user", "cursor cycle by user"),
        Button("Team by model", "quick_team_model", "cursor cycle by model"),
        Button("Last 7 days by day", "quick_team_day", "cursor 7d by day"),
    ]


def quick_actions() -> dict[str, object]:
    return actions(*quick_buttons(), block_id="quick_questions")
