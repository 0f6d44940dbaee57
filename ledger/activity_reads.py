"""Reads of Cursor's daily usage data (``daily_activity``), one row per person.

A day counts as *active* when Cursor's row for it shows any accepted suggestion
(``totalAccepts``, ``totalTabsAccepted``, ``acceptedLinesAdded``), any request
(``composerRequests``, ``chatRequests``, ``cmdkUsages``, ``subscriptionIncludedReqs``,
``usageBasedReqs``, ``apiKeyReqs``) or agent use (``agentRequests``). ``isActive`` alone
is not enough: Cursor sets it in one mode only (reference section 6.3). Days are
Cursor's own (UTC) days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Table, case, func, select
from sqlmodel import Session

from ledger.models import DailyActivityRow

ACTIVITY: Table = DailyActivityRow.__table__  # type: ignore[attr-defined]

#: The counters whose sum makes a day active (see the module's docstring).
ACTIVE_COUNTERS = (
    "accepts",
    "tabs_accepted",
    "accepted_lines_added",
    "composer_requests",
    "chat_requests",
    "agent_requests",
    "cmdk_usages",
    "included_requests",
    "usage_based_requests",
    "api_key_requests",
)
#: The counters a request is made of: one per surface (Composer, chat, agent, Cmd+K).
REQUEST_COUNTERS = ("composer_requests", "chat_requests", "agent_requests", "cmdk_usages")


def _active() -> ColumnElement[bool]:
    total: ColumnElement[Any] = ACTIVITY.c[ACTIVE_COUNTERS[0]]
    for name in ACTIVE_COUNTERS[1:]:
        total = total + ACTIVITY.c[name]
    return total > 0


def is_active_day(row: DailyActivityRow) -> bool:
    """The same rule as the SQL one, for one row in memory."""
    return any(getattr(row, name) > 0 for name in ACTIVE_COUNTERS)


@dataclass(frozen=True)
class SeatActivity:
    """A person's active days in a period, and their last active day up to a reference day."""

    active_days: int
    last_active: date | None


def seat_activity(
    session: Session, connection_id: int, first: date, last: date, reference: date
) -> dict[str, SeatActivity]:
    """Per email: active days in ``[first, last]``, last active day on or before ``reference``."""
    in_period = case((ACTIVITY.c.day.between(first, last), 1), else_=0)
    query = (
        select(ACTIVITY.c.email, func.sum(in_period), func.max(ACTIVITY.c.day))
        .where(ACTIVITY.c.connection_id == connection_id, ACTIVITY.c.day <= max(last, reference))
        .where(_active())
        .group_by(ACTIVITY.c.email)
    )
    result: dict[str, SeatActivity] = {}
    for email, days, newest in session.connection().execute(query):
        newest_day = _as_date(newest)
        if newest_day is not None and newest_day > reference:
            newest_day = _last_before(session, connection_id, email, reference)
        result[email] = SeatActivity(int(days or 0), newest_day)
    return result


def _last_before(session: Session, connection_id: int, email: str, reference: date) -> date | None:
    query = select(func.max(ACTIVITY.c.day)).where(
        ACTIVITY.c.connection_id == connection_id,
        ACTIVITY.c.email == email,
        ACTIVITY.c.day <= reference,
        _active(),
    )
    return _as_date(session.connection().execute(query).scalar())


def _as_date(value: object) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


@dataclass(frozen=True)
class PersonUsage:
    """One person's daily usage data summed over a period (Cursor's field names in brackets)."""

    email: str
    active_days: int
    lines_added: int  # totalLinesAdded
    accepted_lines: int  # acceptedLinesAdded
    requests: int  # composerRequests + chatRequests + agentRequests + cmdkUsages
    agent_requests: int  # agentRequests
    applies: int  # totalApplies
    accepts: int  # totalAccepts
    tabs_shown: int  # totalTabsShown
    tabs_accepted: int  # totalTabsAccepted


_SUMS = (
    "lines_added",
    "accepted_lines_added",
    "agent_requests",
    "applies",
    "accepts",
    "tabs_shown",
    "tabs_accepted",
)


def usage_by_person(
    session: Session, connection_id: int, first: date, last: date
) -> list[PersonUsage]:
    """Each person with a daily usage row in ``[first, last]``, summed; by email."""
    requests: ColumnElement[Any] = ACTIVITY.c[REQUEST_COUNTERS[0]]
    for name in REQUEST_COUNTERS[1:]:
        requests = requests + ACTIVITY.c[name]
    query = (
        select(
            ACTIVITY.c.email,
            func.sum(case((_active(), 1), else_=0)),
            func.sum(requests),
            *(func.sum(ACTIVITY.c[name]) for name in _SUMS),
        )
        .where(ACTIVITY.c.connection_id == connection_id, ACTIVITY.c.day.between(first, last))
        .group_by(ACTIVITY.c.email)
        .order_by(ACTIVITY.c.email)
    )
    people = []
    for (
        email,
        active,
        reqs,
        added,
        accepted,
        agent,
        applies,
        accepts,
        shown,
        tabs,
    ) in session.connection().execute(query):
        people.append(
            PersonUsage(
                email=email,
                active_days=int(active or 0),
                lines_added=int(added or 0),
                accepted_lines=int(accepted or 0),
                requests=int(reqs or 0),
                agent_requests=int(agent or 0),
                applies=int(applies or 0),
                accepts=int(accepts or 0),
                tabs_shown=int(shown or 0),
                tabs_accepted=int(tabs or 0),
            )
        )
    return people
