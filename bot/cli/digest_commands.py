"""``stackspend digest preview|send``: the daily digest from a terminal."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from bot.app import slack_client
from bot.cli.common import OutputFormat, clean_errors, fail, parse_now, print_json, settings_or_exit
from bot.digest_jobs import DeliveryOutcome, DigestSender
from bot.wiring import bot_services, ledger_engine
from digests.chart import render_chart
from digests.daily import compose, render_json, render_text
from ledger import schedules
from ledger.accounts import find_workspace
from ledger.db import session_scope
from ledger.digest_data import digest_inputs
from ledger.queries import scope_for

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
        with session_scope(engine) as session:
            scope = scope_for(session, find_workspace(session, workspace))
            today = moment.astimezone(ZoneInfo(scope.workspace.timezone)).date()
            inputs = digest_inputs(session, scope, today=today, top=top, now=moment)
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
        services = bot_services(settings, engine)
        client = slack_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_url)
        sender = DigestSender(services, lambda _team: client)
        with session_scope(engine) as session:
            found = find_workspace(session, workspace)
            targets = [
                s for s in schedules.list_schedules(session, found) if schedule in (None, s.id)
            ]
        if not targets:
            fail(f"No digest to send in {workspace}: add one with `/spend digest add`.")
        failures = 0
        for target in targets:
            outcome = sender.send_now(target, found, now=moment)
            typer.echo(f"digest {target.id} to {target.channel_id}: {outcome}")
            failures += outcome is not DeliveryOutcome.SENT
    if failures:
        raise typer.Exit(1)
