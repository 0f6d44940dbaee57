"""Adoption next to spend in words: Slack blocks (what the viewer may see), terminal text,
and the JSON contract."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from digests.blocks import Message, code_lines, context, fields_section, section
from digests.format import dollars, escape, json_cents, printable
from digests.freshness_words import data_as_of
from digests.history_words import gap_note, period_gap
from ledger.adoption import AdoptionReport, AdoptionRow
from ledger.visibility import Viewer, may_see_person, visible_person_rows

#: People listed in Slack (the CLI lists everyone).
SHOWN = 15
#: Outliers named in Slack, each way.
OUTLIERS_SHOWN = 5
GROUPS_UNAVAILABLE = (
    "Adoption by billing group isn't available yet: try `/spend cursor adoption by user`."
)


def _per_day(row: AdoptionRow) -> str:
    value = row.spend_per_active_day_cents
    return "-" if value is None else dollars(value)


def _acceptance(row: AdoptionRow) -> str:
    added = row.usage.lines_added
    return "-" if not added else f"{row.usage.accepted_lines * 100 // added}%"


def _table(rows: list[AdoptionRow]) -> list[str]:
    head = (
        f"{'person':<32} {'days':>5} {'accepted':>9} {'kept':>5} {'requests':>9} "
        f"{'spend':>11} {'per day':>10}"
    )
    return [head] + [
        f"{_short(r.email):<32} {r.usage.active_days:>5} {r.usage.accepted_lines:>9,} "
        f"{_acceptance(r):>5} {r.usage.requests:>9,} {dollars(r.spend_cents):>11} {_per_day(r):>10}"
        for r in rows
    ]


def _short(text: str) -> str:
    return text if len(text) <= 32 else f"{text[:31]}…"


def _outliers(report: AdoptionReport, viewer: Viewer | None) -> list[str]:
    def named(emails: tuple[str, ...]) -> str:
        shown = [e for e in emails if viewer is None or may_see_person(viewer, e)]
        more = f" and {len(shown) - OUTLIERS_SHOWN:,} more" if len(shown) > OUTLIERS_SHOWN else ""
        return ", ".join(escape(e) for e in shown[:OUTLIERS_SHOWN]) + more

    lines = []
    if high := named(report.high_spend_low_acceptance):
        lines.append(f"• *High spend, low acceptance:* {high}")
    if heavy := named(report.heavy_use_low_cost):
        lines.append(f"• *Heavy use at low cost:* {heavy}")
    return lines


def adoption_message(report: AdoptionReport, *, viewer: Viewer | None = None) -> Message:
    """The report for ``viewer``: team totals for everyone, people as the policy allows."""
    period, team = report.period, report.team
    rows, folded = (
        (list(report.rows), 0) if viewer is None else visible_person_rows(viewer, report.rows)
    )
    blocks = [
        section(
            f"*Cursor adoption and spend*  ·  {period.start} to {period.end} "
            f"({escape(report.timezone)})"
        ),
        fields_section(
            [
                f"*People active*\n{sum(1 for r in report.rows if r.usage.active_days):,}",
                f"*Active days*\n{team.usage.active_days:,}",
                f"*Accepted lines*\n{team.usage.accepted_lines:,}",
                f"*Requests*\n{team.usage.requests:,}",
                f"*Spend*\n{dollars(team.spend_cents)}",
                f"*Spend per active day*\n{_per_day(team)}",
            ]
        ),
    ]
    if rows:
        table, kept = code_lines(_table(rows[:SHOWN]))
        blocks.append(section(table))
        more = len(rows) - max(kept - 1, 0)
    else:
        more = 0
    if outliers := _outliers(report, viewer):
        blocks.append(section("\n".join(outliers)))
    notes = [data_as_of(report.as_of, report.timezone)]
    if gap := _gap(report)[1]:
        notes.append(gap_note(gap))
    if more > 0:
        notes.append(f"{more:,} more people (`stackspend report adoption` lists everyone)")
    if folded:
        notes.append(f"{folded:,} people are left out: members see their own figures only")
    blocks.append(context(*notes))
    text = (
        f"Cursor adoption {period.start} to {period.end}: {team.usage.active_days:,} active days, "
        f"{dollars(team.spend_cents)} spend"
    )
    return Message(text=text, blocks=blocks)


def adoption_text(report: AdoptionReport) -> str:
    period, team = report.period, report.team
    lines = [
        f"Cursor adoption and spend, {period.label} ({period.start} to {period.end}, "
        f"{printable(report.timezone)})",
        *(printable(line) for line in _table([*report.rows, _named_team(team)])),
    ]
    if report.high_spend_low_acceptance:
        lines.append("High spend, low acceptance: " + ", ".join(
            printable(e) for e in report.high_spend_low_acceptance))  # fmt: skip
    if report.heavy_use_low_cost:
        lines.append("Heavy use at low cost: " + ", ".join(
            printable(e) for e in report.heavy_use_low_cost))  # fmt: skip
    if gap := _gap(report)[1]:
        lines.append(f"Note: {gap}.")
    return "\n".join(lines)


def _gap(report: AdoptionReport) -> tuple[int, str]:
    return period_gap(report.period, report.history, report.history_start, report.timezone)


def _named_team(team: AdoptionRow) -> AdoptionRow:
    return AdoptionRow(replace(team.usage, email="(team)"), team.spend_cents)


def _row_json(row: AdoptionRow) -> dict[str, Any]:
    per_day = row.spend_per_active_day_cents
    u = row.usage
    return {
        "email": u.email,
        "active_days": u.active_days,
        "lines_added": u.lines_added,
        "accepted_lines": u.accepted_lines,
        "requests": u.requests,
        "agent_requests": u.agent_requests,
        "applies": u.applies,
        "accepts": u.accepts,
        "tabs_shown": u.tabs_shown,
        "tabs_accepted": u.tabs_accepted,
        "spend_cents": json_cents(row.spend_cents),
        "spend_per_active_day_cents": None if per_day is None else json_cents(per_day),
    }


def adoption_json(report: AdoptionReport) -> dict[str, Any]:
    """The adoption JSON contract documented in the README (fields are only ever added)."""
    team = _row_json(report.team)
    team.pop("email")
    return {
        "provider": "cursor",
        "workspace": report.workspace,
        "timezone": report.timezone,
        "period": report.period.label,
        "start": report.period.start.isoformat(),
        "end": report.period.end.isoformat(),
        "by": "user",
        "as_of": report.as_of.isoformat() if report.as_of else None,
        "team": team,
        "rows": [_row_json(row) for row in report.rows],
        "high_spend_low_acceptance": list(report.high_spend_low_acceptance),
        "heavy_use_low_cost": list(report.heavy_use_low_cost),
        "days_before_history": _gap(report)[0],
        "history_note": _gap(report)[1] or None,
    }
