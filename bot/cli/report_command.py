"""``stackspend report cursor``: spend for a period from the ledger, as text or JSON.

Imports only what a report needs (no Cursor client, no Alembic, no Slack), so that a
person typing it waits for the answer, not for imports.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Engine

from bot.cli.common import (
    OutputFormat,
    clean_errors,
    fail,
    parse_now,
    print_json,
    settings_or_exit,
)
from bot.cli.seat_commands import register as register_seat_reports
from bot.ledger_setup import ledger_engine
from bot.usecases.comparisons import comparison_for
from bot.usecases.reports import report_for
from digests.comparison_words import comparison_json, comparison_text
from digests.reports import report_json, report_text
from ledger.comparisons import Comparison
from ledger.queries import Report

report_app = typer.Typer(help="Spend reports from the ledger.", no_args_is_help=True)

NowOption = Annotated[str | None, typer.Option(help="Pretend it is this ISO instant.", hidden=True)]
ChartOption = Annotated[
    Path | None, typer.Option("--chart", help="Also write the chart as a PNG to this path.")
]
VsOption = Annotated[
    str | None,
    typer.Option(
        "--vs", help="Compare with: previous (the period just before), last cycle, any period."
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
    by: Annotated[
        str, typer.Option("--by", "-b", help="user, model, day, kind or group.")
    ] = "user",
    user: Annotated[str | None, typer.Option(help="Only this person (email).")] = None,
    group: Annotated[
        str | None, typer.Option(help="Only this billing group (by user or model).")
    ] = None,
    output: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.TEXT,
    against: VsOption = None,
    chart: ChartOption = None,
    now: NowOption = None,
) -> None:
    """Cursor spend for a period, broken down by user, model, day, kind or billing group."""
    if group is not None and (user is not None or by.strip().lower() not in ("user", "model")):
        fail("--group shows one billing group by user or model: drop --user, use --by user|model.")
    if by.strip().lower() == "group" and user is not None:
        fail("--by group covers the whole team: drop --user.")
    if chart is not None and (group is not None or by.strip().lower() == "group"):
        fail("--chart is not drawn by billing group yet: drop --chart, or chart --by user|model.")
    settings = settings_or_exit()
    moment = parse_now(now)
    with clean_errors():
        engine = ledger_engine(settings)
        comparison = None
        if against is not None:
            comparison = comparison_for(
                engine, workspace_ref=workspace, period_text=period,
                against=" ".join(against.lower().split()), by=by, user=user, now=moment,
                group=group,
            )  # fmt: skip
        report = comparison.current if comparison is not None else report_for(
            engine, workspace_ref=workspace, period_text=period, by=by, user=user, now=moment,
            group=group,
        )  # fmt: skip
        written = write_chart(engine, chart, workspace, period, by, user, moment)
    _print(output, report, comparison, written)


def _print(
    output: OutputFormat,
    report: Report,
    comparison: Comparison | None,
    chart: dict[str, str] | None,
) -> None:
    if output is OutputFormat.JSON:
        payload = report_json(report)
        if comparison is not None:
            payload["comparison"] = comparison_json(comparison)
        if chart is not None:
            payload["chart"] = chart
        print_json(payload)
        return
    typer.echo(comparison_text(comparison) if comparison is not None else report_text(report))
    if chart is not None:
        typer.echo(f"Chart written to {chart['path']}: {chart['alt_text']}")


def write_chart(
    engine: Engine,
    path: Path | None,
    workspace: str,
    period: str,
    by: str,
    user: str | None,
    now: datetime,
) -> dict[str, str] | None:
    """Draw the report's chart into ``path`` (None: no chart); what the JSON says of it."""
    if path is None:
        return None
    from bot.usecases.charts import chart_for  # matplotlib: only when a chart is asked for

    _, drawn = chart_for(
        engine, workspace_ref=workspace, period_text=period, by=by, now=now, user=user
    )
    try:
        path.write_bytes(drawn.png)
    except OSError as exc:
        fail(f"--chart: cannot write {path}: {exc.strerror}.")
    return {"path": str(path), "title": drawn.title, "alt_text": drawn.alt_text}


register_seat_reports(report_app)
