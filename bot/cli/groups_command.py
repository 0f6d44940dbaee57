"""``stackspend groups``: a workspace's Cursor billing groups, read live with its stored key."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from bot.cli.common import OutputFormat, clean_errors, fail, parse_now, print_json, settings_or_exit
from bot.ledger_setup import cursor_access, ledger_engine
from bot.usecases.groups import GroupListing, list_groups
from digests.format import dollars, json_cents, printable

NowOption = Annotated[str | None, typer.Option(help="Pretend it is this ISO instant.", hidden=True)]
WorkspaceOption = Annotated[str, typer.Option("--workspace", "-w", help="Slack team id or name.")]


def groups(
    workspace: WorkspaceOption,
    cycle: Annotated[
        str | None, typer.Option(help="Any day (YYYY-MM-DD) of the billing cycle to list.")
    ] = None,
    output: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.TEXT,
    now: NowOption = None,
) -> None:
    """Cursor billing groups of a cycle: members, Cursor's totals and the ledger's."""
    day = None
    if cycle is not None:
        try:
            day = date.fromisoformat(cycle)
        except ValueError:
            fail(f"--cycle {cycle!r} is not a date: give any day of the cycle as YYYY-MM-DD.")
    settings = settings_or_exit()
    with clean_errors():
        engine = ledger_engine(settings)
        listing = list_groups(
            engine,
            access=cursor_access(settings),
            box=settings.secret_box(),
            workspace_ref=workspace,
            day=day,
            now=parse_now(now),
        )
    if output is OutputFormat.JSON:
        print_json(listing_json(listing))
    else:
        typer.echo(listing_text(listing))


def listing_json(listing: GroupListing) -> dict[str, object]:
    return {
        "cycle_start": listing.cycle_start.isoformat(),
        "cycle_end": listing.cycle_end.isoformat(),
        "groups": [
            {
                "id": line.group_id,
                "name": line.name,
                "members": line.members,
                "former_members": line.former_members,
                "cursor_cents": json_cents(line.cursor_cents),
                "ledger_cents": None
                if line.ledger_cents is None
                else json_cents(line.ledger_cents),
            }
            for line in listing.groups
        ],
    }


def listing_text(listing: GroupListing) -> str:
    lines = [
        f"Billing groups, cycle {listing.cycle_start:%Y-%m-%d} to {listing.cycle_end:%Y-%m-%d} "
        "(Cursor's totals in UTC; the ledger's over local days, as synced)"
    ]
    width = max((len(printable(line.name)[:40]) for line in listing.groups), default=0)
    for line in listing.groups:
        ledger = "not synced" if line.ledger_cents is None else dollars(line.ledger_cents)
        members = f"{line.members} members" + (
            f", {line.former_members} former" if line.former_members else ""
        )
        if line.group_id == "group_unassigned":
            members = ""
        lines.append(
            f"  {printable(line.name)[:40]:<{width}}  {dollars(line.cursor_cents):>11} in Cursor"
            f"  {ledger:>11} here  {members}".rstrip()
        )
    return "\n".join(lines)
