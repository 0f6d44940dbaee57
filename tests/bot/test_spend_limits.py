"""Spend limits from Slack, through the real Bolt app, the fake Slack and the Cursor
simulator: command → dialog → confirm → one documented request → audit → next sync."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from slack_bolt.response import BoltResponse
from sqlalchemy import Engine, select

from bot.slack import ids
from bot.testing.fake_slack import Call, FakeSlack
from bot.testing.signed_requests import block_actions_body, bolt_request, view_submission_body
from bot.usecases.connections import disconnect_cursor
from bot.usecases.syncs import sync_one
from connectors.cursor.endpoints import USER_SPEND_LIMIT
from connectors.cursor.sim_team import DEMO_API_KEY
from digests.alerts import SET_LIMIT
from ledger.accounts import find_connection, find_workspace
from ledger.db import session_scope
from ledger.limit_models import LimitOutcome, SpendLimitChange
from ledger.models import Alert, SyncTrigger
from tests.bot.harness import ADMIN, MEMBER, Harness, build_harness

NEXT_SYNC = "after the next sync"


@pytest.fixture
def bot(sqlite_engine: Engine) -> Iterator[Harness]:
    with FakeSlack() as slack:
        harness = build_harness(sqlite_engine, slack)
        harness.connect_and_sync()
        yield harness
        harness.close()


def sync(bot: Harness) -> None:
    with session_scope(bot.engine) as session:
        connection = find_connection(session, find_workspace(session, "T1"))
        assert connection is not None and connection.id is not None
        connection_id = connection.id
    outcome = sync_one(
        bot.engine,
        connection_id=connection_id,
        access=bot.services.cursor_access(),
        box=bot.services.box,
        now=bot.clock.now,
        trigger=SyncTrigger.MANUAL,
    )
    assert outcome.ok, outcome.error


def limit_requests(bot: Harness) -> list[dict[str, Any] | None]:
    return [r.body for r in bot.sim.requests if r.path == USER_SPEND_LIMIT]


def sim_limit(bot: Harness, email: str) -> int | None:
    return next(m.monthly_limit_dollars for m in bot.sim.team.members if m.email == email)


def opened_dialog(bot: Harness, count: int = 1) -> Call:
    return bot.slack.wait_for("views.open", count)[count - 1]


def submit(
    bot: Harness, dialog: Call, amount: str | None = None, user: str = ADMIN
) -> BoltResponse:
    """Press the dialog's confirm with ``amount`` typed in its field (None: as prefilled)."""
    view = dialog.response["view"]
    values: dict[str, Any] = {}
    if amount is not None or _field(view) is not None:
        typed = amount if amount is not None else _field(view)
        values = {ids.LIMIT_AMOUNT_BLOCK: {ids.LIMIT_AMOUNT_INPUT: {"value": typed}}}
    body = view_submission_body(
        ids.LIMIT_VIEW,
        values,
        user_id=user,
        private_metadata=view["private_metadata"],
        view_id=view["id"],
    )
    return bot.app.dispatch(bolt_request(body))


def _field(view: dict[str, Any]) -> str | None:
    for block in view["blocks"]:
        if block.get("block_id") == ids.LIMIT_AMOUNT_BLOCK:
            value = block["element"].get("initial_value")
            return str(value) if value is not None else None
    return None


def ack_of(response: BoltResponse) -> dict[str, Any]:
    assert response.status == 200
    return json.loads(response.body) if response.body else {}


def answer_view(bot: Harness, count: int = 1) -> Call:
    return bot.slack.wait_for("views.update", count, timeout=10)[count - 1]


def changes(bot: Harness) -> list[SpendLimitChange]:
    with session_scope(bot.engine) as session:
        return list(session.execute(select(SpendLimitChange)).scalars().all())


def test_command_dialog_confirm_sends_one_documented_request_audits_it_and_the_next_sync_shows_it(
    bot: Harness,
) -> None:
    email = bot.emails[1]
    before = sim_limit(bot, email)
    new = 200 if before != 200 else 250
    response, key = bot.command(f"limit <@{MEMBER}> ${new}")
    assert response.status == 200
    dialog = opened_dialog(bot)
    shown = dialog.all_text()
    assert email in shown
    assert "Spend this cycle" in shown and "$" in shown
    assert "Current limit:" in shown
    assert (
        ("none of their own" in shown) if before is None else (f"${before} of their own" in shown)
    )
    assert _field(dialog.response["view"]) == str(new)
    assert limit_requests(bot) == []  # nothing is sent before the confirm

    ack = ack_of(submit(bot, dialog))
    assert ack["response_action"] == "update"
    assert "sending to Cursor" in json.dumps(ack["view"])
    answer = answer_view(bot).all_text()
    assert f"Spend limit set to ${new} for user {email}" in answer
    assert NEXT_SYNC in answer
    assert limit_requests(bot) == [{"userEmail": email, "spendLimitDollars": new}]

    (change,) = changes(bot)
    assert (change.requested_by, change.email) == (ADMIN, email)
    assert (change.old_dollars, change.new_dollars) == (before, new)
    assert change.outcome is LimitOutcome.SUCCESS
    assert change.message == f"Spend limit set to ${new} for user {email}"
    assert change.requested_at == bot.clock.now

    _, key = bot.command("limits")
    listed = bot.reply_text(key)
    if before is None:  # not seen until the next sync reads the spend snapshot again
        assert email not in listed
    sync(bot)
    _, key = bot.command("limits")
    assert f"{email}: ${new} of their own (Cursor enforces ${new})" in bot.reply_text(key)
    _, key = bot.command("limits history")
    history = bot.reply_text(key)
    assert f"<@{ADMIN}> · {email} · " in history
    assert f"→ ${new} · success" in history


def test_removing_a_limit_sends_null_and_the_next_sync_shows_none(bot: Harness) -> None:
    email = bot.emails[1]
    bot.sim.team.members[
        [m.email for m in bot.sim.team.members].index(email)
    ].monthly_limit_dollars = 300
    sync(bot)
    bot.command(f"limit {email} off")
    dialog = opened_dialog(bot)
    assert "$300 of their own" in dialog.all_text()
    assert dialog.response["view"]["submit"]["text"] == "Remove limit"
    submit(bot, dialog)
    assert "Spend limit removed" in answer_view(bot).all_text()
    assert limit_requests(bot) == [{"userEmail": email, "spendLimitDollars": None}]
    sync(bot)
    _, key = bot.command("limits")
    assert f"{email}:" not in bot.reply_text(key)


def raise_person_alert(bot: Harness) -> Alert:
    _, key = bot.command(f"budget set <@{MEMBER}> $1 at 100")
    assert "Budget set" in bot.reply_text(key)
    bot.slack.wait_for("chat.postMessage", 2)
    with session_scope(bot.engine) as session:
        (alert,) = session.execute(select(Alert)).scalars().all()
    assert isinstance(alert, Alert)
    return alert


def dm_to(bot: Harness, user: str) -> Call:
    channels = {
        c.response["channel"]["id"]: c.params.get("users")
        for c in bot.slack.calls_to("conversations.open")
    }
    (dm,) = [
        c
        for c in bot.slack.calls_to("chat.postMessage")
        if channels.get(c.params["channel"]) == user
    ]
    return dm


def buttons(call: Call) -> list[str]:
    return [
        element["action_id"]
        for block in call.blocks
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def test_an_alert_dm_to_an_admin_has_a_set_limit_button_that_opens_the_dialog_prefilled(
    bot: Harness,
) -> None:
    email = bot.emails[1]
    alert = raise_person_alert(bot)
    assert SET_LIMIT in buttons(dm_to(bot, ADMIN))
    assert SET_LIMIT not in buttons(dm_to(bot, MEMBER))  # the person is not an admin
    body = block_actions_body(
        SET_LIMIT, str(alert.id), user_id=ADMIN, response_url=bot.slack.response_url("b")
    )
    assert bot.app.dispatch(bolt_request(body)).status == 200
    dialog = opened_dialog(bot)
    assert email in dialog.all_text() and "Spend this cycle" in dialog.all_text()
    own = sim_limit(bot, email)
    assert _field(dialog.response["view"]) == str(own if own is not None else 1)
    submit(bot, dialog, "75")
    assert f"Spend limit set to $75 for user {email}" in answer_view(bot).all_text()
    assert limit_requests(bot) == [{"userEmail": email, "spendLimitDollars": 75}]


def test_a_member_is_refused_at_every_step(bot: Harness) -> None:
    _, key = bot.command(f"limit <@{MEMBER}> $200", user=MEMBER)
    assert "Only workspace admins" in bot.reply_text(key)
    for text in ("limits", "limits history"):
        _, key = bot.command(text, user=MEMBER)
        assert "Only workspace admins" in bot.reply_text(key)
    assert bot.slack.calls_to("views.open") == []

    alert = raise_person_alert(bot)
    body = block_actions_body(
        SET_LIMIT, str(alert.id), user_id=MEMBER, response_url=bot.slack.response_url("m")
    )
    bot.app.dispatch(bolt_request(body))
    (reply,) = bot.replies("m")
    assert reply.params["response_type"] == "ephemeral"
    assert "Only workspace admins" in reply.all_text()
    assert bot.slack.calls_to("views.open") == []

    bot.command(f"limit <@{MEMBER}> $200")  # an admin's dialog, submitted by a member
    ack = ack_of(submit(bot, opened_dialog(bot), user=MEMBER))
    assert ack["response_action"] == "update"
    assert "Only workspace admins" in json.dumps(ack["view"])
    assert limit_requests(bot) == [] and changes(bot) == []


@pytest.mark.parametrize("amount", ["$199.99", "200.5", "$0.01"])
def test_an_amount_with_cents_is_refused_with_the_reason(bot: Harness, amount: str) -> None:
    response, _ = bot.command(f"limit <@{MEMBER}> {amount}")
    text = json.loads(response.body)["text"]
    assert "whole dollars" in text and "cents" in text
    assert bot.slack.calls_to("views.open") == []

    bot.command(f"limit <@{MEMBER}>")
    ack = ack_of(submit(bot, opened_dialog(bot), amount))
    assert ack["response_action"] == "errors"
    assert "whole dollars" in ack["errors"][ids.LIMIT_AMOUNT_BLOCK]
    assert limit_requests(bot) == []


@pytest.mark.parametrize("status", [200, 400])
def test_cursors_outcome_error_is_shown_as_it_is_and_audited(bot: Harness, status: int) -> None:
    bot.sim.config.limit_error_status = status
    bot.command("limit ghost@nowhere.test $50")
    dialog = opened_dialog(bot)
    assert "does not list this person" in dialog.all_text()
    submit(bot, dialog)
    view = answer_view(bot)
    plain = [b["text"]["text"] for b in view.blocks if b["text"]["type"] == "plain_text"]
    assert plain == ["User is not a member of this team"]
    assert "refused" in view.all_text() and "nothing changed" in view.all_text()
    (change,) = changes(bot)
    assert change.outcome is LimitOutcome.ERROR
    assert change.message == "User is not a member of this team"


def test_a_team_without_enterprise_is_told_spend_limits_need_it(bot: Harness) -> None:
    bot.sim.add_key(DEMO_API_KEY, "no-enterprise")
    bot.command(f"limit <@{MEMBER}> $50")
    submit(bot, opened_dialog(bot))
    answer = answer_view(bot).all_text()
    assert "Enterprise" in answer and "403" in answer and "Nothing changed" in answer
    assert changes(bot)[0].outcome is LimitOutcome.REFUSED


def test_a_server_error_is_reported_as_unknown_and_not_sent_again(bot: Harness) -> None:
    bot.sim.faults.fail_next(502, 3, path=USER_SPEND_LIMIT)
    bot.command(f"limit <@{MEMBER}> $50")
    submit(bot, opened_dialog(bot))
    answer = answer_view(bot).all_text()
    assert "may or may not have been made" in answer
    assert [c for c in bot.sim.calls if c[1] == USER_SPEND_LIMIT] == [
        ("POST", USER_SPEND_LIMIT, 502)
    ]
    assert changes(bot)[0].outcome is LimitOutcome.UNKNOWN


@pytest.mark.parametrize("when", ["at once", "after the answer"])
def test_a_double_clicked_confirm_sends_one_request(bot: Harness, when: str) -> None:
    bot.command(f"limit <@{MEMBER}> $123")
    dialog = opened_dialog(bot)
    acks: list[dict[str, Any]] = []
    if when == "at once":
        threads = [
            threading.Thread(target=lambda: acks.append(ack_of(submit(bot, dialog))))
            for _ in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    else:
        acks.append(ack_of(submit(bot, dialog)))
        answer_view(bot)
        acks.append(ack_of(submit(bot, dialog)))
    bot.close()  # every listener and answer has finished
    assert limit_requests(bot) == [{"userEmail": bot.emails[1], "spendLimitDollars": 123}]
    assert len(changes(bot)) == 1
    texts = sorted(json.dumps(a["view"]) for a in acks)
    assert any("sent to Cursor once already" in text for text in texts)


def test_a_different_amount_is_a_different_change(bot: Harness) -> None:
    bot.command("limit ghost@nowhere.test $50")
    dialog = opened_dialog(bot)
    submit(bot, dialog)
    answer_view(bot)
    submit(bot, dialog, "60")
    answer_view(bot, 2)
    assert len(limit_requests(bot)) == 2


def test_a_person_without_an_email_is_asked_for_one(bot: Harness) -> None:
    _, key = bot.command("limit <@UNOBODY> $50")
    assert "don't know the Cursor email" in bot.reply_text(key)
    assert bot.slack.calls_to("views.open") == []


@pytest.mark.parametrize(
    "metadata",
    [
        "",
        "not json",
        "[1]",
        json.dumps({"email": "not an email", "off": False, "channel_id": "C1"}),
        json.dumps({"email": "a@acme.test", "off": "no", "channel_id": "C1"}),
        json.dumps({"email": "a@acme.test", "off": False, "channel_id": 5}),
    ],
)
def test_a_submit_whose_dialog_was_not_ours_is_refused(bot: Harness, metadata: str) -> None:
    values = {ids.LIMIT_AMOUNT_BLOCK: {ids.LIMIT_AMOUNT_INPUT: {"value": "5"}}}
    body = view_submission_body(
        ids.LIMIT_VIEW, values, user_id=ADMIN, private_metadata=metadata, view_id="VX"
    )
    ack = ack_of(bot.app.dispatch(bolt_request(body)))
    assert "not valid any more" in json.dumps(ack["view"])
    assert limit_requests(bot) == []


def test_an_empty_amount_asks_for_whole_dollars(bot: Harness) -> None:
    bot.command("limit ghost@nowhere.test")
    ack = ack_of(submit(bot, opened_dialog(bot), ""))
    assert ack["response_action"] == "errors"
    assert "Enter whole dollars" in ack["errors"][ids.LIMIT_AMOUNT_BLOCK]


def test_a_dialog_that_cannot_open_in_time_says_so(bot: Harness) -> None:
    bot.slack.fail_next("views.open", error="expired_trigger_id")
    _, key = bot.command(f"limit <@{MEMBER}> $5")
    assert "could not open in time" in bot.reply_text(key)


def test_the_answer_goes_to_the_channel_when_the_dialog_was_closed(bot: Harness) -> None:
    bot.slack.fail_next("views.update", error="not_found")
    bot.command(f"limit <@{MEMBER}> $77")
    submit(bot, opened_dialog(bot))
    (told,) = bot.slack.wait_for("chat.postEphemeral", timeout=10)
    assert told.params["channel"] == "C1" and told.params["user"] == ADMIN
    assert f"`Spend limit set to $77 for user {bot.emails[1]}`" in told.params["text"]
    assert NEXT_SYNC in told.params["text"]


@pytest.mark.parametrize("value", ["", "abc", "-3"])
def test_a_set_limit_button_with_a_bad_alert_id_says_so(bot: Harness, value: str) -> None:
    body = block_actions_body(
        SET_LIMIT, value, user_id=ADMIN, response_url=bot.slack.response_url("bad")
    )
    bot.app.dispatch(bolt_request(body))
    assert bot.reply_text("bad").startswith("That alert id is not valid")


def test_a_set_limit_button_on_a_gone_or_team_alert_says_why(bot: Harness) -> None:
    body = block_actions_body(
        SET_LIMIT, "999", user_id=ADMIN, response_url=bot.slack.response_url("gone")
    )
    bot.app.dispatch(bolt_request(body))
    assert bot.reply_text("gone").startswith("This alert no longer exists")

    _, key = bot.command("budget set cursor $1 at 100")
    assert "Budget set" in bot.reply_text(key)
    bot.slack.wait_for("chat.postMessage")
    with session_scope(bot.engine) as session:
        (alert,) = session.execute(select(Alert)).scalars().all()
    assert SET_LIMIT not in buttons(bot.slack.calls_to("chat.postMessage")[0])
    body = block_actions_body(
        SET_LIMIT, str(alert.id), user_id=ADMIN, response_url=bot.slack.response_url("team")
    )
    bot.app.dispatch(bolt_request(body))
    assert "not about one person" in bot.reply_text("team")


def test_acknowledging_one_alert_keeps_the_button_on_the_admins_other_alert(
    bot: Harness,
) -> None:
    _, key = bot.command(f"budget set <@{MEMBER}> $1 at 50,100")  # two alerts in one DM
    assert "Budget set" in bot.reply_text(key)
    bot.slack.wait_for("chat.postMessage", 2)
    assert buttons(dm_to(bot, ADMIN)).count(SET_LIMIT) == 2
    with session_scope(bot.engine) as session:
        first = min(a.id for a in session.execute(select(Alert)).scalars().all() if a.id)
    body = block_actions_body(
        "alert_ack", str(first), user_id=ADMIN, response_url=bot.slack.response_url("ack")
    )
    bot.app.dispatch(bolt_request(body))
    updates = {u.params["channel"]: u for u in bot.slack.wait_for("chat.update", 2)}
    admin_copy = dm_to(bot, ADMIN).params["channel"]
    member_copy = dm_to(bot, MEMBER).params["channel"]
    assert buttons(updates[admin_copy]).count(SET_LIMIT) == 1  # the other alert keeps it
    assert SET_LIMIT not in buttons(updates[member_copy])
    assert "Acknowledged" in updates[admin_copy].all_text()


def test_limits_in_a_workspace_without_cursor_says_to_connect(sqlite_engine: Engine) -> None:
    with FakeSlack() as slack:
        bare = build_harness(sqlite_engine, slack)
        try:
            _, key = bare.command(f"limit <@{MEMBER}> $5")
            assert "connect" in bare.reply_text(key).lower()
            _, key = bare.command("limits")
            assert "connect" in bare.reply_text(key).lower()
        finally:
            bare.close()


def test_no_log_line_carries_the_dialogs_values_or_the_request_body(
    bot: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    bot.sim.faults.fail_next(429, 1, path=USER_SPEND_LIMIT)  # a retry is logged
    bot.command(f"limit <@{MEMBER}> $4321")
    dialog = opened_dialog(bot)
    with caplog.at_level("DEBUG"):
        submit(bot, dialog)
        answer_view(bot)
        bot.close()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "user-spend-limit" in logged  # the retry was logged, by route only
    assert "4321" not in logged and bot.emails[1] not in logged and "userEmail" not in logged
    assert DEMO_API_KEY not in logged


def test_a_confirm_after_cursor_was_disconnected_says_to_connect_and_sends_nothing(
    bot: Harness,
) -> None:
    bot.command(f"limit <@{MEMBER}> $5")
    dialog = opened_dialog(bot)
    with session_scope(bot.engine) as session:
        workspace = find_workspace(session, "T1")
    assert disconnect_cursor(bot.engine, workspace)
    submit(bot, dialog)
    assert "connect" in answer_view(bot).all_text().lower()
    assert limit_requests(bot) == [] and changes(bot) == []
