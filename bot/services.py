"""What listeners, use cases and jobs share, built once at start-up by ``bot.assembly``."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import Engine

from bot.slack.directory import SlackDirectory
from bot.usecases.refresh import RefreshPool
from bot.usecases.report_cache import ReportCache
from connectors.cursor.access import CursorAccess
from ledger.alerts.evaluate import AlertSettings
from ledger.models import DigestSchedule, Workspace
from ledger.secrets import SecretBox
from ledger.sync import SyncOptions


def utc_now() -> datetime:
    return datetime.now(UTC)


#: Threads answering commands after their acknowledgement. Few on purpose: answers are
#: CPU-bound, and a small pool keeps the acknowledgement threads from waiting for the GIL.
WORKERS = 4


def work_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="answer")


def import_pool() -> ThreadPoolExecutor:
    """One import at a time, beside the answers: a large import never holds up ``/spend``,
    and uploads made together are imported one after another."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="import")


class JobControl(Protocol):
    """The process's scheduler, as listeners see it."""

    @property
    def running(self) -> bool: ...

    def reconcile(self) -> None:
        """Make the scheduled jobs match the database (after any change to what is scheduled)."""

    def next_sync_at(self, connection_id: int) -> datetime | None:
        """When the scheduler will next sync the connection; None if it has no such job."""


class NoScheduler:
    """For processes that run no scheduler (the CLI): nothing is scheduled here."""

    running = False

    def reconcile(self) -> None:
        return None

    def next_sync_at(self, connection_id: int) -> datetime | None:
        return None


class AlertRunner(Protocol):
    """Evaluates budgets and anomalies and sends what they raise (one workspace, or all)."""

    def run(self, *, workspace_id: int | None = None) -> object: ...

    def run_workspace(self, workspace_id: int) -> int | None:
        """One workspace now; None when another replica's evaluation is still going."""
        ...


class DigestSending(Protocol):
    """Posts a digest now, outside its schedule (``bot.usecases.digest_delivery``)."""

    def send_now(self, schedule: DigestSchedule, workspace: Workspace, *, now: datetime) -> str:
        """The delivery's outcome (``DeliveryOutcome``: ``sent``, ``failed``, …)."""


@dataclass(kw_only=True)
class CoreServices:
    """What every part of the bot shares: the ledger, Cursor, the clock, caches and pools.

    Built by ``bot.assembly`` alone. The parts that act on a schedule (digest sender, alert
    notifier, scheduler) take these; listeners and use cases take ``BotServices``.
    """

    engine: Engine
    box: SecretBox
    #: A fresh way to reach Cursor for each use (clients are closed after it).
    cursor_access: Callable[[], CursorAccess]
    #: A fast, single-attempt client for checking a key while Slack waits (3-second rule).
    cursor_check_access: Callable[[], CursorAccess]
    admin_user_ids: frozenset[str] = frozenset()
    sync_options: SyncOptions = field(default_factory=SyncOptions)
    #: A person may ask for a sync at most this often.
    manual_sync_interval: timedelta = timedelta(hours=1)
    directory: SlackDirectory = field(default_factory=SlackDirectory)
    clock: Callable[[], datetime] = utc_now
    alert_settings: AlertSettings = field(default_factory=AlertSettings)
    #: Where charts are drawn (CPU-bound: a process pool in production); None draws inline.
    chart_pool: Executor | None = None
    #: Reports reused while their data has not changed.
    reports: ReportCache = field(default_factory=ReportCache)
    #: Where answers are computed once a request has been acknowledged.
    workers: ThreadPoolExecutor = field(default_factory=work_pool)
    #: Where uploaded usage exports are downloaded and imported, one at a time.
    imports: ThreadPoolExecutor = field(default_factory=import_pool)
    #: The largest usage export downloaded from Slack for an import (checked before and
    #: while downloading).
    import_max_bytes: int = 200 * 1024 * 1024
    #: Set when the process is stopping: syncs end after the page they are committing.
    stopping: threading.Event = field(default_factory=threading.Event)
    #: Light syncs that questions about today ask for when the data is an hour old.
    refreshes: RefreshPool = field(default_factory=RefreshPool)


@dataclass(kw_only=True)
class BotServices(CoreServices):
    """The core, with the scheduler and the alert sender that listeners and use cases tell."""

    #: The scheduler (``NoScheduler`` in a process without one): told after every change to
    #: connections, schedules or settings.
    jobs: JobControl
    #: Evaluates budgets and sends alerts (after a sync or a budget change).
    alerts: AlertRunner
    #: Posts digests asked for now (`/spend digest send`).
    digests: DigestSending

    @classmethod
    def around(
        cls, core: CoreServices, *, jobs: JobControl, alerts: AlertRunner, digests: DigestSending
    ) -> BotServices:
        shared = {spec.name: getattr(core, spec.name) for spec in fields(CoreServices)}
        return cls(**shared, jobs=jobs, alerts=alerts, digests=digests)

    def evaluate_alerts(self, workspace_id: int) -> None:
        self.alerts.run(workspace_id=workspace_id)
