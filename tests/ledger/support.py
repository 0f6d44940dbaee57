"""Builders for ledger tests: a simulated Cursor team wired to a ledger connection."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, select

from connectors.cursor.access import CursorAccess
from connectors.cursor.client import ClientOptions
from connectors.cursor.sim_team import DEMO_API_KEY, SimulatorConfig
from connectors.cursor.simulator import CursorSimulator
from connectors.cursor.windows import settled_end
from ledger.accounts import get_or_create_workspace, store_connection
from ledger.db import session_scope
from ledger.models import SyncTrigger
from ledger.rollups import ROLLUPS
from ledger.secrets import SecretBox, generate_secret_key
from ledger.sync import PageCallback, SyncOptions, SyncOutcome, sync_connection

NOW = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)  # a Wednesday; cycle started Nov 1st


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Team:
    """A simulator, its clock, and a ledger connection that reads it."""

    engine: Engine
    sim: CursorSimulator
    clock: Clock
    connection_id: int
    box: SecretBox
    secret: str
    page_size: int = 1000
    outcomes: list[SyncOutcome] = field(default_factory=list)

    def access(self, page_size: int | None = None) -> CursorAccess:
        options = ClientOptions(
            base_url="http://cursor.test",
            max_attempts=2,
            backoff_initial_seconds=0.001,
            rate_limits={},  # the simulator enforces none here; pacing has its own tests
        )
        return CursorAccess(
            options, self.sim.transport(), events_page_size=page_size or self.page_size
        )

    def sync(
        self,
        *,
        page_size: int | None = None,
        overlap_hours: float = 48,
        on_page: PageCallback | None = None,
    ) -> SyncOutcome:
        access = self.access(page_size)
        try:
            outcome = sync_connection(
                self.engine,
                connection_id=self.connection_id,
                source_for_key=access.source,
                box=self.box,
                now=self.clock.now,
                trigger=SyncTrigger.MANUAL,
                options=SyncOptions(overlap=timedelta(hours=overlap_hours)),
                on_page=on_page,
            )
        finally:
            access.close()
        self.outcomes.append(outcome)
        return outcome

    def ledger_total(self, **filters: Any) -> Decimal:
        query = select(func.sum(ROLLUPS.c.charged_cents)).where(
            ROLLUPS.c.connection_id == self.connection_id,
            *(ROLLUPS.c[name] == value for name, value in filters.items()),
        )
        with session_scope(self.engine) as session:
            return Decimal(session.execute(query).scalar() or 0)

    def sim_total(self, start: datetime | None = None, end: datetime | None = None) -> Decimal:
        start = start or self.clock.now - timedelta(days=400)
        end = end or settled_end(self.clock.now)
        return self.sim.charged_cents(start, end).get("total", Decimal(0))

    def sim_local_days(self, first: date, last: date, tz: str) -> Decimal:
        """The simulator's total for local days first..last in ``tz``."""
        zone = ZoneInfo(tz)
        start = datetime.combine(first, time(), zone).astimezone(UTC)
        end = datetime.combine(last + timedelta(days=1), time(), zone).astimezone(UTC)
        end = min(end - timedelta(milliseconds=1), settled_end(self.clock.now))
        if end < start:
            return Decimal(0)
        return self.sim.charged_cents(start, end).get("total", Decimal(0))


def make_team(
    engine: Engine,
    *,
    team_id: str = "T1",
    timezone: str = "UTC",
    clock: Clock | None = None,
    **config: Any,
) -> Team:
    settings: dict[str, Any] = {
        "users": 12,
        "days": 20,
        "rate_limiting": False,
        "seed": 7,
        **config,
    }
    clock = clock or Clock()
    sim = CursorSimulator(SimulatorConfig(**settings), clock=clock)
    secret = generate_secret_key()
    box = SecretBox([secret])
    with session_scope(engine) as session:
        workspace = get_or_create_workspace(session, team_id=team_id, name=f"Team {team_id}")
        workspace.timezone = timezone
        connection = store_connection(
            session,
            workspace=workspace,
            provider="cursor",
            api_key=DEMO_API_KEY,
            box=box,
            key_hint="…0000",
            connected_by="U1",
            now=clock.now,
        )
        assert connection.id is not None
        connection_id = connection.id
    return Team(
        engine=engine, sim=sim, clock=clock, connection_id=connection_id, box=box, secret=secret
    )


#: Money is stored to 1e-8 cent per event; sums may differ from the simulator's exact
#: Decimal sums by that rounding only, far below the cent every report shows.
CENT_TOLERANCE = Decimal("0.0001")


def same_cents(ledger: Decimal, truth: Decimal) -> bool:
    return abs(ledger - truth) <= CENT_TOLERANCE
