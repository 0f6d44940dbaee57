"""Importing Cursor's usage export uploaded in the bot's DM, end to end through the Bolt app:
signed `file_shared` events, `files.info` and the download from the fake Slack, one progress
message edited in place, and the import into a real ledger."""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.slack import grammar, import_words, progress_message
from bot.slack.errors import SORRY
from bot.slack.listeners.uploads import TEMP_PREFIX
from bot.testing.fake_slack import Call, FakeSlack
from bot.testing.signed_requests import bolt_request, event_body
from bot.usecases import csv_upload
from bot.usecases.connect import connect_cursor
from connectors.cursor.sim_export import export_bytes
from connectors.cursor.sim_team import DEMO_API_KEY
from connectors.cursor.simulator import wire_charge
from ledger.accounts import find_connection, find_workspace
from ledger.db import session_scope
from ledger.rollups import ROLLUPS
from ledger.types import quantize_money
from tests.bot.harness import ADMIN, MEMBER, Harness

CSV = b"Date,User,Kind,Model,Max Mode,Cost\r\n"


def share(bot: Harness, file_id: str, *, user: str = ADMIN, channel: str | None = None) -> None:
    """Slack's `file_shared` event for ``file_id``, signed and dispatched."""
    event = {
        "type": "file_shared",
        "channel_id": channel or f"D{user}",
        "file_id": file_id,
        "user_id": user,
        "file": {"id": file_id},
    }
    response = bot.app.dispatch(bolt_request(event_body(event)))
    assert response.status == 200


def connect(bot: Harness) -> int:
    """Connect Cursor (no sync: the API's history has not started); the connection id."""
    connect_cursor(
        bot.engine,
        access=bot.services.cursor_access(),
        box=bot.services.box,
        team_id="T1",
        api_key=DEMO_API_KEY,
        connected_by=ADMIN,
        now=bot.clock.now,
    )
    with session_scope(bot.engine) as session:
        connection = find_connection(session, find_workspace(session, "T1"))
        assert connection is not None and connection.id is not None
        return connection.id


def settle(bot: Harness) -> None:
    """Wait for the listeners, then for the background imports they started."""
    bot.executor.shutdown(wait=True)
    bot.services.workers.shutdown(wait=True)
    bot.services.imports.shutdown(wait=True)


def dm_messages(slack: FakeSlack, channel: str) -> list[Call]:
    return [c for c in slack.calls_to("chat.postMessage") if c.params.get("channel") == channel]


def final_text(slack: FakeSlack, channel: str) -> str:
    """The one message's last words: its last edit, or the post itself when never edited."""
    posts = dm_messages(slack, channel)
    assert len(posts) == 1, [p.all_text() for p in posts]
    ts = posts[0].response["ts"]
    edits = [c for c in slack.calls_to("chat.update") if c.params.get("ts") == ts]
    return (edits[-1] if edits else posts[0]).all_text()


@pytest.fixture(autouse=True)
def temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Downloads land here, so a test can see that none is left behind."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def leftovers(folder: Path) -> list[Path]:
    return sorted(folder.glob(f"{TEMP_PREFIX}*"))


def test_a_member_gets_the_admin_only_refusal_and_nothing_is_downloaded(
    bot: Harness, slack: FakeSlack
) -> None:
    slack.add_file("F1", "usage.csv", CSV, user=MEMBER, channel=f"D{MEMBER}")
    share(bot, "F1", user=MEMBER)
    settle(bot)
    assert final_text(slack, f"D{MEMBER}") == import_words.REFUSED
    assert "Only workspace admins and owners" in import_words.REFUSED
    assert slack.calls_to("download") == []
    assert slack.calls_to("files.info") == []


def test_a_file_that_is_not_csv_is_refused_by_name(bot: Harness, slack: FakeSlack) -> None:
    slack.add_file("F2", "notes <b>.pdf", b"%PDF-1.4", user=ADMIN, channel=f"D{ADMIN}")
    share(bot, "F2")
    settle(bot)
    text = final_text(slack, f"D{ADMIN}")
    assert "isn't a CSV file" in text and "notes &lt;b&gt;.pdf" in text
    assert "Export CSV" in text
    assert slack.calls_to("download") == []


def test_a_file_over_the_limit_is_refused_before_any_download(
    bot: Harness, slack: FakeSlack, temp_dir: Path
) -> None:
    bot.services.import_max_bytes = 1024 * 1024
    slack.add_file("F3", "usage.csv", CSV, user=ADMIN, channel=f"D{ADMIN}", size=5 * 1024 * 1024)
    share(bot, "F3")
    settle(bot)
    text = final_text(slack, f"D{ADMIN}")
    assert "is 5 MB" in text and "up to 1 MB" in text and "STACKSPEND_IMPORT_MAX_MB" in text
    assert slack.calls_to("download") == []
    assert leftovers(temp_dir) == []


@pytest.mark.parametrize("send_length", [True, False], ids=["announced", "streamed"])
def test_a_download_bigger_than_the_limit_is_stopped(
    bot: Harness, slack: FakeSlack, temp_dir: Path, send_length: bool
) -> None:
    """The file object said 100 bytes; Slack sends 300 kB: the download stops at the limit."""
    connect(bot)
    bot.services.import_max_bytes = 64 * 1024
    content = CSV + b"x" * 300_000
    slack.add_file(
        "F4",
        "usage.csv",
        content,
        user=ADMIN,
        channel=f"D{ADMIN}",
        size=100,
        send_length=send_length,
    )
    share(bot, "F4")
    settle(bot)
    text = final_text(slack, f"D{ADMIN}")
    assert text.startswith(":x: Could not import `usage.csv`")
    assert "larger than the 65,536 bytes limit" in text
    assert len(slack.calls_to("download")) == 1
    assert leftovers(temp_dir) == []


def test_a_download_address_off_slacks_file_host_is_refused(
    bot: Harness, slack: FakeSlack, temp_dir: Path
) -> None:
    connect(bot)
    with FakeSlack() as elsewhere:
        elsewhere.add_file("F5", "usage.csv", CSV, user=ADMIN, channel=f"D{ADMIN}")
        foreign = elsewhere.shared_files["F5"]["url_private_download"]
        slack.add_file("F5", "usage.csv", CSV, user=ADMIN, channel=f"D{ADMIN}", url=foreign)
        share(bot, "F5")
        settle(bot)
        assert elsewhere.calls_to("download") == []  # the token never left for another host
    text = final_text(slack, f"D{ADMIN}")
    assert "not on Slack's file host" in text
    assert slack.calls_to("download") == []
    assert leftovers(temp_dir) == []


def test_the_download_carries_the_bot_token(bot: Harness, slack: FakeSlack) -> None:
    connect(bot)
    slack.add_file("F6", "usage.csv", CSV, user=ADMIN, channel=f"D{ADMIN}")
    share(bot, "F6")
    settle(bot)
    (download,) = slack.calls_to("download")
    assert download.authorization == "Bearer xoxb-test"
    assert download.http_method == "GET"


def test_a_token_slack_will_not_serve_says_which_scope_is_missing(
    bot: Harness, slack: FakeSlack
) -> None:
    connect(bot)
    slack.add_file("F7", "usage.csv", CSV, user=ADMIN, channel=f"D{ADMIN}")
    slack.files_read_granted = False
    share(bot, "F7")
    settle(bot)
    assert slack.calls_to("download")[0].status == 302
    assert "`files:read` scope" in final_text(slack, f"D{ADMIN}")


def test_files_shared_outside_the_dm_or_by_the_bot_are_ignored(
    bot: Harness, slack: FakeSlack
) -> None:
    slack.add_file("F8", "usage.csv", CSV, user=ADMIN, channel="C1")
    share(bot, "F8", channel="C1")
    share(bot, "F8", user="UBOT", channel=f"D{ADMIN}")
    settle(bot)
    assert slack.calls_to("chat.postMessage") == []
    assert slack.calls_to("files.info") == []


def test_the_same_file_event_delivered_twice_is_handled_once(
    bot: Harness, slack: FakeSlack
) -> None:
    connect(bot)
    slack.add_file("F9", "usage.csv", CSV, user=ADMIN, channel=f"D{ADMIN}")
    share(bot, "F9")
    share(bot, "F9")
    settle(bot)
    assert len(dm_messages(slack, f"D{ADMIN}")) == 1
    assert len(slack.calls_to("files.info")) == 1
    assert len(slack.calls_to("download")) == 1


def test_spend_cursor_import_explains_how_to_admins_only(bot: Harness) -> None:
    bot.services.import_max_bytes = 200 * 1024 * 1024
    _, key = bot.command("cursor import")
    text = bot.reply_text(key)
    assert "Usage" in text and "Export CSV" in text
    assert "direct message" in text and "200 MB" in text and "skipped" in text
    _, key = bot.command("cursor import", user=MEMBER)
    assert bot.reply_text(key).startswith(import_words.REFUSED)


@pytest.mark.parametrize("text", ["cursor import", "import", "Cursor IMPORT", "import cursor"])
def test_cursor_import_parses(text: str) -> None:
    assert grammar.parse(text) == grammar.CursorImport()


def test_cursor_import_takes_no_arguments() -> None:
    assert isinstance(grammar.parse("cursor import usage.csv"), grammar.Invalid)


def truth_by_day(bot: Harness, start: datetime, end: datetime) -> dict[date, Decimal]:
    """The simulator's charge per UTC day, each event rounded as the ledger stores it."""
    totals: dict[date, Decimal] = {}
    for event in bot.sim.wire_events(start, end):
        day = datetime.fromtimestamp(int(event["timestamp"]) / 1000, UTC).date()
        totals[day] = totals.get(day, Decimal(0)) + quantize_money(wire_charge(event))
    return {day: total for day, total in totals.items() if total != 0}


def ledger_by_day(bot: Harness, connection_id: int) -> dict[date, Decimal]:
    query = (
        select(ROLLUPS.c.day, func.sum(ROLLUPS.c.charged_cents))
        .where(ROLLUPS.c.connection_id == connection_id)
        .group_by(ROLLUPS.c.day)
    )
    with session_scope(bot.engine) as session:
        rows = session.execute(query).all()
    return {day: Decimal(total) for day, total in rows if Decimal(total) != 0}


def test_an_admins_upload_is_imported_with_one_message_updated_to_the_summary(
    bot: Harness, slack: FakeSlack, temp_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(progress_message, "UPDATE_INTERVAL_SECONDS", 0.0)  # every step shows
    connection_id = connect(bot)
    start, end = bot.clock.now - timedelta(days=40), bot.clock.now + timedelta(days=1)
    content = export_bytes(bot.sim, start, end)
    rows = content.count(b"\r\n") - 1
    assert rows > 500
    slack.add_file("F10", "cursor usage.csv", content, user=ADMIN, channel=f"D{ADMIN}")

    share(bot, "F10")
    settle(bot)

    (post,) = dm_messages(slack, f"D{ADMIN}")
    assert "Importing `cursor usage.csv`" in post.all_text()
    edits = [c for c in slack.calls_to("chat.update") if c.params["ts"] == post.response["ts"]]
    assert len(edits) == len(slack.calls_to("chat.update")) >= 3  # download, import, summary
    assert "downloaded" in edits[0].all_text()
    assert any("rows…" in edit.all_text() for edit in edits[1:-1])
    summary = edits[-1].all_text()
    assert summary.startswith(":white_check_mark: Imported `cursor usage.csv`.")
    assert f"Imported {rows:,} rows into T1" in summary and f"Rows read: {rows:,}" in summary
    assert "skipped (the API's range): 0 · bad: 0" in summary
    truth = truth_by_day(bot, start, end)
    first, last = min(truth), max(truth)
    assert f"from {first} to {last} (UTC)" in summary
    assert f"{first:%Y-%m}: $" in summary
    assert ledger_by_day(bot, connection_id) == truth  # to the cent, day by day
    assert len(slack.calls_to("download")) == 1
    assert leftovers(temp_dir) == []


def test_a_csv_that_is_not_a_cursor_export_ends_with_the_missing_columns(
    bot: Harness, slack: FakeSlack, temp_dir: Path
) -> None:
    connect(bot)
    slack.add_file(
        "F11", "budget.csv", b"Team,Amount\r\nEng,100\r\n", user=ADMIN, channel="DUADMIN"
    )
    share(bot, "F11")
    settle(bot)
    text = final_text(slack, f"D{ADMIN}")
    assert text.startswith(":x: Could not import `budget.csv`:")
    assert "Date" in text and "User" in text and "Export CSV" in text
    assert leftovers(temp_dir) == []


def test_without_cursor_connected_the_upload_is_refused_before_downloading(
    bot: Harness, slack: FakeSlack
) -> None:
    slack.add_file("F12", "usage.csv", CSV, user=ADMIN, channel=f"D{ADMIN}")
    share(bot, "F12")
    settle(bot)
    text = final_text(slack, f"D{ADMIN}")
    assert "no cursor connection yet" in text and "/spend cursor connect" in text
    assert slack.calls_to("download") == []


def test_the_same_upload_delivered_twice_imports_once_with_exact_totals(
    bot: Harness, slack: FakeSlack
) -> None:
    connection_id = connect(bot)
    start, end = bot.clock.now - timedelta(days=40), bot.clock.now + timedelta(days=1)
    slack.add_file(
        "F13", "usage.csv", export_bytes(bot.sim, start, end), user=ADMIN, channel="DUADMIN"
    )
    share(bot, "F13")
    share(bot, "F13")
    settle(bot)
    assert len(dm_messages(slack, f"D{ADMIN}")) == 1
    assert len(slack.calls_to("download")) == 1
    assert ledger_by_day(bot, connection_id) == truth_by_day(bot, start, end)


def test_an_import_that_fails_logs_its_class_not_the_files_rows(
    bot: Harness,
    slack: FakeSlack,
    temp_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A database error quotes the rows it was given: the log names only its class."""

    def failing(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("INSERT failed [parameters: ('ann@acme.test', 'gpt-5', 12.0)]")

    monkeypatch.setattr(csv_upload, "import_cursor_csv", failing)
    connect(bot)
    sim_csv = b"Date,User,Kind,Model,Max Mode,Input (w/ Cache Write),Input (w/o Cache Write)"
    sim_csv += b",Cache Read,Output Tokens,Total Tokens,Cost\r\n"
    slack.add_file("F12", "usage.csv", sim_csv, user=ADMIN, channel="DUADMIN")

    share(bot, "F12")
    settle(bot)

    assert "import failed" in caplog.text and "RuntimeError" in caplog.text
    assert "ann@acme.test" not in caplog.text
    assert final_text(slack, f"D{ADMIN}") == SORRY  # the one message ends, saying so
    assert leftovers(temp_dir) == []
