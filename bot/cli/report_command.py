"""``stackspend report cursor``: spend for a period from the ledger, as text or JSON.

Imports only what a report needs (no Cursor client, no Alembic, no Slack), so that a
person typing it waits for the answer, not for imports.
"""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli.common import (
    OutputFormat,
    clean_errors,
    fail,
    parse_now,
    print_json,
    settings_or_exit,
)
from bot.ledger_setup import ledger_engine
from bot.usecases.reports import report_for
from digests.reports import report_json, report_text

report_app = typer.Typer(help="Spend reports from the ledger.", no_args_is_help=True)

NowOption = Annotated[str | None, typer.Option(help="Pretend it is this ISO instant.", hidden=True)]
WorkspaceOption = Annotated[str, typer.Option("--workspace", "-w", help="Slack team id or name.")]


@report_app.command("cursor")
def report_cursor(
    workspace: WorkspaceOption,
    period: Annotated[
        str, typer.Option("--period", "-p", help="today, 7d, cycle, a date or a range.")
    ] = "cycle",
    by: Annotated[
        str, typer.Option("--by", "-b", help="user, model, day, kind or group.")
    ] = "user",
    user: Annotated[str | None, typer.Option(help="Only this person (email).")] = None,
    group: Annotated[
        str | None, typer.Option(help="Only this billing group (by user or model).")
    ] = None,
    output: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.TEXT,
    now: NowOption = None,
) -> None:
    """Cursor spend for a period, broken down by user, model, day, kind or billing group."""
    if group is not None and (user is not None or by.strip().lower() not in ("user", "model")):
        fail("--group shows one billing group by user or model: drop --user, use --by user|model.")
    if by.strip().lower() == "group" and user is not None:
        fail("--by group covers the whole team: drop --user.")
    settings = settings_or_exit()
    with clean_errors():
        engine = ledger_engine(settings)
        report = report_for(
            engine,
            workspace_ref=workspace,
            period_text=period,
            by=by,
            user=user,
            now=parse_now(now),
            group=group,
        )
    if output is OutputFormat.JSON:
        print_json(report_json(report))
    else:
        typer.echo(report_text(report))
