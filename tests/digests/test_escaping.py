"""Untrusted text (Cursor model names and emails, Slack profiles) is escaped for every
surface: Slack mrkdwn, code blocks, CSV cells, terminals. End to end through the real
Bolt app with the Cursor simulator serving hostile model names, and rule by rule."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from bot.testing.fake_slack import Call, FakeSlack, SlackUser
from bot.testing.signed_requests import app_home_opened_body, bolt_request
from digests.alerts import AlertView, alerts_list, alerts_message
from digests.blocks import code_lines
from digests.chart import render_chart
from digests.format import csv_text, escape, escape_code, printable
from digests.reports import report_text
from digests.slack_reports import report_csv, report_message
from ledger.periods import Cycle, Period
from ledger.queries import Breakdown, Report, Row, Totals
from tests.bot.harness import ADMIN, Harness, build_harness
from tests.digests.test_daily import make_inputs

#: A model name that mentions everyone in Slack and is a formula in a spreadsheet.
HOSTILE = '<!channel> =HYPERLINK("http://x")'
HOSTILE_ESCAPED = '&lt;!channel&gt; =HYPERLINK("http://x")'
#: A model name that is a formula from its first character.
FORMULA = '=HYPERLINK("http://x","click")'
#: A model name that would close a code block and link out of it.
FENCE = "```<https://evil.test|click>"
#: Everything a hostile value could do in Slack if it arrived raw.
RAW = ("<!channel>", "<https://evil.test", "<!here>")
#: Every simulated model but two is served under the hostile name.
MODEL_NAMES = {
    "claude-4.5-sonnet": HOSTILE,
    "claude-4.1-opus": HOSTILE,
    "auto": HOSTILE,
    "composer-2.5-fast": HOSTILE,
    "gemini-2.5-pro": HOSTILE,
    "gpt-5": FORMULA,
    "grok-code-fast-1": FENCE,
}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture
def bot(sqlite_engine: Engine) -> Iterator[Harness]:
    with FakeSlack() as slack:
        harness = build_harness(sqlite_engine, slack, model_names=MODEL_NAMES)
        harness.connect_and_sync()
        slack.add_channel("CDIGEST", "eng-spend")
        yield harness
        harness.close()


def assert_nothing_raw(call: Call) -> None:
    sent = json.dumps({"text": call.params.get("text"), "blocks": call.blocks})
    for raw in RAW:
        assert raw not in sent


def code_blocks(call: Call) -> list[str]:
    return [
        block["text"]["text"]
        for block in call.blocks
        if block.get("type") == "section" and "```" in block.get("text", {}).get("text", "")
    ]


# -- end to end ----------------------------------------------------------------------------------


def test_a_hostile_cursor_model_name_reaches_slack_escaped_on_every_surface(
    bot: Harness,
) -> None:
    # A reply, and its code block of rows: escaped, and the block is not closed early.
    _, key = bot.command("cursor 30d by model")
    (reply,) = bot.replies(key)
    assert_nothing_raw(reply)
    (table,) = code_blocks(reply)
    assert HOSTILE_ESCAPED in table
    assert table.count("```") == 2 and table.startswith("*By model*\n```")
    assert "ˋˋˋ&lt;https://evil.test|click&gt;" in table

    # The same reply posted in the channel.
    _, key = bot.command("cursor 30d by model public")
    (public,) = bot.replies(key)
    assert public.params["response_type"] == "in_channel"
    assert_nothing_raw(public)
    assert HOSTILE_ESCAPED in public.all_text()

    # App Home's top model.
    assert bot.app.dispatch(bolt_request(app_home_opened_body(user_id=ADMIN))).status == 200
    (home,) = bot.slack.wait_for("views.publish")
    assert_nothing_raw(home)
    assert f"*Top model:* {HOSTILE_ESCAPED}" in home.all_text()

    # The digest's top models.
    _, key = bot.command("digest add <#CDIGEST|eng-spend> 09:00")
    bot.replies(key)
    _, key = bot.command("digest send 1")
    assert "posted" in bot.reply_text(key)
    (digest,) = [
        c for c in bot.slack.calls_to("chat.postMessage") if c.params["channel"] == "CDIGEST"
    ]
    assert_nothing_raw(digest)
    assert f"1. {HOSTILE_ESCAPED}" in digest.all_text()


def test_a_csv_export_has_no_cell_a_spreadsheet_would_run_as_a_formula(bot: Harness) -> None:
    _, key = bot.command("cursor 30d by model csv")
    bot.replies(key, count=2)
    (content,) = bot.slack.uploads.values()
    rows = list(csv.reader(io.StringIO(content.decode())))
    assert rows[0] == ["model", "dollars", "events", "input_tokens", "output_tokens"]
    keys = [row[0] for row in rows[1:]]
    assert {f"'{FORMULA}", HOSTILE, FENCE} <= set(keys)
    assert not [cell for row in rows for cell in row if cell.startswith(FORMULA_STARTS)]
    for row in rows[1:]:  # the figures stay numbers
        Decimal(row[1])
        int(row[2])
    assert f'"\'{FORMULA.replace(chr(34), chr(34) * 2)}"' in content.decode()


def test_a_hostile_slack_profile_email_is_escaped_where_it_is_shown(bot: Harness) -> None:
    bot.slack.add_user(SlackUser(id="UEVIL", email="x<!here>&y@evil.test", name="<!here>"))
    _, key = bot.command("budget set <@UEVIL> $5 month")
    assert "Budget set" in bot.reply_text(key)
    _, key = bot.command("cursor status")
    (status,) = bot.replies(key)
    assert_nothing_raw(status)
    assert "x&lt;!here&gt;&amp;y@evil.test (month)" in status.all_text()


# -- rule by rule --------------------------------------------------------------------------------


def test_text_typed_after_spend_is_echoed_escaped_never_as_a_mention(bot: Harness) -> None:
    response, _ = bot.command("cursor <!channel> <https://evil.test|click>")
    text = response.body
    assert "<!channel>" not in text and "<https://evil.test" not in text
    assert "&lt;!channel&gt;" in text or "&lt;https://evil.test" in text


def test_mrkdwn_escaping_turns_mentions_links_and_entities_into_plain_text() -> None:
    assert escape("<!channel> & <https://evil|click>") == (
        "&lt;!channel&gt; &amp; &lt;https://evil|click&gt;"
    )
    assert escape("&lt;") == "&amp;lt;"  # an entity in the data is shown as typed
    assert escape("claude-4.5-sonnet") == "claude-4.5-sonnet"


def test_a_code_block_line_cannot_close_the_block_mention_or_link() -> None:
    assert escape_code("```<!here>`") == "ˋˋˋ&lt;!here&gt;ˋ"
    text, kept = code_lines(["```", "<https://evil|x>", "ok"])
    assert kept == 3
    assert text.count("```") == 2 and text.startswith("```\n") and text.endswith("\n```")
    assert "<" not in text


def test_code_block_lines_are_counted_escaped_and_never_overflow_the_section() -> None:
    text, kept = code_lines(["<" * 100] * 40, budget=1000)
    assert len(text) <= 1000 and text.endswith("\n```")
    assert kept == 2  # 400 characters each once escaped


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("  =1", "'  =1"),
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("ada@acme.test", "ada@acme.test"),
        ("claude-4.5-sonnet", "claude-4.5-sonnet"),
        ("", ""),
    ],
)
def test_csv_text_cells_that_start_a_formula_are_prefixed_with_a_quote(
    cell: str, expected: str
) -> None:
    assert csv_text(cell) == expected


def report(rows: list[Row], by: Breakdown = Breakdown.MODEL, user: str | None = None) -> Report:
    total = sum((row.cents for row in rows), Decimal(0))
    return Report(
        provider="cursor",
        workspace="T1",
        timezone="UTC",
        period=Period(date(2026, 11, 1), date(2026, 11, 24), "this cycle"),
        by=by,
        user=user,
        as_of=datetime(2026, 11, 25, tzinfo=UTC),
        history_start=None,
        cycle=Cycle(start=date(2026, 11, 1), previous_start=date(2026, 10, 1)),
        totals=Totals(cents=total, events=len(rows)),
        rows=rows,
    )


def row(key: str, cents: str) -> Row:
    return Row(key=key, cents=Decimal(cents), events=1, input_tokens=10, output_tokens=-3)


def test_report_csv_neutralises_text_cells_and_keeps_negative_figures_as_numbers() -> None:
    content = report_csv(report([row("-2+3", "-150"), row("@cmd", "1234.5"), row("gpt-5", "1")]))
    lines = content.splitlines()
    assert lines[0] == "model,dollars,events,input_tokens,output_tokens"
    assert lines[1] == '"\'-2+3",-1.50,1,10,-3'
    assert lines[2] == '"\'@cmd",12.34,1,10,-3'  # half to even, as before
    assert lines[3] == '"gpt-5",0.01,1,10,-3'


def test_report_message_escapes_every_value_from_cursor_in_text_and_blocks() -> None:
    message = report_message(
        report([row(HOSTILE, "100"), row(FENCE, "50")], user="a<!here>@evil.test")
    )
    sent = json.dumps({"text": message.text, "blocks": message.blocks})
    for raw in RAW:
        assert raw not in sent
    assert "a&lt;!here&gt;@evil.test" in message.text


def test_alert_messages_escape_titles_in_the_fallback_text_too() -> None:
    alert = AlertView(
        id=1, kind="anomaly_user", title="<!channel> spent $5", detail="", status="open"
    )
    assert alerts_message([alert], "UTC").text == "&lt;!channel&gt; spent $5"
    assert "<!channel>" not in alerts_message([alert, alert], "UTC").text
    assert "<!channel>" not in json.dumps(alerts_list([alert], "UTC").blocks)


def test_terminal_text_shows_control_characters_instead_of_obeying_them() -> None:
    assert printable("evil\x1b[2J\u202emodel\n") == "evil\ufffd[2J\ufffdmodel\ufffd"
    text = report_text(report([row("evil\x1b]0;pwned\x07", "100")], user="x\x1b[31m@y.test"))
    assert "\x1b" not in text and "\x07" not in text


def test_a_model_name_that_is_bad_mathtext_still_draws_the_digest_chart() -> None:
    days = tuple((date(2026, 11, 24), name, Decimal(100)) for name in ("$\\nosuch$", "$x^{$"))
    png = render_chart(make_inputs(daily_by_model=days), width_px=300, height_px=200)
    assert png.startswith(b"\x89PNG")
