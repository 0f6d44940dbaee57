"""``stackspend digest preview|send``: the daily digest from a terminal."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.assembly import assemble, core_services
from bot.cli.common import OutputFormat, clean_errors, fail, parse_now, print_json, settings_or_exit
from bot.ledger_setup import ledger_engine
from bot.usecases.digest_delivery import DeliveryOutcome
from bot.usecases.digest_preview import digest_inputs_for, schedules_of
from digests.chart import render_chart
from digests.daily import compose
from digests.daily_json import render_json
from digests.daily_render import render_text

digest_app = typer.Typer(help="Daily digests.", no_args_is_help=True)

NowOption = Annotated[str | None, typer.Option(help="Pretend it is this ISO instant.", hidden=True)]


@digest_app.command("preview")
def preview(
    workspace: Annotated[str, typer.Option("--workspace", "-w", help="Slack team id or name.")],
    output: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.TEXT,
    chart: Annotated[
        Path | None, typer.Option(help="Also write the chart PNG to this path.")
    ] = None,
    top: Annotated[int, typer.Option(min=1, max=20)] = 5,
    now: NowOption = None,
) -> None:
    """Print today's digest for a workspace (nothing is posted)."""
    settings = settings_or_exit()
    moment = parse_now(now)
    with clean_errors():
        engine = ledger_engine(settings)
        inputs = digest_inputs_for(engine, workspace, now=moment, top=top)
    digest = compose(inputs)
    if output is OutputFormat.JSON:
        print_json(render_json(digest))
    else:
        typer.echo(render_text(digest))
    if chart is not None:
        chart.write_bytes(render_chart(inputs))
        typer.echo(f"chart written to {chart}", err=output is OutputFormat.JSON)


@digest_app.command("send")
def send(
    workspace: Annotated[str, typer.Option("--workspace", "-w", help="Slack team id or name.")],
    schedule: Annotated[
        int | None, typer.Option(help="Only this digest (see /spend digest list).")
    ] = None,
    now: NowOption = None,
) -> None:
    """Post a workspace's digests now (each to its channel), outside their schedule."""
    settings = settings_or_exit()
    if settings.slack_bot_token is None:
        fail("SLACK_BOT_TOKEN is not set: posting to Slack needs the bot token.")
    moment = parse_now(now)
    with clean_errors():
        engine = ledger_engine(settings)
        sender = assemble(settings, core_services(settings, engine)).sender
        found, targets = schedules_of(engine, workspace, schedule)
        if not targets:
            fail(f"No digest to send in {workspace}: add one with `/spend digest add`.")
        failures = 0
        for target in targets:
            outcome = sender.send_now(target, found, now=moment)
            typer.echo(f"digest {target.id} to {target.channel_id}: {outcome}")
            failures += outcome is not DeliveryOutcome.SENT
    if failures:
        raise typer.Exit(1)
