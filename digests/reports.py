"""Reports as the stable JSON contract and as plain text for the terminal."""

from __future__ import annotations

from datetime import date
from typing import Any

from digests.format import bar, compact, dollars, json_cents, printable, share
from digests.freshness_words import as_of_clock, data_as_of
from digests.group_words import group_title, groups_json, reconciliation_lines
from digests.history_words import first_local_day, gap_words, history_words
from digests.words import provider_name
from ledger.period_spans import days_before
from ledger.queries import Report


def report_json(report: Report) -> dict[str, Any]:
    """The JSON contract documented in the README (fields are only ever added)."""
    totals = report.totals
    return {
        "provider": report.provider,
        "workspace": report.workspace,
        "timezone": report.timezone,
        "period": report.period.label,
        "start": report.period.start.isoformat(),
        "end": report.period.end.isoformat(),
        "by": report.by.value,
        "user": report.user,
        "as_of": report.as_of.isoformat() if report.as_of else None,
        "data_as_of": as_of_clock(report.as_of, report.timezone) if report.as_of else None,
        "history_start": report.history_start.isoformat() if report.history_start else None,
        "history": report.history.to_json() if report.history else None,
        "cycle_start": report.cycle.start.isoformat(),
        "days_before_history": days_before(report.period, _first_day(report)),
        "history_note": _gap(report) or None,
        "total_cents": json_cents(totals.cents),
        "on_demand_cents": json_cents(totals.on_demand_cents),
        "included_cents": json_cents(totals.included_cents),
        "events": totals.events,
        "input_tokens": totals.input_tokens,
        "output_tokens": totals.output_tokens,
        "cache_read_tokens": totals.cache_read_tokens,
        "cache_write_tokens": totals.cache_write_tokens,
        "rows": [
            {
                "key": row.key,
                "cents": json_cents(row.cents),
                "events": row.events,
                "input_tokens": row.input_tokens,
                "output_tokens": row.output_tokens,
            }
            for row in report.rows
        ],
        **groups_json(report.groups),
    }


def report_text(report: Report, *, limit: int = 25) -> str:
    """A readable terminal report: totals, split, bars per row, freshness.

    Data (emails, model names) is shown with its control characters made visible.
    """
    totals = report.totals
    provider = provider_name(report.provider)
    who = f" for {printable(report.user)}" if report.user else printable(group_title(report))
    lines = [
        f"{provider} spend{who}: {report.period.label} "
        f"({report.period.start} to {report.period.end}, {report.timezone})",
        f"Total {dollars(totals.cents)}   on-demand {dollars(totals.on_demand_cents)}"
        f" · included {dollars(totals.included_cents)}   {totals.events:,} events",
        "",
        f"By {report.by.value}:",
    ]
    if not report.rows:
        lines.append("  (no usage in this period)")
    largest = report.rows[0].cents if report.rows else 0
    width = max((len(row.key) for row in report.rows[:limit]), default=0)
    for row in report.rows[:limit]:
        lines.append(
            f"  {printable(row.key):<{width}}  {dollars(row.cents):>11}  "
            f"{share(row.cents, totals.cents):>4}  {bar(row.cents, largest)}"  # type: ignore[arg-type]
        )
    if len(report.rows) > limit:
        lines.append(f"  … and {len(report.rows) - limit} more (use --format json for all rows)")
    lines += [
        "",
        f"Tokens: {compact(totals.input_tokens)} in · {compact(totals.output_tokens)} out · "
        f"{compact(totals.cache_read_tokens)} cache read · "
        f"{compact(totals.cache_write_tokens)} cache write",
        data_as_of(report.as_of, report.timezone, report.today) + _history(report),
    ]
    if report.cycle.assumed and "cycle" in report.period.label:
        lines.append("Billing cycle not known yet (no spend snapshot): calendar month shown.")
    if gap := _gap(report):
        lines.append(f"Note: {gap}.")
    lines += [printable(line) for line in reconciliation_lines(report)]
    return "\n".join(lines)


def _first_day(report: Report) -> date | None:
    return first_local_day(report.history, report.history_start, report.timezone)


def _gap(report: Report) -> str:
    return gap_words(report.period, report.history, report.history_start, report.timezone)


def _history(report: Report) -> str:
    words = history_words(report.history, report.history_start, report.timezone)
    return f" · {words}" if words else ""
