"""``GET /readyz``: may this replica take traffic? Each check is a callable; all must pass.

The checks ``serve`` wires (:func:`serve_checks`): the database answers, it is at the newest
migration, and the scheduler runs. A check that raises counts as failed. The answer is JSON
naming every check and which failed, never an error's text (it may quote a URL or a row).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, text

from ledger.schema import is_up_to_date

logger = logging.getLogger(__name__)

Check = Callable[[], bool]


@dataclass(frozen=True)
class Verdict:
    ready: bool
    checks: dict[str, bool]

    @property
    def status(self) -> str:
        return "200 OK" if self.ready else "503 Service Unavailable"

    def payload(self) -> dict[str, Any]:
        return {
            "ready": self.ready,
            "checks": {name: "ok" if ok else "failed" for name, ok in self.checks.items()},
            "failed": [name for name, ok in self.checks.items() if not ok],
        }


def _passes(name: str, check: Check) -> bool:
    try:
        return bool(check())
    except Exception as exc:
        logger.warning("readiness check %s failed: %s", name, type(exc).__name__)
        return False


def assess(checks: Mapping[str, Check]) -> Verdict:
    """Run every check (a failure does not skip the others)."""
    results = {name: _passes(name, check) for name, check in checks.items()}
    return Verdict(ready=all(results.values()), checks=results)


def database_answers(engine: Engine) -> Check:
    def check() -> bool:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True

    return check


def migrations_at_head(engine: Engine) -> Check:
    return lambda: is_up_to_date(engine)


def serve_checks(engine: Engine, scheduler_running: Callable[[], bool]) -> dict[str, Check]:
    """What ``stackspend serve`` must have to take traffic."""
    return {
        "database": database_answers(engine),
        "migrations": migrations_at_head(engine),
        "scheduler": scheduler_running,
    }
