"""Who may see whose spend, budgets and alerts: the one rule every surface calls.

A ``Viewer`` is whoever a message is composed for: a person (their provider email
when it is known, whether they are an admin) or a channel (many people at once),
under the workspace's visibility policy:

- ``all``: everyone sees everyone's spend;
- ``own`` (the default): admins see everyone's spend; members see their own and
  team-level figures only.

Spend rows (a by-user breakdown, a top-users list, a report about one person) follow
``may_see_person``. Budgets set on a person and alerts about a person (threshold and
forecast alerts of a personal budget, a person's unusual day) follow
``may_see_personal``: as spend for people, and never in a channel, whatever the
policy. Team budgets, team alerts and connection health are team-level: anyone sees
them. Emails are compared without regard to case.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from ledger.models import AlertKind, Visibility

#: Alerts that are never about a person, whatever their subject says.
TEAM_ALERT_KINDS = frozenset({AlertKind.ANOMALY_TEAM, AlertKind.HEALTH})
#: The subject of an alert about the whole team.
TEAM_SUBJECT = "team"
#: Alert subjects of billing-group budgets (``ledger.group_budgets.GROUP_SUBJECT``).
GROUP_SUBJECT = "group:"


@dataclass(frozen=True)
class Viewer:
    """Whoever a message is for (a person or a channel) and the workspace's policy."""

    #: The viewer's provider email (None: unknown, or a channel).
    email: str | None = None
    is_admin: bool = False
    #: The workspace's visibility policy.
    policy: Visibility = Visibility.OWN
    #: A channel: many people, who may not all be allowed what one of them is.
    is_channel: bool = False

    @classmethod
    def person(cls, email: str | None, *, is_admin: bool, policy: Visibility) -> Viewer:
        return cls(email=email, is_admin=is_admin, policy=policy, is_channel=False)

    @classmethod
    def channel(cls, policy: Visibility) -> Viewer:
        return cls(email=None, is_admin=False, policy=policy, is_channel=True)


class _Budget(Protocol):
    @property
    def subject_email(self) -> str | None: ...


class _Alert(Protocol):
    @property
    def kind(self) -> AlertKind: ...
    @property
    def subject(self) -> str: ...


class _Row(Protocol):
    @property
    def key(self) -> str: ...


B = TypeVar("B", bound=_Budget)
A = TypeVar("A", bound=_Alert)
R = TypeVar("R", bound=_Row)


def _normal(email: str) -> str:
    return email.strip().lower()


def is_own(viewer: Viewer, email: str | None) -> bool:
    """Whether ``email`` is the viewer's own (never for a channel or an unknown email)."""
    if viewer.is_channel or viewer.email is None or email is None:
        return False
    return _normal(email) == _normal(viewer.email)


def sees_everyone(viewer: Viewer) -> bool:
    """Whether the viewer may see every person's spend."""
    if viewer.policy is Visibility.ALL:
        return True
    return viewer.is_admin and not viewer.is_channel


def may_see_person(viewer: Viewer, email: str | None) -> bool:
    """Whether the viewer may see the spend of the person with ``email`` (None: the team)."""
    return email is None or sees_everyone(viewer) or is_own(viewer, email)


def may_see_personal(viewer: Viewer, email: str | None) -> bool:
    """Whether the viewer may see a budget or an alert about ``email`` (None: the team).

    A person's budget and alerts are never shown in a channel, under either policy.
    """
    if email is None:
        return True
    if viewer.is_channel:
        return False
    return may_see_person(viewer, email)


def alert_person(alert: _Alert) -> str | None:
    """The person an alert is about, or None for the team and connection health.

    Kinds other than the team's are taken to be about their subject, so that a new
    kind of alert is private until it is known not to be.
    """
    if alert.kind in TEAM_ALERT_KINDS:
        return None
    subject = (alert.subject or "").strip()
    if subject.startswith(GROUP_SUBJECT):  # a billing group's budget: team-level figures
        return None
    return None if subject in ("", TEAM_SUBJECT) else subject


def may_see_budget(viewer: Viewer, budget: _Budget) -> bool:
    return may_see_personal(viewer, budget.subject_email)


def may_see_alert(viewer: Viewer, alert: _Alert) -> bool:
    return may_see_personal(viewer, alert_person(alert))


def visible_budgets(viewer: Viewer, budgets: Iterable[B]) -> list[B]:
    return [budget for budget in budgets if may_see_budget(viewer, budget)]


def visible_alerts(viewer: Viewer, alerts: Iterable[A]) -> list[A]:
    return [alert for alert in alerts if may_see_alert(viewer, alert)]


def visible_person_rows(viewer: Viewer, rows: Sequence[R]) -> tuple[list[R], int]:
    """Rows keyed by a person's email that the viewer may see, and how many were left out."""
    shown = [row for row in rows if may_see_person(viewer, row.key)]
    return shown, len(rows) - len(shown)
