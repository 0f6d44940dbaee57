"""``stackspend report seats`` and ``stackspend report adoption``: text or JSON."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated

import typer

from bot.cli.common import OutputFormat, clean_errors, parse_now, print_json, settings_or_exit
from bot.ledger_setup import ledger_engine
from bot.usecases.seat_reports import adoption_for, seats_for

NowOption = Annotated[str | None, typer.Option(help="Pretend it is this ISO instant.", hidden=True)]
WorkspaceOption = Annotated[str, typer.Option("--workspace", "-w", help="Slack team id or name.")]
PeriodOption = Annotated[
    str,
    typer.Option(
        "--period",
        "-p",
        help="today, 7d, cycle, last week, mtd, october, 2026-q3, since monday, dates; "
        "`/spend help periods` lists them all.",
    ),
]
FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f")]


def _price_cents(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        dollars = Decimal(text.strip().lstrip("$").replace(",", ""))
    except InvalidOperation:
        dollars = Decimal(-1)
    if not dollars.is_finite() or not 0 < dollars <= 100_000:
        raise typer.BadParameter("give the monthly price of one seat in dollars, e.g. 40")
    cents = (dollars * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    if cents < 1:  # less than half a cent rounds to nothing
        raise typer.BadParameter("give the monthly price of one seat in dollars, e.g. 40")
    return int(cents)


def report_seats(
    workspace: WorkspaceOption,
    period: PeriodOption = "cycle",
    idle_days: Annotated[
        int, typer.Option("--idle-days", min=1, max=365, help="Days without activity = idle.")
    ] = 14,
    seat_price: Annotated[
        str | None,
        typer.Option(help="Dollars a seat a month (default: the workspace's seat price)."),
    ] = None,
    output: FormatOption = OutputFormat.TEXT,
    now: NowOption = None,
) -> None:
    """Cursor seats: paid, active, idle (with last active days), joined, left, and cost."""
    # The words share modules with Slack's blocks (slack_sdk): loaded only when asked for,
    # so that `stackspend report cursor` does not wait for them.
    from digests.seat_words import seat_json, seat_text

    settings = settings_or_exit()
    price = _price_cents(seat_price)
    with clean_errors():
        report = seats_for(
            ledger_engine(settings), workspace_ref=workspace, period_text=period,
            now=parse_now(now), idle_days=idle_days, price_cents=price,
        )  # fmt: skip
    if output is OutputFormat.JSON:
        print_json(seat_json(report))
    else:
        typer.echo(seat_text(report))


def report_adoption(
    workspace: WorkspaceOption,
    period: PeriodOption = "cycle",
    by: Annotated[
        str, typer.Option("--by", "-b", help="user (group: not available yet).")
    ] = "user",
    output: FormatOption = OutputFormat.TEXT,
    now: NowOption = None,
) -> None:
    """Cursor adoption next to spend, per person, with outliers both ways."""
    from digests.adoption_words import adoption_json, adoption_text  # (as seat_words)

    if by.strip().lower() not in ("user", "users"):
        raise typer.BadParameter("adoption is by user for now (billing groups are not available)")
    settings = settings_or_exit()
    with clean_errors():
        report = adoption_for(
            ledger_engine(settings), workspace_ref=workspace, period_text=period, now=parse_now(now)
        )
    if output is OutputFormat.JSON:
        print_json(adoption_json(report))
    else:
        typer.echo(adoption_text(report))


def register(app: typer.Typer) -> None:
    app.command("seats")(report_seats)
    app.command("adoption")(report_adoption)
