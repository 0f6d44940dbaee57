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

from bot.settings import Settings, SettingsError, load_settings
from connectors.errors import ConnectorError
from ledger.accounts import LedgerError
from ledger.secrets import SecretKeyError

EXPECTED_ERRORS = (SettingsError, LedgerError, ConnectorError, SecretKeyError)


class OutputFormat(enum.StrEnum):
    TEXT = "text"
    JSON = "json"


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@contextmanager
def clean_errors() -> Iterator[None]:
    """Expected failures become one line on stderr and a non-zero exit."""
    try:
        yield
    except EXPECTED_ERRORS as exc:
        fail(str(exc))


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


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)


Command = Callable[..., Any]
