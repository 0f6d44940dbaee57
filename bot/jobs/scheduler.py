"""APScheduler 3 jobs, derived from the database: digests at local times, syncs, alerts.

The database is the source of truth and ``Scheduler.reconcile`` the one place that
derives jobs from it: one sync job per connection that can sync, one cron job per
enabled digest schedule. It runs at start-up, after every change a listener makes
(connect, disconnect, digest and settings changes) and every few minutes, so no code
path can leave a connection without its sync. Jobs live in memory, so a digest that
fell due while the process was down is found by ``catch_up`` at start-up (and every
few minutes).

Every replica runs this same clock, and the database shares the work out, unit by unit:

- a connection's sync: the sync lease (``ledger.lease``) lets one replica sync it at a
  time, and a scheduled sync checks under the lease that no sync finished since it fell
  due (``SyncNotDue``), so the replicas whose jobs fire a moment later do nothing. The
  sweep (``syncs:sweep``, every ``sync_sweep``) syncs any connection whose last sync is
  an interval old, or whose running sync lost its process (its lease expired): another
  replica then takes the lease over and resumes the sync where it stopped;
- a digest: its delivery row (``ledger.deliveries``), claimed before it is posted;
- a personal line: its delivery row too; one due-check a minute (``personal:due``) finds
  the lines due in each person's timezone (``bot.usecases.personal_delivery``);
- a workspace's alert evaluation and reminders: a work claim (``ledger.claims``).
"""

from __future__ import annotations

import logging
import random
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.jobs.due import cron_fields
from bot.log_context import job_scope
from bot.services import AlertRunner, CoreServices
from bot.usecases.digest_delivery import DigestSender
from bot.usecases.digest_preview import enabled_digests
from bot.usecases.personal_delivery import PersonalSender
from bot.usecases.syncs import sync_for_bot, syncable_connections, workspace_of
from digests.chart import warm_up
from ledger.errors import SyncAlreadyRunning, SyncNotDue
from ledger.lease import orphaned_syncs, wall_clock
from ledger.metrics import record_claim
from ledger.models import DigestSchedule, SyncTrigger

logger = logging.getLogger(__name__)

#: How often jobs are derived again from the database (schedules and connections changed
#: through another replica) and digests that fell due unseen are sent.
RECONCILE_EVERY = timedelta(minutes=5)
ALERTS_EVERY = timedelta(hours=1)
SYNC_SWEEP_EVERY = timedelta(minutes=1)
MIN_SYNC_INTERVAL = timedelta(hours=1)
#: A sync that started this much less than an interval ago still counts for the interval
#: (replicas' jobs for one connection fire at about the same moment, never exactly).
DUE_TOLERANCE = timedelta(minutes=5)
#: An evaluation after a sync that found another one going is asked for again this
#: much later, this many times: together longer than an evaluation's claim can last.
ALERT_RETRY_AFTER = timedelta(seconds=30)
ALERT_RETRIES = 12
ALERT_RETRY_JOB = "alerts:retry:"
FIXED_JOBS = ("digests:catch-up", "alerts:evaluate", "jobs:reconcile", "syncs:sweep")
#: Personal lines: one due-check a minute sends whoever is due (``bot.usecases.personal_delivery``).
PERSONAL_JOB = "personal:due"
PERSONAL_EVERY = timedelta(minutes=1)


def sync_due(last_start: datetime | None, now: datetime, interval: timedelta) -> bool:
    """Whether a connection whose last sync (finished or running) started then is due."""
    return last_start is None or now - last_start >= interval


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
        sync_sweep: timedelta = SYNC_SWEEP_EVERY,
        reconcile_every: timedelta = RECONCILE_EVERY,
        scheduler: BackgroundScheduler | None = None,
        personal: PersonalSender | None = None,
    ) -> None:
        self.services = services
        self.personal = personal
        self.sender = sender
        self.alerts = alerts
        self.sync_interval = max(sync_interval, MIN_SYNC_INTERVAL)
        self.sync_sweep = sync_sweep
        self.reconcile_every = reconcile_every
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
            ("digests:catch-up", self.sender.catch_up, self.reconcile_every),
            ("alerts:evaluate", self.alerts.run, ALERTS_EVERY),
            ("jobs:reconcile", self.reconcile, self.reconcile_every),
            ("syncs:sweep", self.sweep_syncs, self.sync_sweep),
        ):
            self.apscheduler.add_job(
                job,
                IntervalTrigger(seconds=int(every.total_seconds())),
                id=job_id,
                replace_existing=True,
                next_run_time=now
                if job_id in ("digests:catch-up", "alerts:evaluate")
                else now + every,
            )
        if self.personal is not None:
            self.apscheduler.add_job(
                self.personal.run_due,
                IntervalTrigger(seconds=int(PERSONAL_EVERY.total_seconds())),
                id=PERSONAL_JOB,
                replace_existing=True,
                next_run_time=now,
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
            wanted = {*FIXED_JOBS, PERSONAL_JOB}
            for schedule, timezone in enabled:
                wanted.add(self._ensure_digest_job(schedule, timezone))
            now = self.services.clock()
            for connection_id, latest_run in connections.items():
                wanted.add(self._ensure_sync_job(connection_id, latest_run, now))
            for job in self.apscheduler.get_jobs():
                if job.id not in wanted and not job.id.startswith(ALERT_RETRY_JOB):
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

    def sweep_syncs(self) -> None:
        """Sync, one after another, the connections whose last finished sync is an interval
        old: those whose replica died mid-sync (once its lease expired) or missed its turn.
        Replicas go through them in different orders, so that several share a backlog."""
        now = self.services.clock()
        orphaned = orphaned_syncs(self.services.engine, wall_clock())  # leases: wall clock
        due = [
            connection_id
            for connection_id, last in syncable_connections(self.services.engine).items()
            if connection_id in orphaned or sync_due(last, now, self.sync_interval)
        ]
        random.shuffle(due)
        for connection_id in due:
            if self.services.stopping.is_set():
                return
            self.sync_connection(connection_id)

    def sync_connection(self, connection_id: int) -> None:
        """The scheduled sync of a connection, unless another replica is doing or did it."""
        with job_scope(f"sync:{connection_id}", connection_id=connection_id):
            self._sync_connection(connection_id)

    def _sync_connection(self, connection_id: int) -> None:
        if self.services.stopping.is_set():  # the process is on its way out
            return
        workspace_id = workspace_of(self.services.engine, connection_id, syncable=True)
        if workspace_id is None:
            return
        now = self.services.clock()
        try:
            outcome = sync_for_bot(
                self.services,
                connection_id,
                trigger=SyncTrigger.SCHEDULE,
                now=now,
                unless_synced_since=now - self.sync_interval + DUE_TOLERANCE,
            )
        except SyncAlreadyRunning as exc:
            record_claim("sync", "busy")
            logger.info(
                "scheduled sync of connection %s skipped: a %s sync has run since %s",
                connection_id,
                exc.trigger,
                exc.since.isoformat(timespec="seconds"),
            )
            return
        except SyncNotDue as exc:
            record_claim("sync", "done")
            logger.info(
                "scheduled sync of connection %s skipped: synced at %s",
                connection_id,
                exc.last_started.isoformat(timespec="seconds"),
            )
            return
        record_claim("sync", "claimed")
        logger.info("scheduled sync of connection %s: %s", connection_id, outcome.summary())
        if outcome.ok:
            self.evaluate_alerts(workspace_id)

    def evaluate_alerts(self, workspace_id: int, attempts_left: int = ALERT_RETRIES) -> None:
        """Evaluate a workspace's budgets on its new data. When an evaluation started
        elsewhere is still going after the wait (it may have read the data from before),
        ask again a little later, until that one's claim would have expired."""
        if self.alerts.run_workspace(workspace_id) is not None or attempts_left <= 0:
            return
        logger.info("alert evaluation of workspace %s is busy elsewhere: retrying", workspace_id)
        self.apscheduler.add_job(
            self.evaluate_alerts,
            DateTrigger(self.services.clock() + ALERT_RETRY_AFTER),
            args=[workspace_id, attempts_left - 1],
            id=f"{ALERT_RETRY_JOB}{workspace_id}",
            replace_existing=True,
        )
