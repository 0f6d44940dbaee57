"""A change of spend limit on SQLite and PostgreSQL: recorded before and after it is sent,
and one request key sends at most once however many presses race for it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from bot.usecases import limit_changes
from bot.usecases.limit_changes import Why
from connectors.cursor.endpoints import USER_SPEND_LIMIT
from ledger.db import session_scope
from ledger.errors import SecretKeyError
from ledger.limit_models import LimitOutcome
from ledger.spend_limits import history
from tests.ledger.support import Team, make_team


@pytest.fixture
def team(engine: Engine) -> Team:
    team = make_team(engine)
    assert team.sync().ok
    return team


def member(team: Team) -> str:
    return next(m.email for m in team.sim.team.members if not m.is_removed)


def change(team: Team, email: str, dollars: int | None, held: object = None) -> Why:
    access = team.access()
    try:
        result = limit_changes.change_limit(
            team.engine,
            access,
            team.box,
            workspace_id=1,
            requested_by="UADMIN",
            email=email,
            dollars=dollars,
            clock=team.clock,
            held=held,  # type: ignore[arg-type]
        )
    finally:
        access.close()
    return result.why


def test_racing_presses_of_one_confirm_send_one_request(team: Team) -> None:
    email = member(team)
    key = limit_changes.request_key("T1", "V1", email, 300)
    assert key != limit_changes.request_key("T1", "V1", email, 301)
    assert key != limit_changes.request_key("T1", "V1", email, None)
    assert len(limit_changes.request_key("T" * 40, "V" * 300, "a" * 300 + "@x.io", 5)) <= 160
    with ThreadPoolExecutor(max_workers=6) as pool:
        held = list(
            pool.map(lambda _: limit_changes.reserve(team.engine, key, team.clock()), range(6))
        )
    mine = [h for h in held if h is not None]
    assert len(mine) == 1
    assert change(team, email, 300, mine[0]) is Why.SUCCESS
    team.clock.advance(hours=2)
    assert limit_changes.reserve(team.engine, key, team.clock()) is None  # done: stays done
    team.clock.advance(days=1, seconds=1)
    assert limit_changes.reserve(team.engine, key, team.clock()) is not None  # a day later
    assert len([r for r in team.sim.requests if r.path == USER_SPEND_LIMIT]) == 1


def test_a_change_that_fails_before_sending_frees_its_key(team: Team) -> None:
    email = member(team)
    held = limit_changes.reserve(team.engine, "T1:V2:x", team.clock())
    assert held is not None
    team.box = type(team.box)([b"A" * 43 + b"="])  # a key that cannot open the stored one
    with pytest.raises(SecretKeyError):
        change(team, email, 5, held)
    assert limit_changes.reserve(team.engine, "T1:V2:x", team.clock() + timedelta(seconds=1))


def test_the_audit_holds_old_new_and_cursors_answer(team: Team) -> None:
    email = member(team)
    old = next(m.monthly_limit_dollars for m in team.sim.team.members if m.email == email)
    assert change(team, email, 120) is Why.SUCCESS
    assert change(team, "ghost@nowhere.test", 5) is Why.ERROR
    with session_scope(team.engine) as session:
        ghost, real = history(session, 1)
    assert (real.email, real.old_dollars, real.new_dollars) == (email, old, 120)
    assert real.outcome is LimitOutcome.SUCCESS
    assert real.message == f"Spend limit set to $120 for user {email}"
    assert (ghost.outcome, ghost.message) == (
        LimitOutcome.ERROR,
        "User is not a member of this team",
    )
    assert ghost.old_dollars is None and ghost.old_effective_dollars is None


def test_a_change_whose_answer_cannot_be_recorded_keeps_its_key(
    team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cursor was asked, so the key stays taken: a second press must not send it again."""
    email = member(team)
    held = limit_changes.reserve(team.engine, "T1:V3:x", team.clock())
    assert held is not None

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(limit_changes, "finish_change", broken)
    with pytest.raises(RuntimeError):
        change(team, email, 7, held)
    for later in (timedelta(seconds=1), timedelta(minutes=11), timedelta(hours=12)):
        assert limit_changes.reserve(team.engine, "T1:V3:x", team.clock() + later) is None
    assert len([r for r in team.sim.requests if r.path == USER_SPEND_LIMIT]) == 1
