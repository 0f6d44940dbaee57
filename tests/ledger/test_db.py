"""SQLite connections are configured for a ledger: WAL, durable commits, foreign keys."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select

from ledger.db import SQLITE_WAL_AUTOCHECKPOINT_PAGES, make_engine, normalise_url, session_scope


def test_every_sqlite_connection_gets_the_ledger_pragmas(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    try:
        with engine.connect() as connection:

            def pragma(name: str) -> object:
                return connection.exec_driver_sql(f"PRAGMA {name}").scalar()

            assert pragma("journal_mode") == "wal"
            assert pragma("synchronous") == 1  # NORMAL: no fsync per commit in WAL mode
            assert pragma("foreign_keys") == 1
            assert pragma("wal_autocheckpoint") == SQLITE_WAL_AUTOCHECKPOINT_PAGES
            assert pragma("journal_size_limit") == 64 * 1024 * 1024
            assert pragma("busy_timeout") == 30_000
    finally:
        engine.dispose()


def test_postgres_urls_are_driven_through_psycopg() -> None:
    assert normalise_url("postgres://u:p@db/x") == "postgresql+psycopg://u:p@db/x"
    assert normalise_url("postgresql://db/x") == "postgresql+psycopg://db/x"
    assert normalise_url("sqlite:///ledger.db") == "sqlite:///ledger.db"


def test_a_sync_that_hits_a_database_error_logs_and_stores_no_row_values(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """PostgreSQL's DETAIL and SQLAlchemy's parameters quote the values of the failing row:
    neither may reach the log, the run's error or the connection's status."""
    from ledger import sync
    from ledger.models import Connection, SyncRun, Workspace
    from tests.ledger.support import make_team

    team = make_team(engine)
    secret_email = "someone.private@example.com"

    def duplicate_row(session: Any, **_: Any) -> None:
        for _attempt in range(2):
            session.execute(
                insert(Workspace).values(slack_team_id="TX", enterprise_id=secret_email)
            )

    monkeypatch.setattr(sync, "ingest_events", duplicate_row)
    with caplog.at_level(logging.DEBUG):
        outcome = team.sync()
    assert not outcome.ok and "internal error (IntegrityError)" in (outcome.error or "")
    assert "hit an internal error IntegrityError" in caplog.text  # with its frames
    assert secret_email not in caplog.text
    with session_scope(engine) as session:
        (run,) = session.execute(select(SyncRun)).scalars()
        connection = session.get(Connection, team.connection_id)
        assert connection is not None and connection.status == "failing"
        assert secret_email not in f"{run.error} {connection.last_error}"
