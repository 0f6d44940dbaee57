"""What every command shares: settings, clean one-line failures, output formats."""

from __future__ import annotations

import enum
import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, NoReturn

import typer
from sqlalchemy.exc import NoSuchModuleError

from bot.log_context import ContextFilter
from bot.log_format import formatter
from bot.log_safety import protect_logging
from bot.settings import (
    DATABASE_UNREACHABLE,
    Settings,
    SettingsError,
    database_error,
    load_settings,
)
from connectors.errors import ConnectorError
from digests.errors import Hints, error_text
from ledger.db import DatabaseUrlError
from ledger.errors import LedgerError, SecretKeyError

EXPECTED_ERRORS = (SettingsError, ConnectorError, SecretKeyError)
#: What to type, for someone at a terminal (Slack-only steps say so).
TERMINAL = Hints(
    budget_list="`stackspend budget list`",
    budget_remove="`stackspend budget remove ID`",
    digest_list="`/spend digest list` in Slack",
    digest_remove="`/spend digest remove ID` in Slack",
    alerts="`stackspend alerts`",
    budget_example="`stackspend budget set --amount 5000`",
    budget_week_example="`stackspend budget set --amount 1000 --period week`",
    personal_budget_example="`stackspend budget set --email alice@acme.test --amount 200`",
    link="`/spend settings link <@{user}> their.cursor@email` in Slack",
    connect="`stackspend connect {provider} --workspace {team}`",
    sync="`stackspend sync`",
    connect_workspace="`stackspend connect cursor --workspace TEAM_ID`",
)
#: A database that cannot be used: its URL, or reaching or opening it on first use.
DATABASE_ERRORS = (DatabaseUrlError, NoSuchModuleError, *DATABASE_UNREACHABLE)


class OutputFormat(enum.StrEnum):
    TEXT = "text"
    JSON = "json"


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@contextmanager
def clean_errors(database_url: str | None = None) -> Iterator[None]:
    """Expected failures become one line on stderr and a non-zero exit.

    A database that cannot be used (bad URL, server down, file that cannot be opened)
    is one of them, named by its setting; ``database_url`` (when given) is shown
    with its password hidden.
    """
    try:
        yield
    except LedgerError as exc:
        fail(error_text(exc, TERMINAL))
    except EXPECTED_ERRORS as exc:
        fail(str(exc))
    except DATABASE_ERRORS as exc:
        fail(str(database_error(exc, database_url)))


def settings_or_exit(**overrides: Any) -> Settings:
    with clean_errors():
        return load_settings(**overrides)
    raise AssertionError("unreachable")  # pragma: no cover


def parse_now(value: str | None) -> datetime:
    """The current instant, or the one given (ISO 8601) for reproducible runs."""
    if not value:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        fail(f"--now {value!r} is not an ISO 8601 datetime such as 2026-11-25T09:00:00+00:00.")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def print_json(payload: Any) -> None:
    typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))


def configure_logging(level: str, log_format: str = "text") -> None:
    """Log to stderr at ``level``, as text or JSON lines, with the ids of the work in hand."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(log_format))
    logging.basicConfig(level=level.upper(), handlers=[handler])
    for root_handler in logging.getLogger().handlers:
        if not any(isinstance(f, ContextFilter) for f in root_handler.filters):
            root_handler.addFilter(ContextFilter())
    protect_logging(root_handlers=True)  # no body, modal value or key in any log line


Command = Callable[..., Any]
