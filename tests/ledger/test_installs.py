"""Installs and uninstalls in the ledger: uninstalled workspaces stop, purge takes every row."""

from __future__ import annotations

import threading
import time
from datetime import time as time_of_day

from sqlalchemy import Engine, func, select
from sqlmodel import SQLModel

from ledger.db import session_scope
from ledger.installs import mark_installed, mark_uninstalled, purge_workspace, workspaces_of
from ledger.locks import held_lock, lock_key
from ledger.models import Budget, BudgetPeriod, Cadence, DigestSchedule, Workspace
from ledger.schedules import all_enabled
from tests.ledger.support import NOW, make_team


def _row_counts(engine: Engine, workspace_id: int) -> dict[str, int]:
    """Rows per table that belong to the workspace (by the same foreign-key chains)."""
    from ledger.installs import _owned_rows

    counts: dict[str, int] = {}
    with engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            rows = _owned_rows(table, workspace_id)
            if rows is not None:
                counts[table.name] = connection.execute(
                    select(func.count()).select_from(table).where(rows)
                ).scalar_one()
    return counts


def _schedule(engine: Engine, workspace_id: int) -> None:
    with session_scope(engine) as session:
        session.add(
            DigestSchedule(
                workspace_id=workspace_id,
                channel_id="C1",
                cadence=Cadence.DAILY,
                local_time=time_of_day(9),
                created_by="U1",
            )
        )
        session.add(
            Budget(
                workspace_id=workspace_id,
                period=BudgetPeriod.CYCLE,
                amount_cents=100_00,
                created_by="U1",
            )
        )


def _workspace_id(engine: Engine, team_id: str) -> int:
    with session_scope(engine) as session:
        (workspace,) = workspaces_of(session, team_id=team_id, enterprise_id=None)
        assert workspace.id is not None
        return workspace.id


def test_purge_deletes_every_row_of_one_workspace_and_none_of_another(engine: Engine) -> None:
    first, second = make_team(engine, team_id="T1"), make_team(engine, team_id="T2")
    first.sync()
    second.sync()
    one, two = _workspace_id(engine, "T1"), _workspace_id(engine, "T2")
    _schedule(engine, one)
    _schedule(engine, two)
    before_two = _row_counts(engine, two)
    assert _row_counts(engine, one)["usage_event"] > 0

    with session_scope(engine) as session:
        deleted = purge_workspace(session, one)

    assert {"workspace", "connection", "usage_event", "usage_rollup", "member"} <= set(deleted)
    assert {"digest_schedule", "budget"} <= set(deleted)
    assert all(count == 0 for count in _row_counts(engine, one).values())
    assert _row_counts(engine, two) == before_two


def test_an_uninstalled_workspace_has_no_enabled_digest_until_installed_again(
    engine: Engine,
) -> None:
    make_team(engine, team_id="T1")
    make_team(engine, team_id="T2")
    _schedule(engine, _workspace_id(engine, "T1"))
    _schedule(engine, _workspace_id(engine, "T2"))

    with session_scope(engine) as session:
        mark_uninstalled(session, workspaces_of(session, team_id="T1", enterprise_id=None), NOW)
    with session_scope(engine) as session:
        assert [w.slack_team_id for _s, w in all_enabled(session)] == ["T2"]
        mark_installed(session, workspaces_of(session, team_id="T1", enterprise_id=None))
    with session_scope(engine) as session:
        assert sorted(w.slack_team_id for _s, w in all_enabled(session)) == ["T1", "T2"]


def test_an_org_wide_lookup_finds_every_workspace_of_the_enterprise(engine: Engine) -> None:
    with session_scope(engine) as session:
        for team in ("T1", "T2"):
            session.add(Workspace(slack_team_id=team, enterprise_id="E1", name=team))
        session.add(Workspace(slack_team_id="T3", name="T3"))
    with session_scope(engine) as session:
        found = workspaces_of(session, team_id=None, enterprise_id="E1")
        assert sorted(w.slack_team_id for w in found) == ["T1", "T2"]
        assert workspaces_of(session, team_id=None, enterprise_id=None) == []


def test_a_held_lock_keeps_a_second_holder_waiting(engine: Engine) -> None:
    order: list[str] = []
    entered = threading.Event()

    def first() -> None:
        with held_lock(engine, "slack-bot:T1"):
            entered.set()
            time.sleep(0.2)
            order.append("first done")

    thread = threading.Thread(target=first)
    thread.start()
    entered.wait(5)
    with held_lock(engine, "slack-bot:T1"):
        order.append("second in")
    thread.join()
    assert order == ["first done", "second in"]
    assert lock_key("a") == lock_key("a") != lock_key("b")
