"""Assembles the ``stackspend`` command tree.

Each verb's module is imported only when that verb runs: `stackspend --help` loads no
database, Slack or chart library, and `stackspend report` loads no Slack SDK or matplotlib.
The short help of each verb lives here, so that listing the verbs imports none of them.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import typer
from typer import _click as click  # typer carries its own click
from typer.core import TyperGroup


@dataclass(frozen=True)
class Verb:
    #: Where the verb lives: a ``typer.Typer`` (a group of sub-commands) or a function.
    module: str
    attribute: str
    #: Shown by `stackspend --help`.
    summary: str


VERBS: dict[str, Verb] = {
    "db": Verb("bot.cli.ledger_commands", "db_app", "Database schema and stored secrets."),
    "connect": Verb("bot.cli.ledger_commands", "connect_app", "Connect a provider to a workspace."),
    "sync": Verb("bot.cli.ledger_commands", "sync", "Sync usage from each connected provider."),
    "import": Verb(
        "bot.cli.import_command", "import_app", "Import usage history from a provider's export."
    ),
    "report": Verb("bot.cli.report_command", "report_app", "Spend reports from the ledger."),
    "digest": Verb("bot.cli.digests", "digest_app", "Daily digests."),
    "budget": Verb("bot.cli.budgets", "budget_app", "Budgets that raise alerts."),
    "alerts": Verb("bot.cli.budgets", "alerts", "Open and snoozed alerts."),
    "limit": Verb("bot.cli.limits", "limit_app", "Cursor spend limits (Enterprise teams)."),
    "groups": Verb("bot.cli.groups_command", "groups", "Cursor billing groups of a cycle."),
    "simulate": Verb("bot.cli.simulate", "simulate_app", "Offline simulators of provider APIs."),
    "demo": Verb("bot.cli.demo", "demo", "The quick-start demo, on a simulated Cursor team."),
    "serve": Verb("bot.cli.serve_command", "serve", "Run the Slack app and its scheduler."),
}


def load_verb(name: str, verb: Verb) -> click.Command:
    target = getattr(importlib.import_module(verb.module), verb.attribute)
    if isinstance(target, typer.Typer):  # a group, even of one sub-command (`report cursor`)
        command: click.Command = typer.main.get_group(target)
    else:
        single = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
        single.command(name)(target)
        command = typer.main.get_command(single)
    command.name = name
    return command


class LazyVerbs(TyperGroup):
    """A command group that imports a verb's module when the verb is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(VERBS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        verb = VERBS.get(cmd_name)
        return None if verb is None else load_verb(cmd_name, verb)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, verb.summary) for name, verb in VERBS.items()])


app = typer.Typer(
    name="stackspend",
    cls=LazyVerbs,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,  # plain help: rich's would import every verb to describe it
)


@app.callback()
def stackspend() -> None:
    """StackSpend bot: what your company spends on AI coding assistants."""


def main() -> None:
    app()
