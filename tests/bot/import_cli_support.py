"""A ledger with one connected workspace and a simulator's CSV export, for import tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine, func, select

from connectors.cursor.sim_export import write_export_file
from connectors.cursor.sim_team import DEMO_API_KEY, SimulatorConfig
from connectors.cursor.simulator import CursorSimulator, wire_charge
from ledger import migrate
from ledger.accounts import get_or_create_workspace, store_connection
from ledger.db import make_engine, session_scope
from ledger.rollups import ROLLUPS
from ledger.secrets import SecretBox, generate_secret_key
from ledger.types import quantize_money

NOW = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)


@dataclass
class Setup:
    env: dict[str, str]
    engine: Engine
    sim: CursorSimulator
    start: datetime
    end: datetime

    def export(self, path: Path, **options: object) -> int:
        return write_export_file(self.sim, path, self.start, self.end, **options)

    def truth_by_day(self) -> dict[date, Decimal]:
        """The simulator's charge per UTC day of [start, end), as the ledger stores it."""
        totals: dict[date, Decimal] = {}
        for event in self.sim.wire_events(self.start, self.end - timedelta(milliseconds=1)):
            day = datetime.fromtimestamp(int(event["timestamp"]) / 1000, UTC).date()
            totals[day] = totals.get(day, Decimal(0)) + quantize_money(wire_charge(event))
        return totals

    def ledger_by_day(self) -> dict[date, Decimal]:
        query = select(ROLLUPS.c.day, func.sum(ROLLUPS.c.charged_cents)).group_by(ROLLUPS.c.day)
        with session_scope(self.engine) as session:
            rows = session.execute(query).all()
        return {day: Decimal(total) for day, total in rows if Decimal(total) != 0}

    def event_count(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.exec_driver_sql("SELECT count(*) FROM usage_event").scalar_one())


def make_setup(tmp_path: Path, *, users: int = 6, days: int = 20, connect: bool = True) -> Setup:
    url = f"sqlite:///{tmp_path / 'import.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    secret = generate_secret_key()
    with session_scope(engine) as session:
        workspace = get_or_create_workspace(session, team_id="T1", name="Acme")
        if connect:
            store_connection(
                session,
                workspace=workspace,
                provider="cursor",
                api_key=DEMO_API_KEY,
                box=SecretBox([secret]),
                key_hint="…0000",
                connected_by="U1",
                now=NOW,
            )
    config = SimulatorConfig(
        users=users, days=days, retention_days=days + 5, rate_limiting=False, seed=11
    )
    sim = CursorSimulator(config, clock=lambda: NOW)
    end = sim.visible_cutoff()
    env = {"STACKSPEND_DATABASE_URL": url, "STACKSPEND_SECRET_KEY": secret}
    return Setup(env, engine, sim, end - timedelta(days=days + 1), end)
