"""The CLI's progress bars: what they show as a sync's pages and an import's bytes go by."""

from __future__ import annotations

from bot.cli.import_command import BytesBar
from bot.cli.ledger_commands import ProgressBar
from bot.cli.progress import TerminalBar
from connectors.cursor.source import EventPage
from ledger.import_summary import ImportProgress
from ledger.ingest import IngestResult


def _task(bar: TerminalBar) -> object:
    progress = bar._progress
    assert progress is not None
    return progress.tasks[0]


def test_a_sync_bar_counts_pages_and_events() -> None:
    bar = ProgressBar("T1", enabled=True)
    with bar as on_page:
        for number in (1, 2):
            page = EventPage(0, 1, number, 3, number < 3, [])
            on_page(page, IngestResult(seen=1000, new=1000))
        task = _task(bar._bar)
        assert (task.completed, task.total, task.fields["events"]) == (2, 3, 2000)  # type: ignore[attr-defined]


def test_an_import_bar_follows_the_bytes_read_and_rows() -> None:
    with BytesBar("export.csv", enabled=True) as bar:
        bar(ImportProgress(bytes_read=512, total_bytes=2048, rows=40))
        task = _task(bar._bar)
        assert (task.completed, task.total, task.fields["rows"]) == (512, 2048, 40)  # type: ignore[attr-defined]


def test_off_a_terminal_the_bars_show_nothing_and_take_updates() -> None:
    with BytesBar("export.csv", enabled=False) as bar:
        bar(ImportProgress(bytes_read=1, total_bytes=None, rows=1))
    assert bar._bar._progress is None
