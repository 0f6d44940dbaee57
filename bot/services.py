"""What listeners need, built once at start-up and passed to every listener."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import Engine

from bot.directory import SlackDirectory
from bot.report_cache import ReportCache
from ledger.alerts.evaluate import AlertSettings
from ledger.secrets import SecretBox
from ledger.sync import SyncOptions

if TYPE_CHECKING:  # wiring builds the services, so it imports this module
    from bot.wiring import CursorAccess


def utc_now() -> datetime:
    return datetime.now(UTC)


#: Threads answering commands after their acknowledgement. Few on purpose: answers are
#: CPU-bound, and a small pool keeps the acknowledgement threads from waiting for the GIL.
WORKERS = 4


def work_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="answer")


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


@dataclass
class BotServices:
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
    #: The scheduler: told after every change to connections, schedules or settings.
    jobs: JobControl = field(default_factory=NoScheduler)
    #: Set when the process is stopping: syncs end after the page they are committing.
    stopping: threading.Event = field(default_factory=threading.Event)
    #: Evaluate budgets and send alerts for a workspace (after a sync or a budget change).
    evaluate_alerts: Callable[[int], None] = lambda _workspace_id: None
