"""Commands over the ledger: db, connect, sync (``report`` is in ``report_command``)."""

from __future__ import annotations

import signal
import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import TextColumn
from sqlalchemy import Engine

from bot.cli.common import (
    clean_errors,
    fail,
    parse_now,
    settings_or_exit,
)
from bot.cli.progress import TerminalBar
from bot.ledger_setup import cursor_access, ledger_engine, sync_options
from bot.settings import Settings
from bot.usecases import connect
from bot.usecases.connections import reencrypt_keys
from bot.usecases.syncs import connections_to_sync, sync_one
from connectors.cursor.source import EventPage
from ledger import migrate
from ledger.errors import SyncAlreadyRunning
from ledger.ingest import IngestResult
from ledger.models import SyncKind, SyncTrigger
from ledger.secrets import SecretBox
from ledger.sync import PageCallback, SyncOutcome

db_app = typer.Typer(help="Database schema and stored secrets.", no_args_is_help=True)
connect_app = typer.Typer(help="Connect a provider to a workspace.", no_args_is_help=True)

NowOption = Annotated[str | None, typer.Option(help="Pretend it is this ISO instant.", hidden=True)]
WorkspaceOption = Annotated[str, typer.Option("--workspace", "-w", help="Slack team id or name.")]


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema to the current version."""
    settings = settings_or_exit()
    with clean_errors(settings.database_url):
        ledger_engine(settings, require_current=False).dispose()  # a usable URL first
        migrate.upgrade(settings.database_url)
    typer.echo(f"database at {migrate.head_revision()}")


@db_app.command("reencrypt")
def db_reencrypt() -> None:
    """Re-encrypt stored provider keys under the newest STACKSPEND_SECRET_KEY."""
    settings = settings_or_exit()
    with clean_errors():
        engine = ledger_engine(settings)
        changed = reencrypt_keys(engine, settings.secret_box())
    typer.echo(f"re-encrypted {changed} key(s)")


def _read_api_key(api_key_file: Path | None, settings: Settings) -> str:
    """The key from --api-key-file or STACKSPEND_CURSOR_API_KEY (the environment or `.env`):
    one line, no inner spaces.

    Checked before anything is sent to Cursor; the message never repeats the file's text.
    """
    if api_key_file is not None:
        where = f"--api-key-file {api_key_file}"
        try:
            text = api_key_file.read_text(encoding="utf-8")
        except OSError as exc:
            fail(f"cannot read {where}: {exc.strerror or exc}")
        except UnicodeDecodeError:
            fail(f"{where} is not a text file: put the Cursor Admin API key in it, on one line.")
        return _one_key(text, where)
    secret = settings.cursor_api_key
    text = secret.get_secret_value() if secret is not None else ""
    if not text.strip():
        fail(
            "No Cursor Admin API key: set STACKSPEND_CURSOR_API_KEY or pass --api-key-file PATH "
            "(keys are never accepted as command arguments)."
        )
    return _one_key(text, "STACKSPEND_CURSOR_API_KEY")


def _one_key(text: str, where: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        fail(f"{where} is empty: put the Cursor Admin API key in it, on one line.")
    if len(lines) > 1:
        fail(
            f"{where} holds {len(lines)} non-empty lines: it must hold only the Cursor Admin "
            "API key, on one line. Nothing was sent to Cursor."
        )
    key = lines[0]
    if any(char.isspace() for char in key):
        fail(
            f"the key in {where} contains spaces or tabs: a Cursor Admin API key has none. "
            "Copy it again from the Cursor dashboard. Nothing was sent to Cursor."
        )
    return key


@connect_app.command("cursor")
def connect_cursor(
    workspace: WorkspaceOption,
    name: Annotated[str, typer.Option(help="Workspace display name.")] = "",
    api_key_file: Annotated[
        Path | None, typer.Option(help="File holding the Cursor Admin API key.")
    ] = None,
    now: NowOption = None,
) -> None:
    """Check a Cursor Admin API key with one live call and store it encrypted."""
    settings = settings_or_exit()
    api_key = _read_api_key(api_key_file, settings)
    with clean_errors():
        engine = ledger_engine(settings)
        connected = connect.connect_cursor(
            engine,
            access=cursor_access(settings),
            box=settings.secret_box(),
            team_id=workspace,
            workspace_name=name,
            api_key=api_key,
            connected_by="cli",
            now=parse_now(now),
        )
    typer.echo(
        f"connected Cursor to {connected.workspace} (key {connected.key_hint}, "
        f"{connected.members} members); run `stackspend sync --workspace {workspace}`"
    )


#: Exit status of `stackspend sync` when another sync already holds a connection (EX_TEMPFAIL).
EXIT_SYNC_BUSY = 75


def sync(
    workspace: Annotated[
        str | None, typer.Option("--workspace", "-w", help="Only this workspace.")
    ] = None,
    now: NowOption = None,
    light: Annotated[
        bool,
        typer.Option(
            "--light", help="Only the last hours' events (a light sync); deep by default."
        ),
    ] = False,
) -> None:
    """Sync usage from each connected provider into the ledger.

    A connection that another process is syncing is skipped with one line (exit 75 if
    nothing failed). SIGTERM ends the sync after the page being committed (exit 143).
    """
    settings = settings_or_exit()
    moment = parse_now(now)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with clean_errors():
        engine = ledger_engine(settings)
        box = settings.secret_box()
        targets = connections_to_sync(engine, workspace)
        kind = SyncKind.LIGHT if light else SyncKind.DEEP
        failures, busy = _sync_targets(
            engine, settings, box, targets, now=moment, stop=stop, kind=kind
        )
    if not targets:
        typer.echo("nothing to sync: no workspace has a connection yet")
    _exit_for(stopped=stop.is_set(), failures=failures, busy=busy)


def _sync_targets(
    engine: Engine,
    settings: Settings,
    box: SecretBox,
    targets: list[tuple[str, int]],
    *,
    now: datetime,
    stop: threading.Event,
    kind: SyncKind = SyncKind.DEEP,
) -> tuple[int, int]:
    """Sync each (team id, connection id) in turn, one line each; (failures, busy skips).

    Stops after the connection in hand once ``stop`` is set.
    """
    failures = busy = 0
    for team_id, connection_id in targets:
        try:
            outcome = _sync_target(engine, settings, box, team_id, connection_id, now, stop, kind)
        except SyncAlreadyRunning as exc:
            typer.echo(
                f"{team_id}: skipped: a sync has been running since "
                f"{exc.since:%Y-%m-%d %H:%M} UTC ({exc.trigger})",
                err=True,
            )
            busy += 1
            continue
        stream = sys.stdout if outcome.ok else sys.stderr
        print(f"{team_id}: {outcome.summary()}", file=stream)
        failures += not outcome.ok
        if stop.is_set():
            break
    return failures, busy


def _sync_target(
    engine: Engine,
    settings: Settings,
    box: SecretBox,
    team_id: str,
    connection_id: int,
    now: datetime,
    stop: threading.Event,
    kind: SyncKind = SyncKind.DEEP,
) -> SyncOutcome:
    """One connection's sync, with a progress bar of pages on a terminal."""
    with ProgressBar(team_id, enabled=sys.stderr.isatty()) as on_page:
        return sync_one(
            engine,
            connection_id=connection_id,
            access=cursor_access(settings),
            box=box,
            now=now,
            trigger=SyncTrigger.CLI,
            options=sync_options(settings),
            on_page=on_page,
            stop=stop,
            kind=kind,
        )


def _exit_for(*, stopped: bool, failures: int, busy: int) -> None:
    """The exit status of a finished sync: 143 after SIGTERM, 1 on a failure, 75 if busy."""
    if stopped:  # stopped by SIGTERM after the page in hand: the usual 128 + signal
        raise typer.Exit(128 + signal.SIGTERM)
    if failures:
        raise typer.Exit(1)
    if busy:
        raise typer.Exit(EXIT_SYNC_BUSY)


class ProgressBar:
    """A progress bar of pages on a terminal; silent otherwise."""

    def __init__(self, label: str, *, enabled: bool) -> None:
        columns = (
            TextColumn("{task.completed}/{task.total} pages · {task.fields[events]} events"),
        )
        self._bar = TerminalBar(label, columns, enabled=enabled, events=0)
        self._events = 0

    def __enter__(self) -> PageCallback:
        self._bar.__enter__()
        return self._on_page

    def __exit__(self, *_: object) -> None:
        self._bar.__exit__()

    def _on_page(self, page: EventPage, result: IngestResult) -> None:
        self._events += result.seen
        self._bar.update(total=page.num_pages, completed=page.page, events=self._events)
