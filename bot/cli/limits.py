"""``stackspend limit set|remove|list|history``: Cursor spend limits from the terminal.

The Admin API key is the workspace's stored one (``stackspend connect cursor``), never an
argument. A change is sent once (not repeated if Cursor's answer is lost), recorded in the
audit with Cursor's answer, and seen in ``limit list`` only after the next sync reads
Cursor's spend snapshot again.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

import typer

from bot.cli.common import OutputFormat, clean_errors, fail, parse_now, print_json, settings_or_exit
from bot.ledger_setup import cursor_access, ledger_engine
from bot.usecases import limit_changes
from bot.usecases.limit_changes import ChangeResult, Why
from digests import limit_words
from digests.format import json_cents, printable
from ledger.spend_limits import LimitsNow

limit_app = typer.Typer(help="Cursor spend limits (Enterprise teams).", no_args_is_help=True)
WorkspaceOption = Annotated[str, typer.Option("--workspace", "-w", help="Slack team id or name.")]
FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f")]
NowOption = Annotated[str | None, typer.Option(hidden=True)]

_DOLLARS = re.compile(r"\$?([0-9]{1,7})(?:\.(0+))?")
_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")

SAID = {
    Why.NOT_ENTERPRISE: limit_words.NOT_ENTERPRISE.replace("*", ""),
    Why.KEY_REJECTED: "Cursor rejected the stored Admin API key (invalid or revoked); "
    "nothing changed. Connect again with `stackspend connect cursor`.",
    Why.NOT_SENT: limit_words.NOT_SENT,
    Why.UNKNOWN: "Cursor did not confirm the change: it may or may not have been made, and "
    "it was not sent again. Run `stackspend sync`, then `stackspend limit list` shows which.",
}


def _dollars(text: str) -> int:
    match = _DOLLARS.fullmatch(text.strip())
    if match is None:
        if re.fullmatch(r"\$?[0-9]+\.[0-9]+", text.strip()):
            fail(f"{text!r} has cents: Cursor's spend limits are whole dollars only, e.g. 200.")
        fail(f"{text!r} is not a number of whole dollars, e.g. 200 (0 caps at $0).")
    dollars = int(match[1])
    if dollars > limit_changes.MAX_DOLLARS:
        fail(f"{text!r} is more than ${limit_changes.MAX_DOLLARS:,} a month: check the amount.")
    return dollars


def _email(text: str) -> str:
    if not _EMAIL.fullmatch(text.strip()):
        fail(f"{text!r} is not an email address: give the person's Cursor email.")
    return text.strip().lower()


def _change(workspace: str, email: str, dollars: int | None, now: datetime) -> ChangeResult:
    settings = settings_or_exit()
    with clean_errors():
        engine = ledger_engine(settings)
        found = limit_changes.workspace_named(engine, workspace)
        assert found.id is not None
        workspace_id = found.id
        access = cursor_access(settings)
        try:
            return limit_changes.change_limit(
                engine,
                access,
                settings.secret_box(),
                workspace_id=workspace_id,
                requested_by="cli",
                email=email,
                dollars=dollars,
                clock=lambda: now,
            )
        finally:
            access.close()
    raise AssertionError("unreachable")  # pragma: no cover


def _report(result: ChangeResult, output: OutputFormat) -> None:
    if output is OutputFormat.JSON:
        print_json(
            {
                "email": result.email,
                "limit_dollars": result.dollars,
                "outcome": result.why.value,
                "message": result.message,
                "change_id": result.change_id,
            }
        )
    asked = limit_words.asked(result.email, result.dollars)
    if result.why is Why.SUCCESS:
        if output is OutputFormat.TEXT:
            typer.echo(f"{asked}: Cursor accepted it: {printable(result.message)}")
            typer.echo(
                "The new limit shows in `stackspend limit list` after the next `stackspend sync`."
            )
        return
    if result.why is Why.ERROR:
        fail(f"{asked}: Cursor refused it: {printable(result.message)}")
    fail(f"{asked}: {SAID[result.why]}")


@limit_app.command("set")
def set_command(
    workspace: WorkspaceOption,
    email: Annotated[str, typer.Argument(help="The person's Cursor email.")],
    dollars: Annotated[str, typer.Argument(help="Whole dollars a month, e.g. 200.")],
    output: FormatOption = OutputFormat.TEXT,
    now: NowOption = None,
) -> None:
    """Set a person's monthly spend limit in Cursor (whole dollars)."""
    _report(_change(workspace, _email(email), _dollars(dollars), parse_now(now)), output)


@limit_app.command("remove")
def remove_command(
    workspace: WorkspaceOption,
    email: Annotated[str, typer.Argument(help="The person's Cursor email.")],
    output: FormatOption = OutputFormat.TEXT,
    now: NowOption = None,
) -> None:
    """Remove a person's spend limit in Cursor."""
    _report(_change(workspace, _email(email), None, parse_now(now)), output)


def _limits_json(now: LimitsNow) -> dict[str, Any]:
    return {
        "snapshot_taken_at": now.taken_at.isoformat() if now.taken_at else None,
        "people": [
            {
                "email": p.email,
                "name": p.name,
                "own_limit_dollars": p.own_dollars,
                "effective_limit_dollars": p.effective_dollars,
                "override_dollars": p.override_dollars,
                "spend_cents": json_cents(p.overall_cents),
                "on_demand_cents": json_cents(p.on_demand_cents),
            }
            for p in now.people
        ],
        "others": now.others,
        "default_limit_dollars": now.default_dollars,
    }


@limit_app.command("list")
def list_command(workspace: WorkspaceOption, output: FormatOption = OutputFormat.TEXT) -> None:
    """Everyone with a spend limit of their own, from the last synced spend snapshot."""
    settings = settings_or_exit()
    with clean_errors():
        engine = ledger_engine(settings)
        found = limit_changes.workspace_named(engine, workspace)
        now = limit_changes.current_limits(engine, found)
    if output is OutputFormat.JSON:
        print_json(_limits_json(now))
        return
    for line in limit_words.limits_lines(now, found.timezone, plain=True):
        typer.echo(line)


@limit_app.command("history")
def history_command(workspace: WorkspaceOption, output: FormatOption = OutputFormat.TEXT) -> None:
    """The spend limit changes asked for, and Cursor's answers, newest first."""
    settings = settings_or_exit()
    with clean_errors():
        engine = ledger_engine(settings)
        found = limit_changes.workspace_named(engine, workspace)
        changes = limit_changes.changes_of(engine, found)
    if output is OutputFormat.JSON:
        print_json(
            [
                {
                    "requested_at": c.requested_at.isoformat(),
                    "requested_by": c.requested_by,
                    "email": c.email,
                    "old_dollars": c.old_dollars,
                    "new_dollars": c.new_dollars,
                    "outcome": c.outcome.value,
                    "message": c.message,
                }
                for c in changes
            ]
        )
        return
    for line in limit_words.history_lines(changes, found.timezone, plain=True):
        typer.echo(line)
