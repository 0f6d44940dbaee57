"""``stackspend import cursor-csv``: months of history from Cursor's usage export.

The file is the team's export from Cursor's dashboard (Usage -> Export CSV). A progress
bar of bytes read shows on a terminal; the summary goes to stdout, as text or JSON.
Exit status: 0 done, 1 refused (not connected, ``--strict`` and a bad row), 2 a file that
is not a team export (the missing columns named) or cannot be read.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import DownloadColumn, TextColumn

from bot.cli.common import clean_errors, fail, print_json, settings_or_exit
from bot.cli.progress import TerminalBar
from bot.ledger_setup import ledger_engine
from bot.usecases.imports import ImportProgress, StrictImportRefused, import_cursor_csv
from connectors.cursor.csv_export import ExportFormatError
from digests.imports import summary_lines

import_app = typer.Typer(
    help="Import usage history from a provider's export.", no_args_is_help=True
)

#: Exit status of a file that is not what the verb reads (as for a usage error).
EXIT_BAD_FILE = 2

WorkspaceOption = Annotated[str, typer.Option("--workspace", "-w", help="Slack team id or name.")]


@import_app.command("cursor-csv")
def import_cursor(
    workspace: WorkspaceOption,
    file: Annotated[
        Path, typer.Argument(help="The team's usage export (Cursor: Usage -> Export CSV).")
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Read and summarise; write nothing.")
    ] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Refuse the whole file at its first bad row.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Import a Cursor usage export: history from before the connection.

    Rows from the API's history start on are skipped (syncs own them); importing the
    same file again adds nothing, so an interrupted import is finished by running it again.
    """
    settings = settings_or_exit()
    try:
        stream = file.open("rb")
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror or type(exc).__name__}", EXIT_BAD_FILE)
    with stream, clean_errors():
        engine = ledger_engine(settings)
        with BytesBar(str(file.name), enabled=sys.stderr.isatty() and not as_json) as bar:
            try:
                summary = import_cursor_csv(
                    engine,
                    workspace,
                    stream,
                    dry_run=dry_run,
                    strict=strict,
                    on_progress=bar,
                    pause_collector=True,  # this process does nothing else meanwhile
                )
            except ExportFormatError as exc:
                fail(str(exc), EXIT_BAD_FILE)
            except StrictImportRefused as exc:
                fail(str(exc))
    if as_json:
        print_json(summary.to_json())
    else:
        typer.echo("\n".join(summary_lines(summary)))


class BytesBar:
    """A progress bar of the file's bytes read, on a terminal; silent otherwise."""

    def __init__(self, label: str, *, enabled: bool) -> None:
        columns = (DownloadColumn(), TextColumn("· {task.fields[rows]} rows"))
        self._bar = TerminalBar(label, columns, enabled=enabled, rows=0)

    def __enter__(self) -> BytesBar:
        self._bar.__enter__()
        return self

    def __exit__(self, *_: object) -> None:
        self._bar.__exit__()

    def __call__(self, progress: ImportProgress) -> None:
        self._bar.update(
            total=progress.total_bytes, completed=progress.bytes_read, rows=progress.rows
        )
