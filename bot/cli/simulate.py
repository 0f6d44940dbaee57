"""``stackspend simulate cursor``: the offline Cursor Admin API as a local server."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from connectors.cursor.sim_export import VARIANTS, write_export_file
from connectors.cursor.sim_team import SimulatorConfig
from connectors.cursor.simulator import DEMO_API_KEY, CursorSimulator, serve_forever

simulate_app = typer.Typer(help="Offline simulators of provider APIs.", no_args_is_help=True)


@simulate_app.command("cursor")
def simulate_cursor(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8765,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    users: Annotated[int, typer.Option(min=1, help="Team size.")] = 50,
    days: Annotated[int, typer.Option(min=1, help="Days of history before now.")] = 30,
    seed: Annotated[int, typer.Option(help="Same seed, same team.")] = 1,
    retention_days: Annotated[int, typer.Option(min=1, help="Older data comes back empty.")] = 90,
    minute_seconds: Annotated[
        float, typer.Option(min=0.01, help="Length of a rate-limit minute (shorten to test).")
    ] = 60.0,
    legacy: Annotated[bool, typer.Option(help="Serve the older field set.")] = False,
    rate_limits: Annotated[bool, typer.Option(help="Enforce per-route limits.")] = True,
    retry_after: Annotated[bool, typer.Option(help="Send Retry-After on 429.")] = True,
    delay: Annotated[float, typer.Option(min=0, help="Seconds to wait before every answer.")] = 0.0,
    drip: Annotated[
        float, typer.Option(min=0, help="Send answers one byte at a time, this many seconds apart.")
    ] = 0.0,
    endless_pages: Annotated[
        bool, typer.Option(help="Always report one more page (a page count that keeps growing).")
    ] = False,
    huge_page_mb: Annotated[
        float, typer.Option(min=0, help="Pad every successful answer to this many MB.")
    ] = 0.0,
    export_csv: Annotated[
        Path | None,
        typer.Option(
            help="Write the team's usage of the last --days days as Cursor's dashboard CSV "
            "export to this file, and exit instead of serving.",
            dir_okay=False,
        ),
    ] = None,
    export_variant: Annotated[
        str, typer.Option(help=f"Export format: {', '.join(VARIANTS)}.")
    ] = "newest",
) -> None:
    """Serve a deterministic simulated Cursor team until interrupted (or write its CSV export)."""
    if export_csv is not None:
        _export(export_csv, export_variant, users=users, days=days, seed=seed, legacy=legacy)
        return
    config = SimulatorConfig(
        seed=seed,
        users=users,
        days=days,
        retention_days=retention_days,
        minute_seconds=minute_seconds,
        legacy=legacy,
        rate_limiting=rate_limits,
        retry_after_header=retry_after,
    )
    simulator = CursorSimulator(config)
    simulator.faults.delay_seconds = delay
    simulator.faults.drip_seconds = drip
    simulator.faults.endless_pages = endless_pages
    simulator.faults.huge_page_mb = huge_page_mb
    typer.echo(
        f"Cursor Admin API simulator on http://{host}:{port} "
        f"({users} users, {days} days, seed {seed}); API key: {DEMO_API_KEY}\n"
        f"Point STACKSPEND_CURSOR_BASE_URL at it. Ctrl-C stops it."
    )
    try:
        serve_forever(simulator, host, port)
    except KeyboardInterrupt:
        typer.echo("stopped")


def _export(path: Path, variant: str, *, users: int, days: int, seed: int, legacy: bool) -> None:
    """The same team the server would serve, its whole history up to the last full hour."""
    if variant not in VARIANTS:
        raise typer.BadParameter(f"use one of {', '.join(VARIANTS)}", param_hint="--export-variant")
    config = SimulatorConfig(
        seed=seed, users=users, days=days, retention_days=days + 2, legacy=legacy
    )
    simulator = CursorSimulator(config)
    end = simulator.visible_cutoff()
    start = end.replace(hour=0) - timedelta(days=days)
    try:
        rows = write_export_file(simulator, path, start, end, variant=variant)
    except OSError as exc:
        raise typer.BadParameter(
            f"cannot write {path}: {exc.strerror}", param_hint="--export-csv"
        ) from None
    typer.echo(
        f"Wrote {rows} usage rows ({users} users, {start:%Y-%m-%d} to {end:%Y-%m-%d %H:%M} UTC, "
        f"seed {seed}, {variant} format) to {path}."
    )
