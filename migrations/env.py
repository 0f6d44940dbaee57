"""Alembic environment for the ledger tables.

The database is, in order: a connection in ``config.attributes["connection"]`` (used
as is, inside the caller's transaction), the ``sqlalchemy.url`` option set by the
caller, ``STACKSPEND_DATABASE_URL``, or ``sqlite:///stackspend.db``.
"""

from __future__ import annotations

from logging.config import fileConfig
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection
from sqlmodel.sql.sqltypes import AutoString

import ledger.models  # noqa: F401  (registers every table on SQLModel.metadata)
from ledger.migrate import (
    SKIP_LOGGING_CONFIG,
    locked_transaction,
    migration_engine,
    resolve_url,
    target_metadata,
)
from ledger.types import EnumString, Money, UTCDateTime

config = context.config

# Configure logging from alembic.ini only for the `alembic` command line: inside the
# app, the app's logging stays as it is.
_programmatic = SKIP_LOGGING_CONFIG in config.attributes or "connection" in config.attributes
if config.config_file_name is not None and not _programmatic:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Render the project's column types so that generated revisions import and run."""
    if type_ != "type":
        return False
    if isinstance(obj, Money | UTCDateTime):
        autogen_context.imports.add("import ledger.types")
        return f"ledger.types.{type(obj).__name__}()"
    if isinstance(obj, EnumString):
        return f"sa.String(length={obj.length})"
    if isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    return False


def _configure(**kwargs: Any) -> None:
    context.configure(
        target_metadata=target_metadata(),
        render_as_batch=True,
        compare_type=True,
        render_item=render_item,
        **kwargs,
    )


def run_migrations_offline() -> None:
    """Emit SQL to stdout (``alembic upgrade --sql``) instead of running it."""
    _configure(
        url=resolve_url(config.get_main_option("sqlalchemy.url")),
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run against the given connection, or open one under the migration lock."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = migration_engine(resolve_url(config.get_main_option("sqlalchemy.url")))
    try:
        with locked_transaction(engine) as own_connection:
            _run(own_connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
