"""Assembles the ``stackspend`` command tree."""

from __future__ import annotations

import typer

from bot.cli.budget_commands import alerts, budget_app
from bot.cli.demo import demo
from bot.cli.digest_commands import digest_app
from bot.cli.ledger_commands import connect_app, db_app, report_app, sync
from bot.cli.serve_command import serve
from bot.cli.simulate import simulate_app

app = typer.Typer(
    name="stackspend",
    help="StackSpend bot: what your company spends on AI coding assistants.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(db_app, name="db")
app.add_typer(connect_app, name="connect")
app.add_typer(report_app, name="report")
app.add_typer(simulate_app, name="simulate")
app.add_typer(digest_app, name="digest")
app.add_typer(budget_app, name="budget")
app.command("alerts")(alerts)
app.command("sync")(sync)
app.command("demo")(demo)
app.command("serve")(serve)


def main() -> None:
    app()
