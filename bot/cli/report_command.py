"""``stackspend report cursor``: spend for a period from the ledger, as text or JSON.

Imports only what a report needs (no Cursor client, no Alembic, no Slack), so that a
person typing it waits for the answer, not for imports.
"""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli.common import OutputFormat, clean_errors, parse_now, print_json, settings_or_exit
from bot.ledger_setup import ledger_engine
from bot.usecases.comparisons import comparison_for
from bot.usecases.reports import report_for
from digests.comparison_words import comparison_json, comparison_text
from digests.reports import report_json, report_text

report_app = typer.Typer(help="Spend reports from the ledger.", no_args_is_help=True)

NowOption = Annotated[str | None, typer.Option(help="Pretend it is this ISO instant.", hidden=True)]
VsOption = Annotated[
    str | None,
    typer.Option(
        "--vs", help="Compare with: previous (as many days just before), last cycle, any period."
    ),
]
WorkspaceOption = Annotated[str, typer.Option("--workspace", "-w", help="Slack team id or name.")]


@report_app.command("cursor")
def report_cursor(
    workspace: WorkspaceOption,
    period: Annotated[
        str,
        typer.Option(
            "--period",
            "-p",
            help="today, 7d, cycle, last week, mtd, october, 2026-q3, since monday, dates; "
            "`/spend help periods` lists them all.",
        ),
    ] = "cycle",
    by: Annotated[str, typer.Option("--by", "-b", help="user, model, day or kind.")] = "user",
    user: Annotated[str | None, typer.Option(help="Only this person (email).")] = None,
    output: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.TEXT,
    against: VsOption = None,
    now: NowOption = None,
) -> None:
    """Cursor spend for a period, broken down by user, model, day or kind."""
    settings = settings_or_exit()
    with clean_errors():
        engine = ledger_engine(settings)
        if against is not None:
            comparison = comparison_for(
                engine,
                workspace_ref=workspace,
                period_text=period,
                against=" ".join(against.lower().split()),
                by=by,
                user=user,
                now=parse_now(now),
            )
            report = comparison.current
        else:
            comparison = None
            report = report_for(
                engine,
                workspace_ref=workspace,
                period_text=period,
                by=by,
                user=user,
                now=parse_now(now),
            )
    if output is OutputFormat.JSON:
        payload = report_json(report)
        if comparison is not None:
            payload["comparison"] = comparison_json(comparison)
        print_json(payload)
    elif comparison is not None:
        typer.echo(comparison_text(comparison))
    else:
        typer.echo(report_text(report))
