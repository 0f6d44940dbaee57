"""After an import, status, reports and digests say where history starts and from which
source; the import use case works on a stream of unknown length (an upload)."""

from __future__ import annotations

import io
from datetime import timedelta

from bot.usecases.digest_preview import digest_inputs_for
from bot.usecases.imports import ImportProgress, import_cursor_csv
from bot.usecases.reports import report_for
from bot.usecases.syncs import sync_one
from connectors.cursor.sim_export import export_bytes
from connectors.cursor.windows import settled_end
from digests.daily import compose
from digests.daily_json import render_json
from digests.reports import report_json
from ledger.models import SyncTrigger
from ledger.sync import SyncOptions
from tests.bot.harness import Harness
from tests.bot.test_csv_upload import connect


class Unseekable(io.RawIOBase):
    """An upload being read: no length, no seeking."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        return self._data.readinto(buffer)


def test_status_reports_and_digests_name_the_history_sources(bot: Harness) -> None:
    connection_id = connect(bot)
    outcome = sync_one(
        bot.engine,
        connection_id=connection_id,
        access=bot.services.cursor_access(),
        box=bot.services.box,
        now=bot.clock.now,
        trigger=SyncTrigger.MANUAL,
        options=SyncOptions(max_history_days=7),  # the API's week
    )
    assert outcome.ok and outcome.history_start is not None
    end = settled_end(bot.clock.now)
    data = export_bytes(bot.sim, end - timedelta(days=25), end)
    seen: list[ImportProgress] = []

    summary = import_cursor_csv(bot.engine, "T1", Unseekable(data), on_progress=seen.append)  # type: ignore[arg-type]

    assert summary.skipped > 0 and summary.imported > 0 and summary.bad_count == 0
    assert summary.api_start == outcome.history_start
    assert seen and seen[-1].bytes_read == len(data) and seen[-1].total_bytes == len(data)
    report = report_for(
        bot.engine, workspace_ref="T1", period_text="30d", by="day", now=bot.clock.now
    )
    history = report_json(report)["history"]
    assert history["source"] == "csv+api"
    assert history["api_start"] == outcome.history_start.isoformat()
    assert history["start"] == history["imported_start"] < history["imported_end"]
    assert history["imported_end"] < history["api_start"]
    digest = render_json(compose(digest_inputs_for(bot.engine, "T1", now=bot.clock.now, top=5)))
    assert digest["history"] == history
    _, key = bot.command("cursor status")
    text = bot.reply_text(key)
    assert "History source:* imported CSV from" in text and "then the API" in text
