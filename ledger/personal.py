"""Personal-line subscriptions: add, change, remove, count; and the deliveries' last word.

Who subscribed is private: ``counts`` is what admins see; ``subscribers`` (who) is for
workspaces whose visibility policy is ``all`` (the caller checks the policy).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import Table, func, select, update
from sqlmodel import Session, col
from sqlmodel import select as orm_select

from ledger import deliveries
from ledger.deliveries import DEFAULT_LEASE, DELIVERIES
from ledger.models import Connection, DeliveryKind, DeliveryStatus, Member, Workspace
from ledger.personal_models import LineCadence, PersonalSubscription

SUBSCRIPTIONS: Table = PersonalSubscription.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class LineCounts:
    daily: int = 0
    weekly: int = 0

    @property
    def total(self) -> int:
        return self.daily + self.weekly


def subscribe(
    session: Session,
    workspace: Workspace,
    *,
    user_id: str,
    cadence: LineCadence,
    local_time: time,
    timezone: str,
    now: datetime,
) -> PersonalSubscription:
    """Subscribe ``user_id`` (or change their subscription): lines due from ``now`` on."""
    assert workspace.id is not None
    found = session.exec(
        orm_select(PersonalSubscription).where(
            PersonalSubscription.workspace_id == workspace.id,
            PersonalSubscription.slack_user_id == user_id,
        )
    ).first()
    subscription = found or PersonalSubscription(
        workspace_id=workspace.id, slack_user_id=user_id, cadence=cadence, local_time=local_time,
        timezone=timezone,
    )  # fmt: skip
    subscription.cadence = cadence
    subscription.local_time = local_time
    subscription.timezone = timezone
    subscription.subscribed_at = now
    session.add(subscription)
    session.flush()
    return subscription


def unsubscribe(session: Session, workspace: Workspace, user_id: str) -> bool:
    """Remove ``user_id``'s subscription; False if there was none."""
    found = session.exec(
        orm_select(PersonalSubscription).where(
            PersonalSubscription.workspace_id == workspace.id,
            PersonalSubscription.slack_user_id == user_id,
        )
    ).first()
    if found is None:
        return False
    session.delete(found)
    return True


def subscription_of(
    session: Session, workspace: Workspace, user_id: str
) -> PersonalSubscription | None:
    return session.exec(
        orm_select(PersonalSubscription).where(
            PersonalSubscription.workspace_id == workspace.id,
            PersonalSubscription.slack_user_id == user_id,
        )
    ).first()


def counts(session: Session, workspace: Workspace) -> LineCounts:
    """How many people subscribed, by cadence (never who)."""
    rows = session.execute(
        select(SUBSCRIPTIONS.c.cadence, func.count())
        .where(SUBSCRIPTIONS.c.workspace_id == workspace.id)
        .group_by(SUBSCRIPTIONS.c.cadence)
    ).all()
    found = {LineCadence(cadence): int(count) for cadence, count in rows}
    return LineCounts(found.get(LineCadence.DAILY, 0), found.get(LineCadence.WEEKLY, 0))


def subscribers(session: Session, workspace: Workspace) -> list[PersonalSubscription]:
    """Who subscribed (only for a workspace whose visibility policy is ``all``)."""
    return list(
        session.exec(
            orm_select(PersonalSubscription)
            .where(PersonalSubscription.workspace_id == workspace.id)
            .order_by(col(PersonalSubscription.slack_user_id))
        ).all()
    )


def active_subscriptions(
    session: Session,
) -> list[tuple[PersonalSubscription, Workspace]]:
    """Every subscription of an installed workspace, with its workspace."""
    rows = session.exec(
        orm_select(PersonalSubscription, Workspace)
        .join(Workspace, col(Workspace.id) == col(PersonalSubscription.workspace_id))
        .where(col(Workspace.uninstalled_at).is_(None))
        .order_by(col(PersonalSubscription.id))
    ).all()
    return [(subscription, workspace) for subscription, workspace in rows]


def set_timezone(session: Session, subscription_id: int, timezone: str) -> None:
    """Follow the person's profile timezone for their next lines."""
    session.execute(
        update(SUBSCRIPTIONS).where(SUBSCRIPTIONS.c.id == subscription_id).values(timezone=timezone)
    )


def settled_keys(session: Session, keys: Sequence[str], *, max_attempts: int) -> set[str]:
    """The keys among ``keys`` with nothing left to do: sent, skipped, or failed
    ``max_attempts`` times."""
    settled: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        rows = session.execute(
            select(DELIVERIES.c.dedupe_key, DELIVERIES.c.status, DELIVERIES.c.attempts).where(
                DELIVERIES.c.dedupe_key.in_(chunk)
            )
        ).all()
        for key, status, attempts in rows:
            done = status in (DeliveryStatus.SENT, DeliveryStatus.SKIPPED)
            if done or (status == DeliveryStatus.FAILED and attempts >= max_attempts):
                settled.add(key)
    return settled


def skip_claimed(session: Session, delivery_id: int, *, reason: str) -> None:
    """A claimed line that will not be sent (the person left): never tried again."""
    session.execute(
        update(DELIVERIES)
        .where(DELIVERIES.c.id == delivery_id)
        .values(status=DeliveryStatus.SKIPPED, error=reason)
    )


def skip_late(
    session: Session,
    *,
    workspace_id: int,
    key: str,
    now: datetime,
    reason: str,
    lease: timedelta = DEFAULT_LEASE,
) -> None:
    """Record that line ``key`` will not be sent (too late): a new row, or one that failed
    or whose claimer died (its claim older than ``lease``); a fresh claim is left alone."""
    if deliveries.skip(
        session, workspace_id=workspace_id, key=key, kind=DeliveryKind.PERSONAL, now=now,
        reason=reason,
    ):  # fmt: skip
        return
    stale = (DELIVERIES.c.status == DeliveryStatus.FAILED) | (
        (DELIVERIES.c.status == DeliveryStatus.CLAIMED) & (DELIVERIES.c.claimed_at <= now - lease)
    )
    session.execute(
        update(DELIVERIES)
        .where(DELIVERIES.c.dedupe_key == key, stale)
        .values(status=DeliveryStatus.SKIPPED, error=reason)
    )


def fail_without_attempt(session: Session, delivery_id: int, *, error: str) -> None:
    """Slack asked to slow down: failed, but not counted against the line's attempts."""
    session.execute(
        update(DELIVERIES)
        .where(DELIVERIES.c.id == delivery_id)
        .values(status=DeliveryStatus.FAILED, error=error, attempts=DELIVERIES.c.attempts - 1)
    )


def removed_emails(session: Session, connection_id: int, emails: Sequence[str]) -> set[str]:
    """Those of ``emails`` that the members snapshot lists as removed from the team."""
    if not emails:
        return set()
    lowered = sorted({email.lower() for email in emails})
    rows = session.exec(
        orm_select(Member.email).where(
            Member.connection_id == connection_id,
            col(Member.is_removed).is_(True),
            func.lower(Member.email).in_(lowered),
        )
    ).all()
    return {email.lower() for email in rows}


def linked_emails(session: Session, workspace_id: int, user_ids: Sequence[str]) -> dict[str, str]:
    """The provider emails linked by hand to these Slack people (``/spend settings link``)."""
    if not user_ids:
        return {}
    rows = session.exec(
        orm_select(Member.slack_user_id, Member.email)
        .join(Connection, col(Connection.id) == col(Member.connection_id))
        .where(Connection.workspace_id == workspace_id, col(Member.slack_user_id).in_(user_ids))
    ).all()
    return {user_id: email for user_id, email in rows if user_id}


def membership(session: Session, workspace: Workspace, email: str) -> str | None:
    """What the members snapshot of the workspace's Cursor connection says of ``email``:
    ``member``, ``removed``, or None (not listed, or no connection yet)."""
    found = session.exec(
        orm_select(Member.is_removed)
        .join(Connection, col(Connection.id) == col(Member.connection_id))
        .where(Connection.workspace_id == workspace.id, func.lower(Member.email) == email.lower())
    ).first()
    if found is None:
        return None
    return "removed" if found else "member"
