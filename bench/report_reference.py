"""Today's report reads (main's ``ledger.queries.totals_and_breakdown``, verbatim): the
"before" of ``bench.report_bench``, timed in the same run as the coarse reads."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from connectors.records import KindClass
from ledger.periods import Period
from ledger.queries import (
    _DIMENSION,
    MEASURE_SUMS,
    ROLLUPS,
    Breakdown,
    Row,
    Scope,
    Totals,
    _filters,
)


def main_totals_and_breakdown(
    session: Session,
    scope: Scope,
    period: Period,
    by: Breakdown,
    user: str | None = None,
    **_today: Any,
) -> tuple[Totals, list[Row]]:
    """Both in one scan of the period's rollups: grouped by the dimension and kind class."""
    dimension = _DIMENSION[by]
    query = (
        select(
            dimension,
            ROLLUPS.c.kind_class,
            *MEASURE_SUMS,
        )
        .where(*_filters(scope, period, user))
        .group_by(dimension, ROLLUPS.c.kind_class)
    )
    rows: dict[str, list[Any]] = {}
    sums: list[Any] = [Decimal(0), 0, 0, 0, 0, 0]
    by_kind: dict[str, Decimal] = {}
    for key, kind, cents, events, tokens_in, tokens_out, cache_read, cache_write in session.execute(
        query
    ):
        label = key.isoformat() if isinstance(key, date) else str(key)
        amount = Decimal(cents or 0)
        values: list[Any] = [amount, int(events or 0), int(tokens_in or 0), int(tokens_out or 0)]
        row = rows.setdefault(label, [Decimal(0), 0, 0, 0])
        for i, value in enumerate(values):
            row[i] += value
        for i, value in enumerate([*values, int(cache_read or 0), int(cache_write or 0)]):
            sums[i] += value
        by_kind[kind] = by_kind.get(kind, Decimal(0)) + amount
    ordered = sorted(rows.items(), key=lambda item: (-item[1][0], item[0]))
    result = [Row(key, cents, events, t_in, t_out) for key, (cents, events, t_in, t_out) in ordered]
    summary = Totals(
        cents=Decimal(sums[0]),
        on_demand_cents=by_kind.get(KindClass.ON_DEMAND.value, Decimal(0)),
        included_cents=by_kind.get(KindClass.INCLUDED.value, Decimal(0)),
        events=int(sums[1]),
        input_tokens=int(sums[2]),
        output_tokens=int(sums[3]),
        cache_read_tokens=int(sums[4]),
        cache_write_tokens=int(sums[5]),
    )
    return summary, result
