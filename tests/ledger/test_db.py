"""SQLite connections are configured for a ledger: WAL, durable commits, foreign keys."""

from __future__ import annotations

from pathlib import Path

from ledger.db import SQLITE_WAL_AUTOCHECKPOINT_PAGES, make_engine, normalise_url


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
