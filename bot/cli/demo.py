"""``stackspend demo``: a simulated Cursor team, synced and reported, with no setup."""

from __future__ import annotations

import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Engine

from bot.cli.common import clean_errors
from bot.ledger_setup import ledger_engine
from bot.settings import Settings, load_settings
from bot.usecases.connect import connect_cursor
from bot.usecases.digest_preview import digest_inputs_for
from bot.usecases.reports import report_for
from bot.usecases.syncs import sync_one
from connectors.cursor.access import CursorAccess
from connectors.cursor.client import ClientOptions
from connectors.cursor.sim_team import SimulatorConfig
from connectors.cursor.simulator import DEMO_API_KEY, CursorSimulator, running_server
from digests.chart import render_chart
from digests.daily import compose
from digests.daily_render import render_text
from digests.reports import report_text
from ledger import migrate
from ledger.models import SyncTrigger
from ledger.secrets import generate_secret_key

DEMO_TEAM = "T0DEMO"
#: Rate limits stay on, with a one-second "minute", so the demo shows real pacing quickly.
DEMO_MINUTE_SECONDS = 1.0


def demo(
    directory: Annotated[Path, typer.Option("--dir", help="Where the demo database goes.")] = Path(
        "stackspend-demo"
    ),
    users: Annotated[int, typer.Option(min=1)] = 50,
    days: Annotated[int, typer.Option(min=1)] = 30,
) -> None:
    """Simulate a Cursor team, connect it, sync it into SQLite and print the billing cycle."""
    started = time.monotonic()
    database_url, secret = _fresh_directory(directory)
    now = datetime.now(UTC)
    config = SimulatorConfig(users=users, days=days, minute_seconds=DEMO_MINUTE_SECONDS)
    simulator = CursorSimulator(config)
    with clean_errors(), running_server(simulator) as base_url:
        settings = load_settings(
            database_url=database_url, secret_key=secret, cursor_base_url=base_url
        )
        migrate.upgrade(database_url)
        engine = ledger_engine(settings)
        access = CursorAccess(ClientOptions(base_url=base_url, window_seconds=DEMO_MINUTE_SECONDS))
        connection_id = _connect_demo_team(engine, access, settings, base_url=base_url, now=now)
        _sync_and_report(engine, access, settings, connection_id=connection_id, now=now)
        chart_path = directory / "digest-chart.png"
        _write_digest(engine, chart_path, now=now)
        engine.dispose()
    typer.echo(_closing_text(directory, chart_path, started))


def _fresh_directory(directory: Path) -> tuple[str, str]:
    """Empty ``directory`` and write its ``demo.env``; the database URL and secret key."""
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    secret = generate_secret_key()
    database_url = f"sqlite:///{(directory / 'demo.db').resolve()}"
    (directory / "demo.env").write_text(
        f"STACKSPEND_DATABASE_URL={database_url}\nSTACKSPEND_SECRET_KEY={secret}\n"
    )
    return database_url, secret


def _connect_demo_team(
    engine: Engine, access: CursorAccess, settings: Settings, *, base_url: str, now: datetime
) -> int:
    """Connect the simulated team, say so, and return the connection id."""
    connected = connect_cursor(
        engine,
        access=access,
        box=settings.secret_box(),
        team_id=DEMO_TEAM,
        workspace_name="Demo Co",
        api_key=DEMO_API_KEY,
        connected_by="demo",
        now=now,
    )
    typer.echo(f"Simulated Cursor team at {base_url}: {connected.members} members.")
    return connected.connection_id


def _sync_and_report(
    engine: Engine, access: CursorAccess, settings: Settings, *, connection_id: int, now: datetime
) -> None:
    """Sync the demo connection, then print the cycle's reports by user and by model."""
    outcome = sync_one(
        engine,
        connection_id=connection_id,
        access=access,
        box=settings.secret_box(),
        now=now,
        trigger=SyncTrigger.DEMO,
    )
    typer.echo(outcome.summary())
    for by in ("user", "model"):
        report = report_for(engine, workspace_ref=DEMO_TEAM, period_text="cycle", by=by, now=now)
        typer.echo("")
        typer.echo(report_text(report, limit=10))


def _write_digest(engine: Engine, chart_path: Path, *, now: datetime) -> None:
    """Print today's digest and write its chart to ``chart_path``."""
    inputs = digest_inputs_for(engine, DEMO_TEAM, now=now)
    typer.echo("\n" + render_text(compose(inputs)))
    chart_path.write_bytes(render_chart(inputs))


def _closing_text(directory: Path, chart_path: Path, started: float) -> str:
    """Where the chart and the ledger are, how long the demo took, and what to try next."""
    return (
        f"\nThe digest's chart is {chart_path}.\n"
        f"Done in {time.monotonic() - started:.1f}s. The ledger is {directory / 'demo.db'}; "
        f"explore it with:\n  set -a; . {directory / 'demo.env'}; set +a\n"
        f"  stackspend report cursor --workspace {DEMO_TEAM} --period 7d --by day"
    )
