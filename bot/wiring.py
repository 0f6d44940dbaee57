"""Builds the long-lived parts from settings: engine, cipher, Cursor sources."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
from sqlalchemy import Engine

from bot.services import BotServices
from bot.settings import DATABASE_UNREACHABLE, Settings, SettingsError, database_error
from connectors.cursor.client import ClientOptions, CursorAdminClient
from connectors.cursor.source import CursorSource
from ledger import migrate
from ledger.alerts.evaluate import AlertSettings
from ledger.db import DatabaseUrlError, make_engine
from ledger.sync import SourceFactory, SyncOptions


@dataclass
class CursorAccess:
    """How to reach Cursor: options for every client, and an optional test transport."""

    options: ClientOptions
    transport: httpx.BaseTransport | None = None
    events_page_size: int = 1000
    clients: list[CursorAdminClient] = field(default_factory=list)

    def client(self, api_key: str) -> CursorAdminClient:
        client = CursorAdminClient(api_key, self.options, transport=self.transport)
        self.clients.append(client)
        return client

    def source(self, api_key: str) -> CursorSource:
        return CursorSource(self.client(api_key), events_page_size=self.events_page_size)

    def source_factory(self) -> SourceFactory:
        return self.source

    def close(self) -> None:
        for client in self.clients:
            client.close()
        self.clients.clear()


def cursor_access(settings: Settings, transport: httpx.BaseTransport | None = None) -> CursorAccess:
    return CursorAccess(ClientOptions(base_url=settings.cursor_base_url), transport)


def sync_options(settings: Settings) -> SyncOptions:
    return SyncOptions(
        overlap=timedelta(hours=settings.sync_overlap_hours),
        lease_ttl=timedelta(seconds=settings.sync_lease_seconds),
    )


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
        current = migrate.is_up_to_date(engine)
    except DATABASE_UNREACHABLE as exc:
        engine.dispose()
        raise database_error(exc, settings.database_url) from None
    if not current:
        engine.dispose()
        raise SettingsError(
            "The database is not migrated to the current schema: run `stackspend db upgrade` first."
        )
    return engine


def chart_pool() -> ProcessPoolExecutor:
    """Processes for drawing charts, so that a burst of digests uses every core.

    Started with ``spawn``: forking a process that already runs threads is unsafe.
    """
    from digests.chart import warm_up  # matplotlib: loaded only by processes that draw

    workers = max(1, os.cpu_count() or 1)
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
    for _ in range(workers):
        pool.submit(warm_up)
    return pool


#: The key check in the connect modal must answer within Slack's three seconds.
KEY_CHECK_TIMEOUT_SECONDS = 2.0


def bot_services(settings: Settings, engine: Engine) -> BotServices:
    def check_access() -> CursorAccess:
        options = ClientOptions(
            base_url=settings.cursor_base_url,
            timeout_seconds=KEY_CHECK_TIMEOUT_SECONDS,
            deadline_seconds=KEY_CHECK_TIMEOUT_SECONDS,  # a dripping server must not hold it
            budget_seconds=KEY_CHECK_TIMEOUT_SECONDS,
            max_attempts=1,
        )
        return CursorAccess(options)

    return BotServices(
        engine=engine,
        box=settings.secret_box(),
        cursor_access=lambda: cursor_access(settings),
        cursor_check_access=check_access,
        admin_user_ids=frozenset(settings.admin_user_ids),
        sync_options=sync_options(settings),
        alert_settings=AlertSettings(
            anomaly_factor=settings.anomaly_factor,
            anomaly_floor_cents=settings.anomaly_floor_dollars * 100,
            failing_hours=settings.failing_alert_hours,
            retention_days=settings.cursor_retention_days,
        ),
    )
