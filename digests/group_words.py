"""Billing groups in words: refusals, a report's group notes, the reconciliation lines."""

from __future__ import annotations

from typing import Any

from digests.format import dollars, json_cents, local_time
from ledger.group_errors import GroupsUnavailable, Unavailable, UnknownGroup
from ledger.group_facts import GroupFacts
from ledger.queries import Report

PLAN_REFUSAL = (
    "Billing groups are a Cursor Enterprise feature, and Cursor refused them for this team's "
    "key (403 Enterprise access required), so spend by group, group budgets and group digests "
    "are unavailable here. Everything else works as before."
)


def group_error_text(error: GroupsUnavailable | UnknownGroup, sync_hint: str) -> str:
    if isinstance(error, UnknownGroup):
        known = ", ".join(f'"{name}"' for name in error.known[:20])
        listed = f" Groups: {known}, or Unassigned." if known else " There are no groups yet."
        return f'There is no billing group named "{error.name}".{listed}'
    if error.why is Unavailable.PLAN:
        return PLAN_REFUSAL
    detail = f" ({error.detail})" if error.detail else ""
    return (
        f"Billing groups have not been read from Cursor yet{detail}: they come with the next "
        f"sync ({sync_hint})."
    )


def group_title(report: Report) -> str:
    """`` for group "X"`` on a one-group report, else empty."""
    facts = report.groups
    if facts is None or facts.group_name is None:
        return ""
    return f' for group "{facts.group_name}"'


def reconciliation_lines(report: Report) -> list[str]:
    """One line per group whose total differs from Cursor's own for the billing cycle."""
    facts = report.groups
    if facts is None or not facts.reconciliation:
        return []
    read = local_time(facts.read_at, report.timezone)
    lines = [
        f"Cursor's own group totals for this billing cycle (read {read}) differ: it counts the "
        "cycle in UTC up to its last read and attributes usage of people who left the team."
    ]
    for item in facts.reconciliation:
        lines.append(
            f"{item.group}: {dollars(item.ledger_cents)} here, {dollars(item.cursor_cents)} "
            f"in Cursor ({dollars(item.difference_cents)})"
        )
    return lines


def groups_json(facts: GroupFacts | None) -> dict[str, Any]:
    """The report fields a group report adds (null / empty on other reports)."""
    if facts is None:
        return {"group": None, "reconciliation": []}
    group = None if facts.group_id is None else {"id": facts.group_id, "name": facts.group_name}
    return {
        "group": group,
        "groups_read_at": facts.read_at.isoformat() if facts.read_at else None,
        "reconciliation": [
            {
                "group": item.group,
                "cents": json_cents(item.ledger_cents),
                "cursor_cents": json_cents(item.cursor_cents),
                "difference_cents": json_cents(item.difference_cents),
            }
            for item in facts.reconciliation
        ],
    }
