"""The simulator's usage as Cursor's dashboard export (Usage -> Export CSV) would give it.

Built from :meth:`CursorSimulator.wire_events`, the very events its API serves, so an import
of the file and a sync from the API agree to the cent: each row's ``Cost`` is the event's
charge (``wire_charge``, in cents) written in dollars with every digit it needs, which
:class:`~connectors.cursor.csv_export.ExportReader` reads back exactly. Events of removed
members whose email the API drops are written with an empty ``User``, as the API attributes
them to no one too. The API's retention floor still applies: build the simulator with a
``retention_days`` covering the window (``stackspend simulate cursor --export-csv`` does).

Rows are newest first, as the dashboard lists them (``newest_first=False`` for the other
order). Variants: ``newest`` (the newest header, plain dollars, every field quoted, CRLF),
``older`` (no ``Cloud Agent ID`` / ``Automation ID``, ``$``-prefixed costs, LF) and
``personal`` (no ``User``; only one member's rows).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, TextIO

from connectors.cursor import csv_fields as cols
from connectors.cursor.sim_team import KIND_ERRORED, KIND_INCLUDED, KIND_USER_API_KEY
from connectors.cursor.simulator import CursorSimulator, wire_charge
from connectors.cursor.windows import from_ms

Variant = Literal["newest", "older", "personal"]
VARIANTS: tuple[Variant, ...] = ("newest", "older", "personal")

#: API kind labels the export spells differently.
_EXPORT_KINDS = {KIND_INCLUDED: "Included", KIND_ERRORED: "Errored, No Charge"}
#: What the export writes in ``Cost`` for an event that charges nothing, by API kind.
_ZERO_COST_WORDS = {KIND_ERRORED: "-", KIND_USER_API_KEY: "Free", KIND_INCLUDED: "Included"}
_ONE_MS = timedelta(milliseconds=1)


def columns(variant: Variant) -> tuple[str, ...]:
    """The header a variant writes."""
    if variant == "newest":
        return cols.NEWEST_COLUMNS
    dropped = {cols.CLOUD_AGENT, cols.AUTOMATION} | (
        {cols.USER} if variant == "personal" else set()
    )
    return tuple(name for name in cols.NEWEST_COLUMNS if name not in dropped)


def export_rows(
    simulator: CursorSimulator,
    start: datetime,
    end: datetime,
    *,
    variant: Variant = "newest",
    user: str | None = None,
    newest_first: bool = True,
) -> Iterator[tuple[str, ...]]:
    """Data rows (no header) for the events the API serves in ``[start, end)``.

    ``user`` keeps only that member's rows; the ``personal`` variant defaults it to the first
    member, as a personal export holds one person's usage.
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {', '.join(VARIANTS)}")
    if variant == "personal" and user is None:
        user = simulator.team.members[0].email
    events: Iterable[dict[str, Any]] = simulator.wire_events(start, end - _ONE_MS)
    if not newest_first:
        events = reversed(list(events))
    wanted = user.lower() if user is not None else None
    for event in events:
        email = str(event.get("userEmail", ""))
        if wanted is not None and email.lower() != wanted:
            continue
        yield _row(event, email, variant)


def _row(event: dict[str, Any], email: str, variant: Variant) -> tuple[str, ...]:
    ms = int(event["timestamp"])
    moment = from_ms(ms)
    usage = event.get("tokenUsage") or {}
    without = int(usage.get("inputTokens", 0))
    cache_write = int(usage.get("cacheWriteTokens", 0))
    cache_read = int(usage.get("cacheReadTokens", 0))
    output = int(usage.get("outputTokens", 0))
    kind = str(event["kind"])
    cents = wire_charge(event)
    cost = _dollars(cents) if cents else _ZERO_COST_WORDS.get(kind, "0")
    if variant != "newest" and cents:
        cost = "$" + cost
    fields = {
        cols.DATE: moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z",
        cols.USER: email,
        cols.CLOUD_AGENT: str(event.get("cloudAgentId", "")),
        cols.AUTOMATION: "",
        cols.KIND: _EXPORT_KINDS.get(kind, kind),
        cols.MODEL: str(event["model"]),
        cols.MAX_MODE: "Yes" if event.get("maxMode") else "No",
        cols.INPUT_WITH_CW: str(without + cache_write),
        cols.INPUT_WITHOUT_CW: str(without),
        cols.CACHE_READ: str(cache_read),
        cols.OUTPUT: str(output),
        cols.TOTAL: str(without + cache_write + cache_read + output),
        cols.COST: cost,
    }
    return tuple(fields[name] for name in columns(variant))


def _dollars(cents: Decimal) -> str:
    """Exact dollars of an amount of cents, in plain notation (never ``1E-7``)."""
    return format(cents.scaleb(-2), "f")


def write_export(
    simulator: CursorSimulator,
    out: TextIO,
    start: datetime,
    end: datetime,
    *,
    variant: Variant = "newest",
    user: str | None = None,
    newest_first: bool = True,
) -> int:
    """Write the export of ``[start, end)`` to a text stream opened with ``newline=""``.

    Returns the number of data rows written.
    """
    newest = variant == "newest"
    writer = csv.writer(
        out,
        quoting=csv.QUOTE_ALL if newest else csv.QUOTE_MINIMAL,
        lineterminator="\r\n" if newest else "\n",
    )
    writer.writerow(columns(variant))
    count = 0
    for row in export_rows(
        simulator, start, end, variant=variant, user=user, newest_first=newest_first
    ):
        writer.writerow(row)
        count += 1
    return count


def export_bytes(
    simulator: CursorSimulator, start: datetime, end: datetime, **options: Any
) -> bytes:
    """The whole export as UTF-8 bytes (for tests and small windows)."""
    text = io.StringIO(newline="")
    write_export(simulator, text, start, end, **options)
    return text.getvalue().encode()


def write_export_file(
    simulator: CursorSimulator, path: Path, start: datetime, end: datetime, **options: Any
) -> int:
    """Write the export to ``path`` (UTF-8); returns the number of data rows."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        return write_export(simulator, handle, start, end, **options)
