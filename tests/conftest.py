"""Shared fixtures: real databases (SQLite files, PostgreSQL when it answers), a clean env."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import sqlalchemy
from sqlalchemy import Engine

from ledger import migrate
from ledger.db import make_engine

POSTGRES_URL = os.environ.get(
    "STACKSPEND_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def postgres_unavailable_reason() -> str | None:
    """None when the test PostgreSQL server answers, else why it is skipped."""
    try:
        engine = sqlalchemy.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        engine.dispose()
    except Exception as exc:  # any failure to connect means: skip, saying why
        return (
            f"no PostgreSQL answers at {POSTGRES_URL} ({type(exc).__name__}); "
            "start one or point STACKSPEND_TEST_POSTGRES_URL at one"
        )
    return None


_PG_REASON: list[str | None] = []


def _require_postgres() -> None:
    if not _PG_REASON:
        _PG_REASON.append(postgres_unavailable_reason())
    if _PG_REASON[0] is not None:
        pytest.skip(_PG_REASON[0])


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No STACKSPEND_/SLACK_ settings leak in from the machine running the tests."""
    for name in list(os.environ):
        if name.startswith(("STACKSPEND_", "SLACK_")) and name != "STACKSPEND_TEST_POSTGRES_URL":
            monkeypatch.delenv(name)


@pytest.fixture
def postgres_schema_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    _require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{separator}options={quote(f'-csearch_path={schema}')}"
    with admin.begin() as connection:
        connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated, empty database: a SQLite file, then the same on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'ledger.db'}"
    else:
        url = request.getfixturevalue("postgres_schema_url")
    migrate.upgrade(url)
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'ledger.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()
