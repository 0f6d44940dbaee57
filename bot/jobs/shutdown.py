"""Leaving cleanly on SIGTERM: stop taking work, let syncs commit their page, release
leases and work claims."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from bot.jobs.scheduler import Scheduler
from bot.services import BotServices
from ledger.claims import release_held_by_this_process
from ledger.lease import leases_held_by_this_process, release_owned_by_this_process

logger = logging.getLogger(__name__)

#: How long running syncs get to commit the page in hand before the process leaves anyway
#: (a page commits in well under a second; a Cursor request in flight is abandoned).
SHUTDOWN_GRACE = timedelta(seconds=6)


def stop_gracefully(
    services: BotServices, scheduler: Scheduler, *, grace: timedelta = SHUTDOWN_GRACE
) -> None:
    """Stop the scheduler, give running syncs ``grace`` to stop, then drop what they held."""
    services.stopping.set()
    scheduler.shutdown()
    deadline = time.monotonic() + grace.total_seconds()
    try:
        while leases_held_by_this_process(services.engine) and time.monotonic() < deadline:
            time.sleep(0.1)
        released = release_owned_by_this_process(services.engine)
        release_held_by_this_process(services.engine)  # other replicas may take them now
    except Exception as exc:  # the database is gone: leases and claims expire on their own
        logger.warning("could not release sync leases at shutdown: %s", type(exc).__name__)
        return
    if released:
        logger.info("released %s sync lease(s) still held at shutdown", released)
