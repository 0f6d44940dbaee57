"""Budgets of one billing group: which group a budget covers, and how its spend is named.

A group budget is an ordinary ``budget`` row (amount, period, thresholds, who is told) plus
a ``group_budget`` row naming the group by id, so renames keep it. Its spend is the group's
(``ledger.group_days``: members' usage on their days in it), evaluated, alerted and shown by
the same machinery as the team's and a person's (``ledger.alerts``, ``ledger.budget_status``).
Alerts about it have the subject ``group:<name>`` (a team-level subject: channels see them).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from ledger.group_models import GroupBudget
from ledger.group_report import directory, require_groups

#: Spend subjects (``ledger.alerts.spend.Spend``) of a group: this prefix and the group id.
GROUP_KEY = "group-id:"
#: Alert subjects of a group budget: this prefix and the group's name.
GROUP_SUBJECT = "group:"


def spend_key(group_id: str) -> str:
    return GROUP_KEY + group_id


def alert_subject(name: str) -> str:
    return GROUP_SUBJECT + name


def resolve_group(session: Session, connection_id: int, name: str) -> tuple[str, str]:
    """(id, current name) of a group, or ``GroupsUnavailable`` / ``UnknownGroup``."""
    require_groups(session, connection_id)
    return directory(session, connection_id).find(name)


def groups_of(session: Session, budget_ids: Iterable[int | None]) -> dict[int, GroupBudget]:
    ids = [i for i in budget_ids if i is not None]
    if not ids:
        return {}
    rows = session.exec(select(GroupBudget).where(col(GroupBudget.budget_id).in_(ids)))
    return {row.budget_id: row for row in rows}


def link_group(session: Session, budget_id: int, group_id: str, name: str) -> None:
    row = session.get(GroupBudget, budget_id)
    if row is None:
        session.add(GroupBudget(budget_id=budget_id, group_id=group_id, group_name=name))
    else:
        row.group_id, row.group_name = group_id, name
