"""``stackspend budget set|list|remove`` and ``stackspend alerts``."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

import typer

from bot.cli.common import OutputFormat, clean_errors, fail, parse_now, print_json, settings_or_exit
from bot.ledger_setup import ledger_engine
from bot.usecases import budget_admin
from bot.usecases.budget_admin import BudgetDraft
from digests.alert_words import title
from digests.format import dollars, json_cents

budget_app = typer.Typer(help="Budgets that raise alerts.", no_args_is_help=True)
WorkspaceOption = Annotated[str, typer.Option("--workspace", "-w", help="Slack team id or name.")]


def _cents(amount: str) -> int:
    text = amount.strip().replace("$", "").replace(",", "")
    try:
        dollars_value = Decimal(text)
    except InvalidOperation:
        fail(f"--amount {amount!r} is not an amount of dollars, e.g. 5000 or 49.99.")
    if dollars_value <= 0:
        fail("--amount must be more than zero.")
    return int(dollars_value * 100)


def _ids(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


@budget_app.command("set")
def set_budget(
    workspace: WorkspaceOption,
    amount: Annotated[str, typer.Option(help="Dollars per period, e.g. 5000.")],
    period: Annotated[str, typer.Option(help="cycle, month, week or day.")] = "cycle",
    at: Annotated[str, typer.Option(help="Thresholds in percent, e.g. 50,80,100.")] = "50,80,100",
    email: Annotated[
        str | None, typer.Option(help="A person's budget (their Cursor email).")
    ] = None,
    notify: Annotated[str, typer.Option(help="Slack user ids to DM, comma-separated.")] = "",
    channel: Annotated[str | None, typer.Option(help="A Slack channel id to post to.")] = None,
    group: Annotated[str | None, typer.Option(help="A Cursor billing group's budget.")] = None,
    now: Annotated[str | None, typer.Option(hidden=True)] = None,
) -> None:
    """Create or change a budget (one per person, group or team and period)."""
    if group is not None and email is not None:
        fail("A budget is for one person (--email) or one billing group (--group), not both.")
    settings = settings_or_exit()
    try:
        thresholds = tuple(int(part) for part in _ids(at))
    except ValueError:
        fail(f"--at {at!r} must be whole percentages, e.g. 50,80,100.")
    with clean_errors():
        engine = ledger_engine(settings)
        draft = BudgetDraft(
            amount_cents=_cents(amount),
            period=period,
            thresholds=thresholds,
            subject_email=email,
            notify_user_ids=_ids(notify),
            notify_channel_id=channel,
            group=group,
        )
        budget = budget_admin.set_budget(engine, workspace, draft, parse_now(now))
        amount_text = dollars(Decimal(budget.amount_cents))
        who = f'group "{group}"' if group else email or "team"
        typer.echo(f"budget {budget.id}: {who} {amount_text} a {budget.period}")


@budget_app.command("list")
def list_command(
    workspace: WorkspaceOption,
    output: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.TEXT,
) -> None:
    """The workspace's budgets."""
    settings = settings_or_exit()
    with clean_errors():
        engine = ledger_engine(settings)
        budgets = budget_admin.workspace_budgets(engine, workspace)
        groups = budget_admin.budget_groups(engine, budgets)
    rows = [
        {
            "id": b.id,
            "subject": b.subject_email or "team",
            "amount_cents": json_cents(Decimal(b.amount_cents)),
            "period": b.period,
            "thresholds": b.thresholds,
            "notify": b.notify_user_ids,
            "channel": b.notify_channel_id,
            # A billing group's budget only: the group's name.
            **({"group": groups[b.id or 0]} if (b.id or 0) in groups else {}),
        }
        for b in budgets
    ]
    if output is OutputFormat.JSON:
        print_json(rows)
        return
    for b in budgets:
        thresholds = ",".join(str(t) for t in b.thresholds)
        typer.echo(
            f"{b.id:>4}  {_who(b.subject_email, groups.get(b.id or 0)):<30} "
            f"{dollars(Decimal(b.amount_cents)):>12}"
            f" a {b.period:<6} at {thresholds}%"
        )
    if not budgets:
        typer.echo("no budgets yet")


def _who(email: str | None, group: str | None) -> str:
    return f'group "{group}"' if group else email or "team"


@budget_app.command("remove")
def remove_command(workspace: WorkspaceOption, budget_id: int) -> None:
    """Remove a budget, and the alerts it raised with it."""
    settings = settings_or_exit()
    with clean_errors():
        budget_admin.remove(ledger_engine(settings), workspace, budget_id)
    typer.echo(f"budget {budget_id} removed")


def alerts(
    workspace: WorkspaceOption,
    output: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.TEXT,
) -> None:
    """Open and snoozed alerts, newest first."""
    settings = settings_or_exit()
    with clean_errors():
        found = budget_admin.workspace_open_alerts(ledger_engine(settings), workspace)
    rows = [
        {
            "id": a.id,
            "kind": a.kind,
            "title": title(a, found.timezone),
            "status": a.status,
            "created_at": a.created_at.isoformat(),
            "snoozed_until": a.snoozed_until.isoformat() if a.snoozed_until else None,
        }
        for a in found.alerts
    ]
    if output is OutputFormat.JSON:
        print_json(rows)
        return
    for row in rows:
        typer.echo(f"{row['id']:>5}  {row['status']:<9} {row['title']}")
    if not rows:
        typer.echo("no open alerts")
