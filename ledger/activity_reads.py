"""Reads of Cursor's daily usage data (``daily_activity``), one row per person.

A day counts as *active* when Cursor's row for it shows any accepted suggestion
(``totalAccepts``, ``totalTabsAccepted``, ``acceptedLinesAdded``), any request
(``composerRequests``, ``chatRequests``, ``cmdkUsages``, ``subscriptionIncludedReqs``,
``usageBasedReqs``, ``apiKeyReqs``) or agent use (``agentRequests``). ``isActive`` alone
is not enough: Cursor sets it in one mode only (reference section 6.3). Days are
Cursor's own (UTC) days.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Table, case, func, select
from sqlmodel import Session

from ledger import calendar_math as cal
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
    """A person's active days in a period, and their last active day up to a reference day
    (None: none in the days read; ``last_active_days`` looks further back)."""

    active_days: int
    last_active: date | None


def seat_activity(
    session: Session, connection_id: int, first: date, last: date, reference: date, window: int
) -> dict[str, SeatActivity]:
    """Per email with an active day in the period or the ``window`` days up to ``reference``:
    active days in ``[first, last]``, last active day on or before ``reference``."""
    lo = min(first, cal.days_back(reference, window - 1))
    hi = max(last, reference)
    in_period = case((ACTIVITY.c.day.between(first, last), 1), else_=0)
    up_to_reference = case((ACTIVITY.c.day <= reference, ACTIVITY.c.day), else_=None)
    query = (
        select(ACTIVITY.c.email, func.sum(in_period), func.max(up_to_reference))
        .where(ACTIVITY.c.connection_id == connection_id, ACTIVITY.c.day.between(lo, hi))
        .where(_active())
        .group_by(ACTIVITY.c.email)
    )
    return {
        email: SeatActivity(int(days or 0), _as_date(newest))
        for email, days, newest in session.connection().execute(query)
    }


def last_active_days(
    session: Session, connection_id: int, emails: Iterable[str], reference: date
) -> dict[str, tuple[date | None, date | None]]:
    """Per email: (last active day on or before ``reference``, last active day of all), for
    the few people the period's rows say nothing about (through the (email, day) index)."""
    wanted = sorted(set(emails))
    found: dict[str, tuple[date | None, date | None]] = {}
    up_to_reference = case((ACTIVITY.c.day <= reference, ACTIVITY.c.day), else_=None)
    for at in range(0, len(wanted), _CHUNK):
        query = (
            select(ACTIVITY.c.email, func.max(up_to_reference), func.max(ACTIVITY.c.day))
            .where(ACTIVITY.c.connection_id == connection_id)
            .where(ACTIVITY.c.email.in_(wanted[at : at + _CHUNK]), _active())
            .group_by(ACTIVITY.c.email)
        )
        for email, before, ever in session.connection().execute(query):
            found[email] = (_as_date(before), _as_date(ever))
    return found


_CHUNK = 500


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
