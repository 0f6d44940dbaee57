"""The rollup reads behind ``ledger.digest_data.digest_inputs``.

One scan grouped by local day x model x kind class (``read_cells``) feeds every
day-based figure; ``top_rows`` ranks one dimension of the cycle; ``sum_cents`` sums a
span. The rest fold the scanned cells into the figures the digest carries.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlmodel import Session

from connectors.records import KindClass
from ledger.queries import MEASURE_SUMS, ROLLUPS, Row, Scope, Totals


def _where(scope: Scope, first: date, last: date) -> list[ColumnElement[bool]]:
    return [
        ROLLUPS.c.connection_id == scope.connection_id,
        ROLLUPS.c.day >= first,
        ROLLUPS.c.day <= last,
    ]


def _as_date(value: object) -> date:
    # SQLite hands back dates as ISO strings when they come out of an aggregate query.
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


@dataclass(frozen=True)
class Cell:
    """Rollups of one local day x model x kind class, summed over users."""

    day: date
    model: str
    kind_class: str
    cents: Decimal
    events: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int


def read_cells(session: Session, scope: Scope, first: date, last: date) -> list[Cell]:
    """One scan of the rollups for ``first .. last``; every day-based figure comes from it."""
    query = (
        select(
            ROLLUPS.c.day,
            ROLLUPS.c.model,
            ROLLUPS.c.kind_class,
            *MEASURE_SUMS,
        )
        .where(*_where(scope, first, last))
        .group_by(ROLLUPS.c.day, ROLLUPS.c.model, ROLLUPS.c.kind_class)
    )
    return [
        Cell(
            day=_as_date(day),
            model=str(model),
            kind_class=str(kind),
            cents=Decimal(cents or 0),
            events=int(events or 0),
            input_tokens=int(tokens_in or 0),
            output_tokens=int(tokens_out or 0),
            cache_read_tokens=int(cache_read or 0),
            cache_write_tokens=int(cache_write or 0),
        )
        for day, model, kind, cents, events, tokens_in, tokens_out, cache_read, cache_write in (
            session.execute(query)
        )
    ]


def totals_of(cells: list[Cell]) -> Totals:
    def cents(kind: KindClass) -> Decimal:
        return sum((c.cents for c in cells if c.kind_class == kind.value), Decimal(0))

    return Totals(
        cents=sum((c.cents for c in cells), Decimal(0)),
        on_demand_cents=cents(KindClass.ON_DEMAND),
        included_cents=cents(KindClass.INCLUDED),
        events=sum(c.events for c in cells),
        input_tokens=sum(c.input_tokens for c in cells),
        output_tokens=sum(c.output_tokens for c in cells),
        cache_read_tokens=sum(c.cache_read_tokens for c in cells),
        cache_write_tokens=sum(c.cache_write_tokens for c in cells),
    )


def model_rows(cells: list[Cell], top: int) -> tuple[tuple[Row, ...], int]:
    """The ``top`` models by cents (ties by name), and how many models appear at all."""
    sums: dict[str, list[Any]] = {}
    for cell in cells:
        entry = sums.setdefault(cell.model, [Decimal(0), 0, 0, 0])
        entry[0] += cell.cents
        entry[1] += cell.events
        entry[2] += cell.input_tokens
        entry[3] += cell.output_tokens
    ranked = sorted(sums.items(), key=lambda item: (-item[1][0], item[0]))
    rows = tuple(
        Row(key=model, cents=cents, events=events, input_tokens=tin, output_tokens=tout)
        for model, (cents, events, tin, tout) in ranked[:top]
    )
    return rows, len(sums)


def daily_cents(cells: list[Cell]) -> dict[date, Decimal]:
    days: dict[date, Decimal] = defaultdict(Decimal)
    for cell in cells:
        days[cell.day] += cell.cents
    return days


def daily_by_model(cells: list[Cell], first: date) -> tuple[tuple[date, str, Decimal], ...]:
    sums: dict[tuple[date, str], Decimal] = defaultdict(Decimal)
    for cell in cells:
        if cell.day >= first:
            sums[cell.day, cell.model] += cell.cents
    return tuple((day, model, cents) for (day, model), cents in sorted(sums.items()) if cents)


def sum_cents(session: Session, scope: Scope, first: date, last: date) -> Decimal:
    if last < first:
        return Decimal(0)
    query = select(func.sum(ROLLUPS.c.charged_cents)).where(*_where(scope, first, last))
    return Decimal(session.execute(query).scalar() or 0)


def top_rows(
    session: Session, scope: Scope, first: date, last: date, column: str, top: int
) -> tuple[tuple[Row, ...], int]:
    """The ``top`` largest rows by ``column`` and how many distinct keys spent at all."""
    dimension = ROLLUPS.c[column]
    cents = func.sum(ROLLUPS.c.charged_cents)
    query = (
        select(
            dimension,
            cents,
            func.sum(ROLLUPS.c.events),
            func.sum(ROLLUPS.c.input_tokens),
            func.sum(ROLLUPS.c.output_tokens),
            func.count().over(),
        )
        .where(*_where(scope, first, last))
        .group_by(dimension)
        .order_by(cents.desc(), dimension)
        .limit(max(top, 1))
    )
    rows: list[Row] = []
    count = 0
    for key, total, events, tokens_in, tokens_out, groups in session.execute(query):
        count = int(groups)
        rows.append(
            Row(
                key=str(key),
                cents=Decimal(total or 0),
                events=int(events or 0),
                input_tokens=int(tokens_in or 0),
                output_tokens=int(tokens_out or 0),
            )
        )
    return tuple(rows[:top]), count


def series(values: dict[date, Decimal], first: date, last: date) -> tuple[Decimal, ...]:
    days = (last - first).days + 1
    return tuple(values.get(first + timedelta(days=i), Decimal(0)) for i in range(max(days, 0)))
