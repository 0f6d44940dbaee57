"""Schema migrations (Alembic): upgrade, downgrade, and checks used by the CLI and at start-up.

``alembic.ini`` and ``migrations/`` are found next to this package, never through the
working directory. Migrations run in one transaction: on PostgreSQL under an advisory
lock, on SQLite under ``BEGIN IMMEDIATE``, so two processes never migrate at once.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData, create_engine, event, pool, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

import ledger.models  # noqa: F401  (registers every table on SQLModel.metadata)
from ledger.db import SQLITE_BUSY_TIMEOUT_SECONDS, normalise_url
from ledger.schema import SCRIPT_LOCATION
from ledger.slack_tables import slack_store_metadata

#: Used when neither the caller nor STACKSPEND_DATABASE_URL names a database.
DEFAULT_DATABASE_URL = "sqlite:///stackspend.db"
DATABASE_URL_ENV = "STACKSPEND_DATABASE_URL"

#: ``pg_advisory_xact_lock`` key held while migrating (the bytes of "stackspd").
MIGRATION_LOCK_ID = int.from_bytes(b"stackspd", "big")

#: Options given to every MigrationContext; ``migrations/env.py`` uses the same.
CONTEXT_OPTIONS: dict[str, Any] = {"render_as_batch": True, "compare_type": True}


def target_metadata() -> list[MetaData]:
    """What the migrations build: the ledger's tables and slack_sdk's store tables."""
    return [SQLModel.metadata, slack_store_metadata()]


#: ``config.attributes`` flag: skip ``logging.config.fileConfig`` in env.py.
SKIP_LOGGING_CONFIG = "skip_logging_config"

_PROJECT_ROOT = Path(__file__).resolve().parent.parent
_INI_PATH = _PROJECT_ROOT / "alembic.ini"


class MigrationError(Exception):
    """The migration scripts are missing or inconsistent; the message says what to do."""


def resolve_url(configured: str | None = None) -> str:
    """The configured URL, else ``STACKSPEND_DATABASE_URL``, else the SQLite default."""
    url = configured or os.environ.get(DATABASE_URL_ENV) or DEFAULT_DATABASE_URL
    return normalise_url(url)


def migration_engine(url: str) -> Engine:
    """An engine for migrating: no pool, and real transactions on SQLite."""
    url = normalise_url(url)
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(url, poolclass=pool.NullPool)
    engine = create_engine(
        url,
        poolclass=pool.NullPool,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
    )
    event.listen(engine, "connect", _sqlite_manual_transactions)
    event.listen(engine, "begin", _sqlite_begin_immediate)
    return engine


def _sqlite_manual_transactions(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy emit BEGIN itself (pysqlite would not wrap DDL in a transaction).
    dbapi_connection.isolation_level = None


def _sqlite_begin_immediate(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def locked_transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction that no other migrating process can run alongside."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID})
        yield connection


def alembic_config(url: str) -> Config:
    """The project's Alembic configuration, pointed at ``url``."""
    config = Config(str(_INI_PATH)) if _INI_PATH.is_file() else Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    # ConfigParser interpolates '%': escape it (URL-encoded passwords, options).
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    config.attributes[SKIP_LOGGING_CONFIG] = True
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` up to ``revision``."""
    _run_locked(url, lambda config: command.upgrade(config, revision))


def downgrade(url: str, revision: str) -> None:
    """Migrate the database at ``url`` down to ``revision`` (``"base"`` drops every table)."""
    _run_locked(url, lambda config: command.downgrade(config, revision))


def _run_locked(url: str, run: Callable[[Config], None]) -> None:
    engine = migration_engine(url)
    try:
        with locked_transaction(engine) as connection:
            config = alembic_config(url)
            config.attributes["connection"] = connection
            run(config)
    finally:
        engine.dispose()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    """The newest revision among the migration scripts."""
    heads = _script_directory().get_heads()
    if len(heads) != 1:
        raise MigrationError(
            f"Expected one head revision in {SCRIPT_LOCATION}, found {len(heads)}: "
            "merge the branches with `alembic merge heads`."
        )
    return heads[0]


def check_no_drift(url: str) -> list[Any]:
    """Differences between the models and the database; empty means no drift."""
    engine = create_engine(normalise_url(url), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts=CONTEXT_OPTIONS)
            diff: list[Any] = compare_metadata(context, target_metadata())  # type: ignore[arg-type]
            return diff
    finally:
        engine.dispose()


def _script_directory() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    return ScriptDirectory.from_config(config)
