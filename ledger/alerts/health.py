"""Connection health: revoked keys, syncs failing for hours, history about to be lost.

``health_facts`` is pure: from a connection and the time, the health alerts that
are due (dedupe key and facts) and the causes that are settled (their live alerts
are resolved by the caller).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ledger.models import Connection, ConnectionStatus, HealthCause

#: Causes as they appear in dedupe keys (``health:{connection_id}:{cause}:{day}``).
CAUSES = ("revoked", "failing", "stale")
#: The provider's last error is kept up to this many characters.
ERROR_CHARS = 300


@dataclass(frozen=True)
class HealthCheck:
    connection: Connection
    now: datetime
    tz: ZoneInfo
    failing_hours: int
    retention_days: int

    @property
    def prefix(self) -> str:
        return f"health:{self.connection.id}:"

    def key(self, cause: str, since: datetime) -> str:
        return f"{self.prefix}{cause}:{since.astimezone(self.tz).date().isoformat()}"

    def facts(self, cause: HealthCause, since: datetime, **more: Any) -> dict[str, Any]:
        connection = self.connection
        return {
            "subject": connection.key_hint,
            "provider": connection.provider,
            "cause": cause.value,
            "since": since,
            **more,
        }


def _revoked(check: HealthCheck) -> tuple[str, dict[str, Any]] | None:
    connection = check.connection
    if connection.status != ConnectionStatus.REVOKED:
        return None
    since = connection.failing_since or connection.connected_at
    return check.key("revoked", since), check.facts(HealthCause.REVOKED, since)


def _failing(check: HealthCheck) -> tuple[str, dict[str, Any]] | None:
    connection, since = check.connection, check.connection.failing_since
    if connection.status != ConnectionStatus.FAILING or since is None:
        return None
    if check.now - since <= timedelta(hours=check.failing_hours):
        return None
    error = (connection.last_error or "")[:ERROR_CHARS] or None
    return check.key("failing", since), check.facts(HealthCause.FAILING, since, error=error)


def _stale(check: HealthCheck) -> tuple[str, dict[str, Any]] | None:
    connection = check.connection
    last = connection.last_success_at or connection.connected_at
    if check.now - last <= timedelta(days=check.retention_days - 1):
        return None
    cause = HealthCause.STALE if connection.last_success_at else HealthCause.NEVER_SYNCED
    facts = check.facts(cause, last, retention_days=check.retention_days)
    return check.key("stale", last), facts


def health_facts(check: HealthCheck) -> tuple[list[tuple[str, dict[str, Any]]], list[str]]:
    """(key, facts) of the health alerts due; and the causes settled, to resolve."""
    status = check.connection.status
    if status == ConnectionStatus.DISCONNECTED:
        return [], list(CAUSES)
    due: list[tuple[str, dict[str, Any]]] = []
    settled: list[str] = []
    for cause, rule in (("revoked", _revoked), ("failing", _failing), ("stale", _stale)):
        found = rule(check)
        if found is not None:
            due.append(found)
        elif cause != "failing" or status != ConnectionStatus.FAILING:
            settled.append(cause)
    return due, settled
