"""The daily digest's values: a ``Digest`` and the parts it is made of, nothing formatted.

``digests.daily`` composes them; ``digests.daily_render`` and ``digests.daily_json``
render them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from ledger.import_join import History


class Direction(enum.StrEnum):
    UP = "up"
    DOWN = "down"
    FLAT = "flat"


class Level(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Delta:
    """A figure against its baseline.

    ``baseline`` is None when there is nothing to compare with (history too short);
    ``percent`` is None then, and also when the baseline is zero and the figure is not
    (spend from nothing has no percentage).
    """

    current: Decimal
    baseline: Decimal | None
    percent: Decimal | None
    direction: Direction | None


@dataclass(frozen=True)
class Forecast:
    """Where the cycle ends at the current run-rate (``cents`` None: too early).

    The projection is the ledger's (``ledger.budget_rules.project``), the one budget
    alerts use: weekdays and weekend days at their own rates.
    """

    cents: Decimal | None
    #: The projected spend of the remaining days, per day on average.
    daily_rate_cents: Decimal | None
    basis_days: int
    remaining_days: int
    cycle_end: date
    note: str | None = None
    weekday_rate_cents: Decimal | None = None
    weekend_rate_cents: Decimal | None = None


@dataclass(frozen=True)
class Ranked:
    key: str
    cents: Decimal
    share_percent: Decimal
    events: int


@dataclass(frozen=True)
class TopList:
    rows: tuple[Ranked, ...]
    #: Keys that spent this cycle but are not shown, and what they spent together.
    more: int
    more_cents: Decimal

    @property
    def key_width(self) -> int:
        return max((len(row.key) for row in self.rows), default=0)


@dataclass(frozen=True)
class HealthNote:
    level: Level
    text: str


@dataclass(frozen=True)
class Digest:
    provider: str
    provider_name: str
    team_id: str
    workspace_name: str
    timezone: str
    today: date
    #: The day the digest reports on (today - 1).
    day: date
    title: str
    #: Said first: connection trouble, then stale data.
    health: tuple[HealthNote, ...]
    yesterday_cents: Decimal
    yesterday_events: int
    #: Yesterday against the average of the days before it (up to 7 that history covers).
    yesterday_delta: Delta
    trailing_days: int
    cycle_start: date
    cycle_end: date
    #: Complete days of the cycle so far (cycle start .. yesterday) and the cycle's length.
    cycle_day: int
    cycle_days: int
    cycle_assumed: bool
    cycle_cents: Decimal
    cycle_events: int
    #: Cycle to date against last cycle at the same point.
    cycle_delta: Delta
    forecast: Forecast
    on_demand_cents: Decimal
    included_cents: Decimal
    other_cents: Decimal
    top_users: TopList
    top_models: TopList
    budget_lines: tuple[str, ...]
    alert_lines: tuple[str, ...]
    #: Per-person spend is left out (the readers may not all see it): no top users.
    people_hidden: bool
    as_of: datetime | None
    last_success_at: datetime | None
    history_start: datetime | None
    #: The first local day the ledger knows of (comparisons need history before them).
    history_day: date | None
    connection_status: str
    #: "Data as of …" with the sync and history facts, plain text.
    freshness: str
    #: One line for notifications and the message's fallback text (health first).
    summary: str
    #: Where history starts and from which source (imported CSV, the API).
    history: History | None = None
    #: "3 idle seats, $120.00 a month" (None: no seat is idle).
    seat_line: str | None = None
    idle_seats: int = 0
    idle_seat_cost_per_month_cents: int | None = None
