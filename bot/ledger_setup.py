"""The ledger side, from settings: the engine, how to reach Cursor, sync options.

Light on purpose: the CLI's ``connect``, ``sync`` and ``report`` need only this, and start
without loading Slack's SDK or the scheduler; the Cursor client (httpx) loads with the
first verb that reaches Cursor, not with a ``report``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from bot.settings import DATABASE_UNREACHABLE, Settings, SettingsError, database_error
from ledger import schema
from ledger.db import DatabaseUrlError, make_engine

if TYPE_CHECKING:
    from connectors.cursor.access import CursorAccess
    from ledger.sync import SyncOptions


def ledger_engine(settings: Settings, *, require_current: bool = True) -> Engine:
    """The engine, refusing to run against a database that is not migrated to head.

    A URL that cannot be used, or (with ``require_current``) a database that cannot
    be reached or opened, is a ``SettingsError`` naming STACKSPEND_DATABASE_URL.
    """
    try:
        engine = make_engine(settings.database_url)
    except DatabaseUrlError as exc:
        raise database_error(exc) from None
    if not require_current:
        return engine
    try:
        current = schema.is_up_to_date(engine)
    except DATABASE_UNREACHABLE as exc:
        engine.dispose()
        raise database_error(exc, settings.database_url) from None
    if not current:
        engine.dispose()
        raise SettingsError(
            "The database is not migrated to the current schema: run `stackspend db upgrade` first."
        )
    return engine


def cursor_access(settings: Settings) -> CursorAccess:
    from connectors.cursor.access import CursorAccess
    from connectors.cursor.client import ClientOptions

    return CursorAccess(ClientOptions(base_url=settings.cursor_base_url))


def sync_options(settings: Settings) -> SyncOptions:
    from ledger.sync import SyncOptions  # with the Cursor client: see cursor_access

    return SyncOptions(
        overlap=timedelta(hours=settings.sync_overlap_hours),
        light_overlap=timedelta(hours=settings.sync_light_overlap_hours),
        lease_ttl=timedelta(seconds=settings.sync_lease_seconds),
    )
