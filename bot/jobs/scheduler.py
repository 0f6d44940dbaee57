"""APScheduler 3 jobs, derived from the database: digests at local times, syncs.

The database is the source of truth and ``Scheduler.reconcile`` the one place that
derives jobs from it: one sync job per connection that can sync, one cron job per
enabled digest schedule. It runs at start-up, after every change a listener makes
(connect, disconnect, digest and settings changes) and every few minutes, so no code
path can leave a connection without its sync. Jobs live in memory, so a digest that
fell due while the process was down is found by ``catch_up`` at start-up (and every
few minutes); the delivery table guarantees that nothing goes out twice, and the sync
lease (``ledger.lease``) that no connection is synced twice at once.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.jobs.due import cron_fields
from bot.services import AlertRunner, CoreServices
from bot.usecases.digest_delivery import DigestSender
from bot.usecases.digest_preview import enabled_digests
from bot.usecases.syncs import sync_for_bot, syncable_connections, workspace_of
from digests.chart import warm_up
from ledger.errors import SyncAlreadyRunning
from ledger.models import DigestSchedule, SyncTrigger

logger = logging.getLogger(__name__)

CATCH_UP_EVERY = timedelta(minutes=5)
RECONCILE_EVERY = timedelta(minutes=5)
MIN_SYNC_INTERVAL = timedelta(hours=1)
FIXED_JOBS = ("digests:catch-up", "alerts:evaluate", "jobs:reconcile")


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
        services: CoreServices,
        sender: DigestSender,
        *,
        alerts: AlertRunner,
        sync_interval: timedelta = timedelta(hours=24),
        scheduler: BackgroundScheduler | None = None,
    ) -> None:
        self.services = services
        self.sender = sender
        self.alerts = alerts
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
        self._lock = threading.Lock()
        #: What each digest job was built from, so that unchanged jobs are left alone.
        self._digest_shapes: dict[str, tuple[object, ...]] = {}

    @property
    def running(self) -> bool:
        return bool(self.apscheduler.running)

    def start(self) -> None:
        warm_up()  # load fonts once, not during the first digest
        self.apscheduler.start()
        self.reconcile()
        now = self.services.clock()
        for job_id, job, every in (
            ("digests:catch-up", self.sender.catch_up, CATCH_UP_EVERY),
            ("alerts:evaluate", self.alerts.run, timedelta(hours=1)),
            ("jobs:reconcile", self.reconcile, RECONCILE_EVERY),
        ):
            self.apscheduler.add_job(
                job,
                IntervalTrigger(seconds=int(every.total_seconds())),
                id=job_id,
                replace_existing=True,
                next_run_time=now if job_id != "jobs:reconcile" else now + every,
            )

    def shutdown(self) -> None:
        if self.apscheduler.running:
            self.apscheduler.shutdown(wait=False)

    def reconcile(self) -> None:
        """Make the jobs match the database: one per enabled schedule and syncable connection.

        Jobs whose definition is unchanged keep their next run time; new sync jobs run
        one interval after the connection's latest sync started (at once if it never did).
        """
        with self._lock:
            enabled = enabled_digests(self.services.engine)
            connections = syncable_connections(self.services.engine)
            wanted = set(FIXED_JOBS)
            for schedule, timezone in enabled:
                wanted.add(self._ensure_digest_job(schedule, timezone))
            now = self.services.clock()
            for connection_id, latest_run in connections.items():
                wanted.add(self._ensure_sync_job(connection_id, latest_run, now))
            for job in self.apscheduler.get_jobs():
                if job.id not in wanted:
                    job.remove()
                    self._digest_shapes.pop(job.id, None)

    def next_sync_at(self, connection_id: int) -> datetime | None:
        job = self.apscheduler.get_job(f"sync:{connection_id}")
        if job is None:
            return None
        moment = getattr(job, "next_run_time", None)
        if moment is None:  # a job added before the scheduler started has only its trigger
            moment = job.trigger.get_next_fire_time(None, self.services.clock())
        return moment if isinstance(moment, datetime) else None

    def _ensure_digest_job(self, schedule: DigestSchedule, timezone: str) -> str:
        job_id = f"digest:{schedule.id}"
        shape = (schedule.cadence, schedule.local_time, timezone, schedule.channel_id)
        if self._digest_shapes.get(job_id) != shape or self.apscheduler.get_job(job_id) is None:
            self.apscheduler.add_job(
                self.sender.deliver_due,
                digest_trigger(schedule, timezone),
                args=[schedule.id],
                id=job_id,
                name=f"digest {schedule.id} to {schedule.channel_id}",
                replace_existing=True,
            )
            self._digest_shapes[job_id] = shape
        return job_id

    def _ensure_sync_job(
        self, connection_id: int, latest_run: datetime | None, now: datetime
    ) -> str:
        job_id = f"sync:{connection_id}"
        if self.apscheduler.get_job(job_id) is None:
            first = now if latest_run is None else max(now, latest_run + self.sync_interval)
            self.apscheduler.add_job(
                self.sync_connection,
                IntervalTrigger(
                    seconds=int(self.sync_interval.total_seconds()),
                    start_date=first,
                    timezone=ZoneInfo("UTC"),
                ),
                args=[connection_id],
                id=job_id,
                name=f"sync connection {connection_id}",
                next_run_time=first,
            )
        return job_id

    def sync_connection(self, connection_id: int) -> None:
        if self.services.stopping.is_set():  # the process is on its way out
            return
        workspace_id = workspace_of(self.services.engine, connection_id, syncable=True)
        if workspace_id is None:
            return
        try:
            outcome = sync_for_bot(self.services, connection_id, trigger=SyncTrigger.SCHEDULE)
        except SyncAlreadyRunning as exc:
            logger.info(
                "scheduled sync of connection %s skipped: a %s sync has run since %s",
                connection_id,
                exc.trigger,
                exc.since.isoformat(timespec="seconds"),
            )
            return
        logger.info("scheduled sync of connection %s: %s", connection_id, outcome.summary())
        if outcome.ok:
            self.alerts.run(workspace_id=workspace_id)
