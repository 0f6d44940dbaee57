"""Personal lines in the ledger: subscriptions, delivery bookkeeping, and each person's
figures (read from real rollups after a simulator sync, on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import Engine

from ledger import deliveries, personal
from ledger.accounts import get_or_create_workspace, link_member
from ledger.budget_status import budget_status
from ledger.budgets import add_budget
from ledger.db import session_scope
from ledger.models import Connection, DeliveryKind, Workspace
from ledger.personal_figures import own_budget, read_cells
from ledger.personal_models import LineCadence
from tests.ledger.support import make_team, same_cents

NOW = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)


def _workspace(engine: Engine, team: str = "T1") -> Workspace:
    with session_scope(engine) as session:
        return get_or_create_workspace(session, team_id=team, name=team)


def test_subscriptions_are_one_per_person_and_counted_never_listed(engine: Engine) -> None:
    workspace, other = _workspace(engine), _workspace(engine, "T2")
    with session_scope(engine) as session:
        for user, cadence in (("U1", LineCadence.DAILY), ("U2", LineCadence.WEEKLY)):
            personal.subscribe(
                session, workspace, user_id=user, cadence=cadence, local_time=time(9),
                timezone="UTC", now=NOW,
            )  # fmt: skip
        personal.subscribe(
            session, other, user_id="U1", cadence=LineCadence.DAILY, local_time=time(9),
            timezone="UTC", now=NOW,
        )  # fmt: skip
    later = NOW + timedelta(hours=1)
    with session_scope(engine) as session:  # a second `/spend me …` changes the same row
        changed = personal.subscribe(
            session, workspace, user_id="U1", cadence=LineCadence.WEEKLY, local_time=time(7, 30),
            timezone="Asia/Tokyo", now=later,
        )  # fmt: skip
        assert (changed.cadence, changed.local_time, changed.subscribed_at) == (
            LineCadence.WEEKLY, time(7, 30), later,
        )  # fmt: skip
    with session_scope(engine) as session:
        counts = personal.counts(session, workspace)
        assert (counts.daily, counts.weekly, counts.total) == (0, 2, 2)
        assert [s.slack_user_id for s in personal.subscribers(session, workspace)] == ["U1", "U2"]
        assert personal.unsubscribe(session, workspace, "U2")
        assert not personal.unsubscribe(session, workspace, "U2")
        assert personal.subscription_of(session, workspace, "U2") is None
    with session_scope(engine) as session:
        assert personal.counts(session, workspace).total == 1
        assert len(personal.active_subscriptions(session)) == 2
        session.get(Workspace, other.id).uninstalled_at = NOW  # type: ignore[union-attr]
    with session_scope(engine) as session:
        ((subscription, found),) = personal.active_subscriptions(session)
        assert (subscription.slack_user_id, found.id) == ("U1", workspace.id)


def test_settled_keys_are_sent_skipped_or_failed_too_often(engine: Engine) -> None:
    workspace = _workspace(engine)
    assert workspace.id is not None
    with session_scope(engine) as session:

        def claim(key: str) -> int:
            return deliveries.claim(
                session, workspace_id=workspace.id, key=key, kind=DeliveryKind.PERSONAL,  # type: ignore[arg-type]
                channel_id=None, now=NOW,
            ).delivery_id  # fmt: skip

        deliveries.complete(session, claim("sent"), now=NOW, message_ts="1.2")
        personal.skip_claimed(session, claim("left"), reason="deactivated in Slack")
        deliveries.fail(session, claim("failed-once"), error="fatal_error")
        claim("claimed")
        for _ in range(3):
            deliveries.fail(session, claim("failed-often"), error="fatal_error")
            session.execute(
                deliveries.DELIVERIES.update()
                .where(deliveries.DELIVERIES.c.dedupe_key == "failed-often")
                .values(claimed_at=NOW - timedelta(hours=1))
            )
    keys = ["sent", "left", "failed-once", "failed-often", "claimed", "never"]
    with session_scope(engine) as session:
        assert personal.settled_keys(session, keys, max_attempts=3) == {
            "sent", "left", "failed-often",
        }  # fmt: skip


def test_figures_are_each_persons_own_and_equal_the_simulators(engine: Engine) -> None:
    team = make_team(engine, users=6, days=10)
    assert team.sync().ok
    people = [m.email for m in team.sim.team.members if not m.is_removed][:3]
    first, last = date(2026, 11, 17), date(2026, 11, 24)
    with session_scope(engine) as session:
        cells = read_cells(session, team.connection_id, [p.upper() for p in people], first, last)
    assert set(cells) <= {p.lower() for p in people} and cells
    start = datetime(2026, 11, 17, tzinfo=UTC)
    truth = team.sim.charged_cents(start, start + timedelta(days=8), by="user")
    for email in people:
        mine = sum((c.cents for c in cells.get(email, [])), Decimal(0))
        assert same_cents(mine, truth.get(email, Decimal(0))), email
        assert all(first <= c.day <= last for c in cells.get(email, []))


def test_the_members_snapshot_says_who_left_and_links_say_who_is_who(engine: Engine) -> None:
    team = make_team(engine, users=6, days=5)
    assert team.sync().ok
    staying, leaving = [m.email for m in team.sim.team.members if not m.is_removed][:2]
    team.sim.remove_member(leaving)
    assert team.sync().ok
    with session_scope(engine) as session:
        assert personal.removed_emails(session, team.connection_id, [staying, leaving.upper()]) == {
            leaving
        }
        assert personal.removed_emails(session, team.connection_id, []) == set()
        connection = session.get(Connection, team.connection_id)
        assert connection is not None
        link_member(session, connection, slack_user_id="U9", email=staying)
    with session_scope(engine) as session:
        workspace_id = connection.workspace_id
        assert personal.linked_emails(session, workspace_id, ["U9", "U8"]) == {"U9": staying}
        assert personal.linked_emails(session, workspace_id, []) == {}


def test_a_persons_own_budget_is_theirs_alone(engine: Engine) -> None:
    team = make_team(engine, users=4, days=5)
    assert team.sync().ok
    alice, bob = [m.email for m in team.sim.team.members if not m.is_removed][:2]
    with session_scope(engine) as session:
        workspace = session.get(Workspace, 1)
        assert workspace is not None
        add_budget(
            session, workspace, subject_email=alice, amount_cents=10_000, created_by="U1", now=NOW
        )
        add_budget(session, workspace, amount_cents=500_000, created_by="U1", now=NOW)
    with session_scope(engine) as session:
        workspace = session.get(Workspace, 1)
        assert workspace is not None
        statuses = budget_status(session, workspace, now=NOW)
    mine = own_budget(statuses, alice.upper())
    assert mine is not None and mine.budget.subject_email == alice
    assert own_budget(statuses, bob) is None
    assert own_budget(statuses, None) is None
