"""Budgets of a billing group: the group's own spend, thresholds once per period, forecasts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from digests.alert_words import title
from ledger.alerts.evaluate import AlertSettings, evaluate
from ledger.budget_status import budget_status
from ledger.budgets import add_budget, list_budgets
from ledger.db import session_scope
from ledger.group_budgets import resolve_group
from ledger.group_errors import GroupsUnavailable, UnknownGroup
from ledger.models import Alert, AlertKind, Visibility, Workspace
from ledger.periods import Period
from ledger.visibility import Viewer, may_see_alert
from tests.ledger.support import Team, make_team
from tests.ledger.test_groups import cents_by_key, report

CYCLE = Period(date(2026, 11, 1), date(2026, 11, 25), "cycle")


@pytest.fixture
def team(engine: Engine) -> Team:
    made = make_team(engine, groups=3, days=40, removed_fraction=0.0)
    assert made.sync().ok
    return made


def set_group_budget(team: Team, name: str, dollars: int, **options: object) -> int:
    with session_scope(team.engine) as session:
        workspace = session.exec(select(Workspace)).one()
        group = resolve_group(session, team.connection_id, name)
        budget = add_budget(
            session,
            workspace,
            amount_cents=dollars * 100,
            created_by="U1",
            now=team.clock.now,
            group=group,
            **options,  # type: ignore[arg-type]
        )
        assert budget.id is not None
        return budget.id


def run_evaluation(team: Team) -> list[Alert]:
    with session_scope(team.engine) as session:
        return evaluate(session, now=team.clock.now, settings=AlertSettings())


def test_a_group_budget_fires_each_threshold_once_per_period_on_the_groups_spend(
    team: Team,
) -> None:
    name = team.sim.groups.live()[0].name
    spent = cents_by_key(report(team))[name]
    # 60% and 90% of the amount are crossed, 120% is not.
    amount = int(spent / Decimal("0.9") / 100)
    budget_id = set_group_budget(team, name, amount, thresholds=(60, 90, 120))

    raised = run_evaluation(team)
    again = run_evaluation(team)

    mine = [a for a in raised if a.budget_id == budget_id and a.kind == AlertKind.THRESHOLD]
    assert sorted(a.threshold or 0 for a in mine) == [60, 90]
    assert again == []
    alert = mine[0]
    assert alert.subject == f"group:{name}"
    assert abs((alert.amount_cents or Decimal(0)) - spent) < Decimal("0.0001")
    assert title(alert, "UTC").startswith(f'The "{name}" group reached')
    channel = Viewer.channel(Visibility.OWN)
    assert may_see_alert(channel, alert)  # group figures are team-level: channels see them


def test_a_group_budget_is_apart_from_the_teams_and_keeps_its_id(team: Team) -> None:
    name = team.sim.groups.live()[0].name
    first = set_group_budget(team, name, 100)
    with session_scope(team.engine) as session:
        workspace = session.exec(select(Workspace)).one()
        team_budget = add_budget(
            session, workspace, amount_cents=500_000, created_by="U1", now=team.clock.now
        )
        team_id = team_budget.id
    again = set_group_budget(team, name.upper(), 200)  # names match case-insensitively
    other = set_group_budget(team, team.sim.groups.live()[1].name, 100)

    assert again == first and len({first, team_id, other}) == 3
    with session_scope(team.engine) as session:
        workspace = session.exec(select(Workspace)).one()
        assert len(list_budgets(session, workspace)) == 3
        statuses = {s.budget.id: s for s in budget_status(session, workspace, now=team.clock.now)}
    assert statuses[first].group_name == name
    assert statuses[team_id].group_name is None
    assert statuses[first].spent_cents < statuses[team_id].spent_cents


def test_a_group_budget_forecasts_the_groups_end_of_period(team: Team) -> None:
    name = team.sim.groups.live()[0].name
    spent = cents_by_key(report(team))[name]
    amount = int(spent * Decimal("1.05") / 100)  # reached well before the cycle ends
    budget_id = set_group_budget(team, name, amount, thresholds=(200,))
    raised = run_evaluation(team)
    forecast = [a for a in raised if a.budget_id == budget_id and a.kind == AlertKind.FORECAST]
    assert len(forecast) == 1
    assert forecast[0].projected_day is not None
    assert CYCLE.end <= forecast[0].projected_day <= date(2026, 11, 30)


def test_a_group_budget_needs_groups_and_a_known_group(engine: Engine) -> None:
    team = make_team(engine, groups=2, days=20)
    with session_scope(engine) as session, pytest.raises(GroupsUnavailable):
        resolve_group(session, team.connection_id, "Platform")
    assert team.sync().ok
    with session_scope(engine) as session, pytest.raises(UnknownGroup):
        resolve_group(session, team.connection_id, "Nope")


def test_a_moved_members_spend_follows_them_into_the_new_groups_budget(team: Team) -> None:
    sim = team.sim
    member = next(m for m in sim.team.members if sim.groups.current_of(m.index) is not None)
    current = sim.groups.current_of(member.index)
    assert current is not None
    target = next(g.name for g in sim.groups.live() if g.id != current.group_id)
    sim.move_to_group(member.email, target)
    team.clock.advance(hours=2)
    assert team.sync().ok
    budget_id = set_group_budget(team, target, 1)
    with session_scope(team.engine) as session:
        workspace = session.exec(select(Workspace)).one()
        status = next(
            s
            for s in budget_status(session, workspace, now=team.clock.now)
            if s.budget.id == budget_id
        )
    today = team.clock.now.date()
    expected = cents_by_key(report(team, Period(CYCLE.start, today, "cycle")))[target]
    assert abs(status.spent_cents - expected) < Decimal("0.0001")
