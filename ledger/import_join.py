"""The one rule joining imported history and the API's, per connection.

Instants from the connection's ``history_start`` (the oldest event the API had at the
first sync) on come from the API only; earlier instants from imports only. An import
skips rows at or after ``history_start`` (``ledger.imports``); an API sync that stores a
window where imported rows sit deletes them, and takes them out of the rollups, in the
same transaction as the page that replaces them (``replace_imported``, called by
``ledger.sync``). Both reads go through the partial index over imported rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from ledger.event_rows import EVENT_COLUMNS
from ledger.rollups import RollupDeltas
from ledger.types import stored_form

_AT = EVENT_COLUMNS.index("occurred_at")
_ID_CHUNK = 500

_IMPORTED_BETWEEN = text(
    f"SELECT id, {', '.join(EVENT_COLUMNS)} FROM usage_event"
    " WHERE connection_id = :connection_id AND source = 'csv'"
    " AND occurred_at >= :start AND occurred_at < :end"
)
_DELETE_IDS = text("DELETE FROM usage_event WHERE id IN :ids").bindparams(
    bindparam("ids", expanding=True)
)
_IMPORTED_SPAN = text(
    "SELECT min(occurred_at), max(occurred_at) FROM usage_event"
    " WHERE connection_id = :connection_id AND source = 'csv'"
)


def replace_imported(
    session: Session, *, connection_id: int, tz: ZoneInfo, start: datetime, end: datetime
) -> int:
    """Delete the imported rows in ``[start, end)`` and their share of the rollups, in the
    caller's transaction (the one storing the API's events of that span). Returns how many
    rows went; none when the span holds no imported row (one index probe)."""
    connection = session.connection()
    form = stored_form(connection.dialect)
    params = {
        "connection_id": connection_id,
        "start": form.instant(start),
        "end": form.instant(end),
    }
    found = [tuple(row) for row in connection.execute(_IMPORTED_BETWEEN, params)]
    if not found:
        return 0
    rows = [row[1:] for row in found]
    deltas = RollupDeltas(tz)
    deltas.remove((form.moment(row[_AT]) for row in rows), rows)
    deltas.apply(connection, connection_id)
    ids = [row[0] for row in found]
    for i in range(0, len(ids), _ID_CHUNK):
        connection.execute(_DELETE_IDS, {"ids": ids[i : i + _ID_CHUNK]})
    return len(ids)


@dataclass(frozen=True)
class ImportedSpan:
    """The first and last instant of a connection's imported rows still held."""

    start: datetime
    end: datetime


def imported_span(session: Session, connection_id: int) -> ImportedSpan | None:
    """Where imported history starts and ends (None when nothing imported is held)."""
    connection = session.connection()
    form = stored_form(connection.dialect)
    first, last = connection.execute(_IMPORTED_SPAN, {"connection_id": connection_id}).one()
    if first is None or last is None:
        return None
    return ImportedSpan(form.moment(first), form.moment(last))


@dataclass(frozen=True)
class History:
    """Where a connection's history starts and from which source.

    ``api_start`` is the API's own history start (``Connection.history_start``);
    ``imported_start``/``imported_end`` span the imported rows still held (all before
    ``api_start`` once synced); ``start`` is the earlier of the two; ``source`` is "api",
    "csv+api", "csv" (imported, never synced) or None (nothing yet)."""

    start: datetime | None
    api_start: datetime | None
    imported_start: datetime | None
    imported_end: datetime | None
    source: str | None

    def to_json(self) -> dict[str, str | None]:
        def instant(moment: datetime | None) -> str | None:
            return moment.isoformat() if moment else None

        return {
            "start": instant(self.start),
            "api_start": instant(self.api_start),
            "imported_start": instant(self.imported_start),
            "imported_end": instant(self.imported_end),
            "source": self.source,
        }


def connection_history(session: Session, connection_id: int, api_start: datetime | None) -> History:
    """The connection's ``History`` (one index read of its imported rows)."""
    span = imported_span(session, connection_id)
    if span is None:
        return History(api_start, api_start, None, None, "api" if api_start else None)
    start = min(span.start, api_start) if api_start else span.start
    return History(start, api_start, span.start, span.end, "csv+api" if api_start else "csv")
