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
  time, and a scheduled sync checks under the lease that no sync of its kind finished
  since it fell due (``SyncNotDue``), so the replicas whose jobs fire a moment later do
  nothing. Each run is light or deep as ``bot.jobs.sync_plan`` decides (light hourly on
  the hour, deep once a day at a quiet local hour). The sweep (``syncs:sweep``, every
  ``sync_sweep``) syncs any connection that is due either kind (a missed deep sync is
  caught up so), or whose running sync lost its process (its lease expired): another
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
from bot.jobs.sync_plan import (
    DUE_TOLERANCE,
    LastSyncs,
    NextSyncs,
    SyncCadence,
    TickTrigger,
    cadence_notes,
    deep_moment,
    due_kind,
    first_tick,
    next_syncs,
)
from bot.log_context import job_scope
from bot.services import AlertRunner, CoreServices
from bot.usecases.digest_delivery import DigestSender
from bot.usecases.digest_preview import enabled_digests
from bot.usecases.personal_delivery import PersonalSender
from bot.usecases.sync_schedule import last_syncs
from bot.usecases.syncs import sync_for_bot, workspace_of
from digests.chart import warm_up
from ledger.alerts.pending import pending_evaluations
from ledger.errors import SyncAlreadyRunning, SyncNotDue
from ledger.lease import orphaned_syncs, wall_clock
from ledger.metrics import record_claim
from ledger.models import DigestSchedule, SyncKind, SyncTrigger

logger = logging.getLogger(__name__)

#: How often jobs are derived again from the database (schedules and connections changed
#: through another replica) and digests that fell due unseen are sent.
RECONCILE_EVERY = timedelta(minutes=5)
ALERTS_EVERY = timedelta(hours=1)
SYNC_SWEEP_EVERY = timedelta(minutes=1)
MIN_SYNC_INTERVAL = timedelta(hours=1)
#: An evaluation after a sync that found another one going is asked for again this
#: much later, this many times: together longer than an evaluation's claim can last.
ALERT_RETRY_AFTER = timedelta(seconds=30)
ALERT_RETRIES = 12
ALERT_RETRY_JOB = "alerts:retry:"
FIXED_JOBS = ("digests:catch-up", "alerts:evaluate", "jobs:reconcile", "syncs:sweep")
#: Personal lines: one due-check a minute sends whoever is due (``bot.usecases.personal_delivery``).
PERSONAL_JOB = "personal:due"
PERSONAL_EVERY = timedelta(minutes=1)


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
        sync_interval: timedelta = timedelta(hours=1),
        deep_hour: int = 3,
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
        self.cadence = SyncCadence(light_every=self.sync_interval, deep_hour=deep_hour)
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
        for note in cadence_notes(self.cadence):
            logger.info("%s", note)
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
        on the first tick an interval after the connection's latest sync started (at once if
        it never did or is overdue).
        """
        with self._lock:
            enabled = enabled_digests(self.services.engine)
            connections = {cid: last.any for cid, last in last_syncs(self.services.engine).items()}
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

    def next_syncs(self, connection_id: int) -> NextSyncs | None:
        """The next light and deep syncs of the connection, as its job will run them."""
        moment = self.next_sync_at(connection_id)
        last = last_syncs(self.services.engine, connection_id).get(connection_id)
        if moment is None or last is None:
            return None
        return next_syncs(moment, last, self.services.clock(), self.cadence)

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
            first = first_tick(latest_run, now, self.cadence)
            self.apscheduler.add_job(
                self.sync_connection,
                TickTrigger(self.sync_interval),
                args=[connection_id],
                id=job_id,
                name=f"sync connection {connection_id}",
                next_run_time=first,
            )
        return job_id

    def sweep_syncs(self) -> None:
        """Sync, one after another, the connections due a light or deep sync, or whose
        replica died mid-sync (once its lease expired): a turn missed is caught up here.
        Replicas go through them in different orders, so that several share a backlog.
        Then evaluate the budgets of workspaces whose newest data no evaluation has read."""
        now = self.services.clock()
        orphaned = orphaned_syncs(self.services.engine, wall_clock())  # leases: wall clock
        due = [
            connection_id
            for connection_id, last in last_syncs(self.services.engine).items()
            if connection_id in orphaned or due_kind(last, now, self.cadence) is not None
        ]
        random.shuffle(due)
        for connection_id in due:
            if self.services.stopping.is_set():
                return
            self.sync_connection(connection_id)
        # Syncs run for a digest, a personal line or a question are not followed by an
        # evaluation where they ran: their new data is evaluated here.
        for workspace_id in pending_evaluations(self.services.engine, self.services.clock()):
            if self.services.stopping.is_set():
                return
            self.evaluate_alerts(workspace_id)

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
        last = last_syncs(self.services.engine, connection_id).get(connection_id)
        kind, since = self._plan(last or LastSyncs(None, None), now)
        try:
            outcome = sync_for_bot(
                self.services,
                connection_id,
                trigger=SyncTrigger.SCHEDULE,
                now=now,
                unless_synced_since=since,
                kind=kind,
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

    def _plan(self, last: LastSyncs, now: datetime) -> tuple[SyncKind, datetime]:
        """The kind of sync to run now, and since when a finished one of that kind means
        another replica already did it (checked again under the lease). A job that finds
        nothing due still runs a light sync unless one ran within the interval: the
        lease-side check is the one that counts."""
        if due_kind(last, now, self.cadence) is SyncKind.DEEP:
            return SyncKind.DEEP, deep_moment(now, self.cadence, last.timezone) - DUE_TOLERANCE
        return SyncKind.LIGHT, now - self.sync_interval + DUE_TOLERANCE

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
