"""APScheduler 3 jobs, rebuilt from the database: digests at local times, daily syncs.

The database is the source of truth. Jobs carry explicit ids and are replaced
whenever schedules change. Jobs live in memory, so a digest that fell due
while the process was down is found by ``catch_up`` at start-up (and every few
minutes); the delivery table guarantees that nothing goes out twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlmodel import select

from bot.digest_jobs import DigestSender
from bot.due import cron_fields
from bot.operations import sync_one
from bot.services import BotServices
from digests.chart import warm_up
from ledger import schedules
from ledger.db import session_scope
from ledger.models import Connection, ConnectionStatus, DigestSchedule

logger = logging.getLogger(__name__)

CATCH_UP_EVERY = timedelta(minutes=5)
MIN_SYNC_INTERVAL = timedelta(hours=1)


def digest_trigger(schedule: DigestSchedule, timezone: str) -> CronTrigger:
    return CronTrigger(
        day_of_week=cron_fields(schedule.cadence),
        hour=schedule.local_time.hour,
        minute=schedule.local_time.minute,
        timezone=ZoneInfo(timezone),
    )


class Scheduler:
    def __init__(
        self,
        services: BotServices,
        sender: DigestSender,
        *,
        sync_interval: timedelta = timedelta(hours=24),
        scheduler: BackgroundScheduler | None = None,
        evaluate_all: Callable[[], object] = lambda: None,
    ) -> None:
        self.services = services
        self.sender = sender
        self.evaluate_all = evaluate_all
        self.sync_interval = max(sync_interval, MIN_SYNC_INTERVAL)
        self.apscheduler = scheduler or BackgroundScheduler(
            timezone=ZoneInfo("UTC"),
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": int(sender.grace.total_seconds()),
            },
            executors={"default": {"type": "threadpool", "max_workers": 8}},
        )

    def start(self) -> None:
        warm_up()  # load fonts once, not during the first digest
        self.rebuild()
        self.apscheduler.start()
        self.apscheduler.add_job(
            self.sender.catch_up,
            IntervalTrigger(seconds=int(CATCH_UP_EVERY.total_seconds())),
            id="digests:catch-up",
            replace_existing=True,
            next_run_time=self.services.clock(),
        )
        self.apscheduler.add_job(
            self.evaluate_all,
            IntervalTrigger(hours=1),
            id="alerts:evaluate",
            replace_existing=True,
            next_run_time=self.services.clock(),
        )

    def shutdown(self) -> None:
        if self.apscheduler.running:
            self.apscheduler.shutdown(wait=False)

    def rebuild(self) -> None:
        """Make the jobs match the database: one per schedule and one per connection."""
        wanted: set[str] = {"digests:catch-up", "alerts:evaluate"}
        with session_scope(self.services.engine) as session:
            enabled = schedules.all_enabled(session)
            connections = session.exec(
                select(Connection).where(Connection.status != ConnectionStatus.DISCONNECTED)
            ).all()
        for schedule, workspace in enabled:
            job_id = f"digest:{schedule.id}"
            wanted.add(job_id)
            self.apscheduler.add_job(
                self.sender.deliver_due,
                digest_trigger(schedule, workspace.timezone),
                args=[schedule.id],
                id=job_id,
                name=f"digest {schedule.id} to {schedule.channel_id}",
                replace_existing=True,
            )
        now = self.services.clock()
        for connection in connections:
            job_id = f"sync:{connection.id}"
            wanted.add(job_id)
            self.apscheduler.add_job(
                self.sync_connection,
                IntervalTrigger(hours=self.sync_interval.total_seconds() / 3600),
                args=[connection.id],
                id=job_id,
                name=f"sync connection {connection.id}",
                replace_existing=True,
                next_run_time=self._next_sync(connection, now),
            )
        for job in self.apscheduler.get_jobs():
            if job.id not in wanted:
                job.remove()

    def _next_sync(self, connection: Connection, now: datetime) -> datetime:
        if connection.last_success_at is None:
            return now
        return max(now, connection.last_success_at + self.sync_interval)

    def sync_connection(self, connection_id: int) -> None:
        with session_scope(self.services.engine) as session:
            connection = session.get(Connection, connection_id)
            if connection is None or connection.status in (
                ConnectionStatus.DISCONNECTED,
                ConnectionStatus.REVOKED,
            ):
                return
            workspace_id = connection.workspace_id
        outcome = sync_one(
            self.services.engine,
            connection_id=connection_id,
            access=self.services.cursor_access(),
            box=self.services.box,
            now=self.services.clock(),
            trigger="schedule",
            options=self.services.sync_options,
        )
        logger.info("scheduled sync of connection %s: %s", connection_id, outcome.summary())
        if outcome.ok:
            self.services.evaluate_alerts(workspace_id)
