"""`/spend` end to end: signed requests through the real Bolt app, a real ledger, the
Cursor simulator, and the fake Slack Web API recording every call."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from bot.slack import ids
from bot.slack.errors import SORRY
from bot.testing.signed_requests import (
    app_home_opened_body,
    block_actions_body,
    bolt_request,
    slash_command_body,
    view_submission_body,
)
from connectors.cursor.access import KEY_CHECK_TIMEOUT_SECONDS, CursorAccess
from connectors.cursor.client import ClientOptions
from connectors.cursor.sim_team import DEMO_API_KEY
from connectors.cursor.simulator import running_server
from digests.format import dollars
from ledger.db import session_scope
from ledger.models import Connection
from ledger.queries import ROLLUPS
from tests.bot.harness import ADMIN, MEMBER, STRANGER, Harness


@pytest.fixture
def synced_bot(bot: Harness) -> Harness:
    bot.connect_and_sync()
    return bot


def ledger_total(engine: Engine) -> Decimal:
    from sqlalchemy import func

    with session_scope(engine) as session:
        return Decimal(session.execute(select(func.sum(ROLLUPS.c.charged_cents))).scalar() or 0)


def test_spend_cursor_answers_privately_with_totals_and_rows(synced_bot: Harness) -> None:
    response, key = synced_bot.command("cursor 30d by user")
    assert response.status == 200 and response.body == ""
    (reply,) = synced_bot.replies(key)
    assert reply.params["response_type"] == "ephemeral"
    text = reply.all_text()
    assert "Cursor spend: last 30 days" in text
    assert dollars(ledger_total(synced_bot.engine)) in text
    assert "Data as of" in text and "history since" in text
    assert len(reply.blocks) <= 50


def test_public_posts_in_the_channel(synced_bot: Harness) -> None:
    _, key = synced_bot.command("cursor 7d by model public")
    assert synced_bot.replies(key)[0].params["response_type"] == "in_channel"


def test_csv_uploads_every_row_to_the_users_dm(synced_bot: Harness) -> None:
    _, key = synced_bot.command("cursor cycle by user csv")
    synced_bot.replies(key, count=2)
    complete = synced_bot.slack.wait_for("files.completeUploadExternal")[0]
    assert complete.json("channel_id") == "D" + ADMIN
    (content,) = synced_bot.slack.uploads.values()
    lines = content.decode().splitlines()
    assert lines[0] == "user,dollars,events,input_tokens,output_tokens"
    assert len(lines) > 3


def test_me_shows_the_callers_own_spend(synced_bot: Harness) -> None:
    _, key = synced_bot.command("me 30d", user=MEMBER)
    text = synced_bot.reply_text(key)
    assert f"for {synced_bot.emails[1]}" in text


def test_members_see_only_their_own_row_by_default(synced_bot: Harness) -> None:
    _, key = synced_bot.command("cursor 30d by user", user=MEMBER)
    text = synced_bot.reply_text(key)
    assert synced_bot.emails[1] in text and "(you)" in text
    assert synced_bot.emails[0] not in text
    assert "only your own row is shown" in text
    _, key = synced_bot.command(f"cursor 30d {synced_bot.emails[0]}", user=MEMBER)
    assert "their own spend and team totals" in synced_bot.reply_text(key)


def test_admins_see_everyone(synced_bot: Harness) -> None:
    _, key = synced_bot.command(f"cursor 30d <@{MEMBER}|max>")
    assert f"for {synced_bot.emails[1]}" in synced_bot.reply_text(key)


def test_mistakes_are_answered_with_usage_in_the_ack(synced_bot: Harness) -> None:
    response, _ = synced_bot.command("cursr 7d")
    assert response.status == 200
    body = json.loads(response.body)
    assert "cursor" in body["text"] and "/spend" in body["text"]


def test_help_lists_the_commands(bot: Harness) -> None:
    response, _ = bot.command("")
    assert "/spend cursor" in json.loads(response.body)["text"]


def test_a_key_typed_after_connect_is_refused_and_never_stored_or_echoed(bot: Harness) -> None:
    response, _ = bot.command(f"cursor connect {DEMO_API_KEY}")
    text = json.loads(response.body)["text"]
    assert "rotate" in text and DEMO_API_KEY not in text
    time.sleep(0.2)
    assert all(DEMO_API_KEY not in call.body.decode(errors="ignore") for call in bot.slack.calls)
    with session_scope(bot.engine) as session:
        assert session.execute(select(Connection)).first() is None


def test_connect_opens_a_modal_for_admins_only(bot: Harness) -> None:
    bot.command("cursor connect", user=STRANGER)
    refusal = bot.slack.wait_for("response_url")[0]
    assert "Only workspace admins" in refusal.all_text()
    assert not bot.slack.calls_to("views.open")

    response, _ = bot.command("cursor connect")
    assert response.status == 200
    opened = bot.slack.wait_for("views.open")[0]
    assert opened.json("view")["callback_id"] == ids.CONNECT_VIEW


def submit_key(bot: Harness, key: str, user: str = ADMIN) -> tuple[int, str]:
    values = {
        ids.CONNECT_KEY_BLOCK: {ids.CONNECT_KEY_INPUT: {"type": "plain_text_input", "value": key}}
    }
    body = view_submission_body(
        ids.CONNECT_VIEW, values, user_id=user, private_metadata=json.dumps({"channel_id": "C1"})
    )
    response = bot.app.dispatch(bolt_request(body))
    return response.status, response.body


@pytest.mark.parametrize(
    ("key", "kind", "message"),
    [
        ("crsr_" + "9" * 64, None, "Cursor rejected this key"),
        ("crsr_" + "8" * 64, "no-enterprise", "no Admin API access"),
        ("two words", None, "no spaces"),
    ],
)
def test_a_bad_key_is_shown_in_the_modal_and_nothing_is_stored(
    bot: Harness, key: str, kind: str | None, message: str
) -> None:
    if kind:
        bot.sim.add_key(key, kind)
    status, body = submit_key(bot, key)
    assert status == 200
    payload = json.loads(body)
    assert payload["response_action"] == "errors"
    assert message in payload["errors"][ids.CONNECT_KEY_BLOCK]
    with session_scope(bot.engine) as session:
        assert session.execute(select(Connection)).first() is None


def test_an_unreachable_cursor_is_an_inline_error_within_three_seconds(bot: Harness) -> None:
    bot.sim.faults.delay_seconds = 10
    with running_server(bot.sim) as base_url:  # real HTTP, so the client's timeout applies
        options = ClientOptions(
            base_url=base_url, timeout_seconds=KEY_CHECK_TIMEOUT_SECONDS, max_attempts=1
        )
        bot.services.cursor_check_access = lambda: CursorAccess(options)
        _, body = submit_key(bot, DEMO_API_KEY)  # its time: bench/bounds_bench.py
        bot.sim.faults.delay_seconds = 0
    assert "did not answer in time" in json.loads(body)["errors"][ids.CONNECT_KEY_BLOCK]


def test_a_good_key_closes_the_modal_is_stored_encrypted_and_the_first_sync_reports_history(
    bot: Harness,
) -> None:
    status, body = submit_key(bot, DEMO_API_KEY)
    assert status == 200 and body == ""
    confirmations = bot.slack.wait_for("chat.postEphemeral", count=2, timeout=20)
    assert "Cursor connected (key …0000" in confirmations[0].all_text()
    assert "days of history" in confirmations[1].all_text()
    with session_scope(bot.engine) as session:
        stored = session.execute(select(Connection)).scalars().one()
    assert stored.key_hint == "…0000" and DEMO_API_KEY not in stored.encrypted_key
    assert ledger_total(bot.engine) > 0


def test_non_admins_cannot_sync_or_change_settings(synced_bot: Harness) -> None:
    for text in (
        "cursor sync",
        "settings timezone Europe/Paris",
        "settings visibility all",
        "cursor disconnect",
    ):
        _, key = synced_bot.command(text, user=MEMBER)
        assert "Only workspace admins" in synced_bot.reply_text(key), text


def test_settings_change_the_timezone_and_rebuild(synced_bot: Harness) -> None:
    total = ledger_total(synced_bot.engine)
    _, key = synced_bot.command("settings timezone asia/kolkata")
    assert "Asia/Kolkata" in synced_bot.reply_text(key)
    assert ledger_total(synced_bot.engine) == total


def test_sync_now_runs_once_an_hour(synced_bot: Harness) -> None:
    _, key = synced_bot.command("cursor sync")
    replies = synced_bot.replies(key, count=2)
    assert "synced" in replies[1].all_text()
    _, key = synced_bot.command("cursor sync")
    assert "less than an hour ago" in synced_bot.reply_text(key)


def test_status_shows_health_and_history(synced_bot: Harness) -> None:
    _, key = synced_bot.command("cursor status")
    text = synced_bot.reply_text(key)
    assert "active" in text and "History starts" in text and "Last successful sync" in text


def test_disconnect_asks_first_then_keeps_history(synced_bot: Harness) -> None:
    _, key = synced_bot.command("cursor disconnect")
    prompt = synced_bot.replies(key)[0]
    assert [e["action_id"] for e in prompt.blocks[1]["elements"]] == [
        ids.DISCONNECT_CONFIRM,
        ids.DISCONNECT_CANCEL,
    ]
    total = ledger_total(synced_bot.engine)
    body = block_actions_body(
        ids.DISCONNECT_CONFIRM,
        "cursor",
        user_id=ADMIN,
        response_url=synced_bot.slack.response_url("press"),
    )
    assert synced_bot.app.dispatch(bolt_request(body)).status == 200
    updated = synced_bot.replies("press")[0]
    assert updated.params["replace_original"] is True
    assert f"disconnected by <@{ADMIN}>" in updated.all_text()
    with session_scope(synced_bot.engine) as session:
        (connection,) = session.execute(select(Connection)).scalars().all()
        assert connection.status == "disconnected" and connection.encrypted_key == ""
    assert ledger_total(synced_bot.engine) == total


def test_workspace_b_never_sees_workspace_as_data(synced_bot: Harness) -> None:
    _, key = synced_bot.command("cursor 30d", user="UB", team="T2")
    text = synced_bot.reply_text(key)
    assert "no cursor connection yet" in text
    assert "$" not in text


def test_app_home_shows_my_spend_team_totals_and_buttons(synced_bot: Harness) -> None:
    response = synced_bot.app.dispatch(bolt_request(app_home_opened_body(user_id=MEMBER)))
    assert response.status == 200
    published = synced_bot.slack.wait_for("views.publish")[0]
    text = published.all_text()
    assert "Your spend this cycle" in text and "Team this cycle" in text
    assert any(b["type"] == "actions" for b in published.blocks)


def test_a_quick_button_in_app_home_answers_by_dm(synced_bot: Harness) -> None:
    body = block_actions_body(
        "quick_team_model", "cursor cycle by model", user_id=ADMIN, channel_id=None
    )
    assert synced_bot.app.dispatch(bolt_request(body)).status == 200
    posted = synced_bot.slack.wait_for("chat.postMessage")[0]
    assert posted.params["channel"] == "D" + ADMIN
    assert "By model" in posted.all_text()


def test_forged_and_stale_requests_are_rejected(bot: Harness) -> None:
    body = slash_command_body("cursor")
    assert bot.app.dispatch(bolt_request(body, secret="not-the-secret")).status == 401
    stale = int(time.time()) - 6 * 60
    assert bot.app.dispatch(bolt_request(body, timestamp=stale)).status == 401


def test_the_acknowledgement_does_not_wait_for_a_slow_cursor(synced_bot: Harness) -> None:
    """The ack comes back while Cursor is still answering (its latency is a bench figure:
    `python -m bench slack_bench`)."""
    synced_bot.sim.faults.delay_seconds = 2
    response, key = synced_bot.command("cursor sync")
    assert response.status == 200
    answered = [
        c
        for c in synced_bot.slack.calls_to("response_url")
        if c.params.get("_key") == key and "synced" in c.all_text()
    ]
    assert answered == []  # the sync's result is still to come
    synced_bot.sim.faults.delay_seconds = 0
    assert "synced" in synced_bot.replies(key, count=2, timeout=60)[1].all_text()


SLACK_MARKUP = st.sampled_from(
    ["<@U1|a>", "<#C1|general>", "<mailto:a@b.c|a@b.c>", "&amp;", "*", "`"]
)
WORDS = st.sampled_from(
    [
        "cursor",
        "me",
        "help",
        "by",
        "user",
        "model",
        "top",
        "5",
        "7d",
        "cycle",
        "csv",
        "public",
        "settings",
        "timezone",
        "digest",
        "budget",
        "alerts",
        "status",
        "2026-11-01..2026-11-03",
        "x",
    ]
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(words=st.lists(st.one_of(WORDS, SLACK_MARKUP, st.text(max_size=12)), max_size=6))
def test_no_command_text_makes_a_listener_raise_or_stay_silent(
    synced_bot: Harness, words: list[str]
) -> None:
    text = " ".join(words).replace(
        "payload", "pay load"
    )  # Bolt reads "payload" in a form as interactivity
    response, key = synced_bot.command(text, user=MEMBER)
    assert response.status == 200
    if response.body:
        assert json.loads(response.body)["text"]
        return
    replies = synced_bot.replies(key)
    assert all(SORRY not in r.all_text() for r in replies), text


def test_an_admin_links_a_person_whose_emails_differ(synced_bot: Harness) -> None:
    _, key = synced_bot.command("me 30d", user=STRANGER)
    assert "for nobody@elsewhere.test" in synced_bot.reply_text(key)
    target = synced_bot.emails[3]
    _, key = synced_bot.command(f"settings link <@{STRANGER}|sam> <mailto:{target}|{target}>")
    assert f"matched to the Cursor user {target}" in synced_bot.reply_text(key)
    _, key = synced_bot.command("me 30d", user=STRANGER)
    assert f"for {target}" in synced_bot.reply_text(key)
    _, key = synced_bot.command(f"settings link <@{MEMBER}> nobody@nowhere.test")
    assert "No Cursor member has the email" in synced_bot.reply_text(key)
    _, key = synced_bot.command(f"settings link <@{MEMBER}> {target}", user=MEMBER)
    assert "Only workspace admins" in synced_bot.reply_text(key)
