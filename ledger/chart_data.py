"""Daily cents per key (model, person, kind) for a period: what an on-demand chart draws.

Read from ``usage_rollup`` (the same rows every report sums), grouped by local day and the
breakdown's column in the database. A breakdown that another module adds (a team group,
say) registers its column in ``CHART_COLUMNS``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import ColumnElement, func, select
from sqlmodel import Session

from ledger.errors import Input, InvalidValue
from ledger.periods import Period
from ledger.queries import ROLLUPS, Scope

#: The column each chart breakdown stacks by; "day" draws one series, the day's total.
#: Hook: a breakdown added elsewhere (`by group`) adds its column (or a labelled join
#: expression) here; any other name is refused rather than drawn as a total.
CHART_COLUMNS: dict[str, ColumnElement[str]] = {
    "model": ROLLUPS.c.model,
    "user": ROLLUPS.c.user_email,
    "kind": ROLLUPS.c.kind_class,
}
TOTAL = "total"


def daily_cents(
    session: Session, scope: Scope, period: Period, by: str, user: str | None = None
) -> list[tuple[date, str, Decimal]]:
    """(local day, key, cents) for each day and key with usage in ``period``."""
    column = CHART_COLUMNS.get(by)
    if column is None and by != "day":
        raise InvalidValue(Input.BREAKDOWN, by)
    conditions = [
        ROLLUPS.c.connection_id == scope.connection_id,
        ROLLUPS.c.day >= period.start,
        ROLLUPS.c.day <= period.end,
    ]
    if user is not None:
        conditions.append(ROLLUPS.c.user_email == user.lower())
    cents = func.sum(ROLLUPS.c.charged_cents)
    if column is None:
        totals = select(ROLLUPS.c.day, cents).where(*conditions).group_by(ROLLUPS.c.day)
        return [(day, TOTAL, Decimal(value)) for day, value in session.execute(totals) if value]
    query = select(ROLLUPS.c.day, column, cents).where(*conditions).group_by(ROLLUPS.c.day, column)
    return [(day, str(key), Decimal(value)) for day, key, value in session.execute(query) if value]
