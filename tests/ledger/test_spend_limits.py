"""Spend limits as the ledger knows them: Cursor's spend snapshot (per sync) and the audit."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, func, select
from sqlmodel import col

from connectors.cursor.sim_team import TEAM_DEFAULT_LIMIT_DOLLARS
from ledger.db import session_scope
from ledger.limit_models import LimitOutcome
from ledger.models import SpendSnapshot, Workspace
from ledger.spend_limits import (
    finish_change,
    history,
    limits_now,
    person_alert_email,
    person_limit,
    start_change,
)
from tests.ledger.support import make_team


def test_the_sync_keeps_each_persons_own_limit_and_the_one_cursor_enforces(
    engine: Engine,
) -> None:
    team = make_team(engine)
    assert team.sync().ok
    members = [m for m in team.sim.team.members if not m.is_removed]
    with session_scope(engine) as session:
        now = limits_now(session, team.connection_id)
    own = {m.email: m.monthly_limit_dollars for m in members if m.monthly_limit_dollars is not None}
    assert {p.email: p.own_dollars for p in now.people} == own
    assert all(p.effective_dollars == p.own_dollars for p in now.people)
    assert now.default_dollars == TEAM_DEFAULT_LIMIT_DOLLARS
    with session_scope(engine) as session:
        listed = session.execute(
            select(func.count()).where(col(SpendSnapshot.connection_id) == team.connection_id)
        ).scalar_one()
    assert now.others == listed - len(now.people) > 0
    assert now.taken_at == team.clock.now

    changed = members[0]
    changed.monthly_limit_dollars = 42
    team.clock.advance(hours=1)
    assert team.sync().ok
    with session_scope(engine) as session:
        person = person_limit(session, team.connection_id, changed.email.upper())
    assert person is not None
    assert (person.own_dollars, person.effective_dollars) == (42, 42)
    assert person.taken_at == team.clock.now
    assert person.overall_cents >= person.on_demand_cents >= 0


def test_nobody_is_known_before_the_first_sync(engine: Engine) -> None:
    team = make_team(engine)
    with session_scope(engine) as session:
        assert person_limit(session, team.connection_id, "a@acme.test") is None
        now = limits_now(session, team.connection_id)
    assert (now.taken_at, list(now.people), now.others, now.default_dollars) == (None, [], 0, None)


def test_every_change_is_recorded_with_cursors_answer_newest_first(engine: Engine) -> None:
    team = make_team(engine)
    assert team.sync().ok
    email = next(m.email for m in team.sim.team.members if not m.is_removed)
    with session_scope(engine) as session:
        workspace = session.get(Workspace, 1)
        assert workspace is not None and workspace.id is not None
        before = person_limit(session, team.connection_id, email)
        ids = []
        for step, dollars in enumerate((100, None)):
            change_id = start_change(
                session,
                workspace_id=workspace.id,
                requested_by="UADMIN",
                email=email.upper(),
                before=before,
                new_dollars=dollars,
                now=team.clock.now + timedelta(minutes=step),
            )
            ids.append(change_id)
        finish_change(
            session,
            ids[0],
            outcome=LimitOutcome.SUCCESS,
            message="Spend limit set",
            now=team.clock.now,
        )
    with session_scope(engine) as session:
        rows = history(session, 1)
    assert [r.id for r in rows] == ids[::-1]
    newest, oldest = rows
    assert (newest.new_dollars, newest.outcome, newest.answered_at) == (
        None,
        LimitOutcome.PENDING,
        None,
    )
    assert (oldest.email, oldest.new_dollars, oldest.outcome) == (email, 100, LimitOutcome.SUCCESS)
    assert oldest.old_dollars == (before.own_dollars if before else None)
    assert oldest.message == "Spend limit set"
    assert oldest.answered_at == team.clock.now
    with session_scope(engine) as session:
        assert history(session, 2) == []  # another workspace sees none of them


def test_only_alerts_about_one_person_invite_a_limit() -> None:
    assert person_alert_email("threshold", "Alice@Acme.test") == "alice@acme.test"
    assert person_alert_email("anomaly_user", "bob@acme.test") == "bob@acme.test"
    assert person_alert_email("threshold", "team") is None
    assert person_alert_email("anomaly_team", "team") is None
    assert person_alert_email("health", "…0000") is None


def test_a_change_after_one_cursor_accepted_records_that_limit_as_the_old_one(
    engine: Engine,
) -> None:
    """Until the next sync the snapshot still shows the limit before an accepted change: the
    audit's next "old" is the limit Cursor last accepted, not the stale snapshot's."""
    team = make_team(engine)
    assert team.sync().ok
    email = next(m.email for m in team.sim.team.members if not m.is_removed)
    with session_scope(engine) as session:
        before = person_limit(session, team.connection_id, email)
        assert before is not None and before.own_dollars != 250

        def change(dollars: int | None, minutes: int) -> int:
            return start_change(
                session,
                workspace_id=1,
                requested_by="UADMIN",
                email=email,
                before=before,
                new_dollars=dollars,
                now=team.clock.now + timedelta(minutes=minutes),
            )

        accepted = change(250, 1)
        finish_change(
            session,
            accepted,
            outcome=LimitOutcome.SUCCESS,
            message="set",
            now=team.clock.now + timedelta(minutes=1),
        )
        refused = change(7, 2)
        finish_change(
            session,
            refused,
            outcome=LimitOutcome.ERROR,
            message="no",
            now=team.clock.now + timedelta(minutes=2),
        )
        change(None, 3)
    with session_scope(engine) as session:
        newest, middle, oldest = history(session, 1)
    assert oldest.old_dollars == before.own_dollars
    assert (middle.old_dollars, newest.old_dollars) == (250, 250)  # a refusal changed nothing
