"""Spend reports as Slack messages: totals, split, rows with small text bars."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal

from digests.blocks import (
    Button,
    Message,
    actions,
    code_lines,
    context,
    escape,
    fields_section,
    section,
)
from digests.format import bar, compact, dollars, local_time, share
from ledger.queries import Report, Row

PROVIDER_NAMES = {"cursor": "Cursor"}
DEFAULT_TOP = 10


@dataclass(frozen=True)
class Audience:
    """Who sees the report: which rows they may see and what to call them."""

    #: Email of the viewer, if known; their own row is marked.
    viewer_email: str | None = None
    #: When set, only the viewer's own row of a by-user breakdown is shown.
    own_rows_only: bool = False


def _row_label(row: Row, audience: Audience) -> str:
    if audience.viewer_email and row.key == audience.viewer_email:
        return f"{row.key} (you)"
    return row.key


def visible_rows(report: Report, audience: Audience) -> tuple[list[Row], int]:
    """Rows the audience may see, and how many others were folded away."""
    if audience.own_rows_only and report.by.value == "user" and report.user is None:
        own = [r for r in report.rows if r.key == audience.viewer_email]
        return own, len(report.rows) - len(own)
    return report.rows, 0


def _title(report: Report) -> str:
    provider = PROVIDER_NAMES.get(report.provider, report.provider)
    who = f" for {report.user}" if report.user else ""
    return f"{provider} spend{who}: {report.period.label}"


def report_message(
    report: Report, *, audience: Audience | None = None, top: int | None = None
) -> Message:
    audience = audience or Audience()
    totals = report.totals
    rows, folded = visible_rows(report, audience)
    limit = top or DEFAULT_TOP
    shown = rows[:limit]
    largest = shown[0].cents if shown else Decimal(0)
    width = min(max((len(_row_label(r, audience)) for r in shown), default=0), 40)
    lines = [
        f"{_row_label(r, audience)[:40]:<{width}}  {dollars(r.cents):>11}  "
        f"{share(r.cents, totals.cents):>4}  {bar(r.cents, largest, 10)}"
        for r in shown
    ]
    table, kept = code_lines(lines or ["(no usage in this period)"])
    more = len(rows) - (kept if lines else 0)
    blocks = [
        section(
            f"*{escape(_title(report))}*  ·  {report.period.start} to {report.period.end} "
            f"({escape(report.timezone)})"
        ),
        fields_section(
            [
                f"*Total*\n{dollars(totals.cents)}",
                f"*On-demand / included*\n{dollars(totals.on_demand_cents)} / "
                f"{dollars(totals.included_cents)}",
                f"*Events*\n{totals.events:,}",
                f"*Tokens in / out*\n{compact(totals.input_tokens)} / "
                f"{compact(totals.output_tokens)}",
            ]
        ),
        section(f"*By {report.by.value}*\n{table}"),
    ]
    notes = []
    if more > 0:
        notes.append(f"… and {more} more: add `csv` for every row.")
    if folded:
        notes.append(
            f"{folded} other people are included in the total; only your own row is shown."
        )
    if report.cycle.assumed and "cycle" in report.period.label:
        notes.append("Billing cycle not known yet: calendar month shown.")
    freshness = f"As of {local_time(report.as_of, report.timezone)}"
    if report.history_start:
        freshness += f" · history since {report.history_start.date()}"
    blocks.append(context(freshness, *notes))
    text = (
        f"{_title(report)}: {dollars(totals.cents)} ({report.period.start} to {report.period.end})"
    )
    return Message(text=text, blocks=blocks)


def report_csv(report: Report, audience: Audience | None = None) -> str:
    """Every visible row as CSV (cents as dollars with two decimals)."""
    rows, _ = visible_rows(report, audience or Audience())
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([report.by.value, "dollars", "events", "input_tokens", "output_tokens"])
    for row in rows:
        writer.writerow(
            [row.key, f"{row.cents / 100:.2f}", row.events, row.input_tokens, row.output_tokens]
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
