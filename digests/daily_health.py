"""What the daily digest says before any figure: connection trouble, stale data, freshness.

A revoked, failing or disconnected connection, or data older than ``STALE_AFTER``, is
said first, in every rendering.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from digests.daily_types import HealthNote, Level
from digests.daily_words import ago, short_date
from digests.format import local_time
from digests.freshness_words import data_as_of
from digests.history_words import history_words
from ledger.digest_data import DigestInputs
from ledger.models import ConnectionStatus

#: Data synced longer ago than this is called stale, first thing in the digest.
STALE_AFTER = timedelta(hours=26)
#: A provider error is quoted up to this many characters.
ERROR_CHARS = 200


def health_notes(inputs: DigestInputs, name: str) -> tuple[HealthNote, ...]:
    """Connection trouble first, then missing or stale data (empty: all is well)."""
    notes = (_connection_note(inputs, name), _sync_note(inputs, name))
    return tuple(note for note in notes if note is not None)


def _until(inputs: DigestInputs) -> str:
    if inputs.as_of:
        return f"figures stop at {local_time(inputs.as_of, inputs.timezone)}"
    return "no data has been synced"


def _connection_note(inputs: DigestInputs, name: str) -> HealthNote | None:
    status, until = inputs.connection_status, _until(inputs)
    reconnect = f"An admin can reconnect with `/spend {inputs.provider} connect`."
    if status == ConnectionStatus.REVOKED:
        text = f"The {name} key was revoked or lost its admin rights: {until}. {reconnect}"
        return HealthNote(Level.ERROR, text)
    if status == ConnectionStatus.FAILING:
        return HealthNote(Level.ERROR, _failing_text(inputs, name, until))
    if status == ConnectionStatus.DISCONNECTED:
        return HealthNote(Level.WARNING, f"{name} is disconnected: {until}. {reconnect}")
    return None


def _failing_text(inputs: DigestInputs, name: str, until: str) -> str:
    since = ""
    if inputs.failing_since:
        since = f" since {local_time(inputs.failing_since, inputs.timezone)}"
    error = " ".join((inputs.last_error or "unknown error").split())
    if len(error) > ERROR_CHARS:
        error = error[: ERROR_CHARS - 1] + "…"
    return f"Syncing {name} is failing{since} ({error}); {until}. It is retried on schedule."


def _sync_note(inputs: DigestInputs, name: str) -> HealthNote | None:
    if inputs.as_of is None:
        if inputs.connection_status == ConnectionStatus.ACTIVE:
            return HealthNote(Level.WARNING, f"No {name} data has been synced yet.")
        return None
    age = inputs.now - inputs.as_of
    if age <= STALE_AFTER:
        return None
    synced = local_time(inputs.as_of, inputs.timezone)
    return HealthNote(Level.WARNING, f"{name} data is {ago(age)} old (synced up to {synced}).")


def freshness(inputs: DigestInputs) -> str:
    """ "Data as of …" with the last sync, the history's start and the timezone, plain text."""
    tz = inputs.timezone
    parts = [data_as_of(inputs.as_of, tz, inputs.today)]
    midnight = datetime.combine(inputs.today, time(), ZoneInfo(tz))
    if inputs.as_of is not None and inputs.as_of < midnight:
        parts[0] += f" ({short_date(inputs.yesterday)} may be incomplete)"
    parts.append(f"last successful sync {local_time(inputs.last_success_at, tz)}")
    history = history_words(inputs.history, inputs.history_start, tz)
    if history:
        parts.append(history)
    parts.append(f"times in {tz}")
    return " · ".join(parts)
