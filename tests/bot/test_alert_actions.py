"""Buttons that change shared state: who may press them, and a clear answer when they cannot."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select
from sqlmodel import col

from bot.slack import ids
from bot.testing.fake_slack import Call, FakeSlack, SlackUser
from bot.testing.signed_requests import block_actions_body, bolt_request
from digests.alerts import ACK, BREAKDOWN, SNOOZE_DAY, SNOOZE_WEEK
from ledger.db import session_scope
from ledger.models import Alert, Budget, Connection
from tests.bot.harness import ADMIN, MEMBER, STRANGER, Harness, build_harness

OTHER_ADMIN = "UOTHERADMIN"


@pytest.fixture
def bot(sqlite_engine: Engine) -> Iterator[Harness]:
    with FakeSlack() as slack:
        harness = build_harness(sqlite_engine, slack)
        slack.add_user(SlackUser(id=OTHER_ADMIN, email="boss@example.test", is_admin=True))
        harness.connect_and_sync()
        yield harness
        harness.close()


@pytest.fixture
def bare_bot(sqlite_engine: Engine) -> Iterator[Harness]:
    """A workspace that never connected Cursor."""
    with FakeSlack() as slack:
        harness = build_harness(sqlite_engine, slack)
        yield harness
        harness.close()


def raise_alert(bot: Harness, budget: str) -> Alert:
    """Set a budget already spent past 100% and wait for its alert to be sent."""
    _, key = bot.command(f"budget set {budget} $1 at 100")
    assert "Budget set" in bot.reply_text(key)
    bot.slack.wait_for("chat.postMessage")
    with session_scope(bot.engine) as session:
        found = session.execute(select(Alert).where(col(Alert.kind) == "threshold")).scalars().all()
    assert len(found) == 1, found
    alert: Alert = found[0]
    return alert


def press(bot: Harness, action_id: str, value: str, user: str, key: str) -> list[Call]:
    """Press a button on an alert DM; returns the replies to the presser (response URL)."""
    body = block_actions_body(
        action_id,
        value,
        user_id=user,
        channel_id="D" + ADMIN,
        message={"ts": "1700000001.000100"},
        response_url=bot.slack.response_url(key),
    )
    assert bot.app.dispatch(bolt_request(body)).status == 200
    return bot.replies(key)


def status_of(bot: Harness, alert_id: int) -> tuple[str, str | None]:
    with session_scope(bot.engine) as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None
        return alert.status, alert.acted_by


@pytest.mark.parametrize("action_id", [ACK, SNOOZE_DAY, SNOOZE_WEEK])
def test_only_the_alerts_recipients_can_acknowledge_or_snooze_it(
    bot: Harness, action_id: str
) -> None:
    alert = raise_alert(bot, "cursor")  # a team budget: sent to the admin who set it
    assert alert.id is not None
    for user in (MEMBER, STRANGER):
        (reply,) = press(bot, action_id, str(alert.id), user, key=f"press-{user}")
        assert reply.params["response_type"] == "ephemeral"
        assert reply.params["replace_original"] is False
        assert reply.all_text().startswith("Only the people this alert was sent to can")
    assert status_of(bot, alert.id) == ("open", None)
    assert bot.slack.calls_to("chat.update") == []


def test_a_recipient_who_is_not_an_admin_can_acknowledge_their_alert(bot: Harness) -> None:
    alert = raise_alert(bot, f"<@{MEMBER}>")  # a person's budget DMs that person too
    assert alert.id is not None
    body = block_actions_body(
        ACK, str(alert.id), user_id=MEMBER, response_url=bot.slack.response_url("ack")
    )
    assert bot.app.dispatch(bolt_request(body)).status == 200
    bot.slack.wait_for("chat.update")
    assert status_of(bot, alert.id) == ("acknowledged", MEMBER)


@pytest.mark.parametrize("how", ["workspace admin", "admin allow-list"])
def test_admins_who_were_not_sent_the_alert_can_still_snooze_it(bot: Harness, how: str) -> None:
    alert = raise_alert(bot, "cursor")
    assert alert.id is not None
    user = OTHER_ADMIN
    if how == "admin allow-list":
        user = STRANGER
        bot.services.admin_user_ids = frozenset({STRANGER})
    body = block_actions_body(
        SNOOZE_DAY, str(alert.id), user_id=user, response_url=bot.slack.response_url("s")
    )
    assert bot.app.dispatch(bolt_request(body)).status == 200
    bot.slack.wait_for("chat.update")
    assert status_of(bot, alert.id) == ("snoozed", user)


@pytest.mark.parametrize("action_id", [BREAKDOWN, ACK])
def test_a_button_on_an_alert_whose_budget_was_removed_says_the_alert_is_gone(
    bot: Harness, action_id: str
) -> None:
    alert = raise_alert(bot, "cursor")
    with session_scope(bot.engine) as session:
        (budget,) = session.execute(select(Budget)).scalars().all()
    _, key = bot.command(f"budget remove {budget.id}")
    assert "removed" in bot.reply_text(key)
    (reply,) = press(bot, action_id, str(alert.id), ADMIN, key="gone")
    assert reply.params["response_type"] == "ephemeral"
    assert reply.all_text().startswith("This alert no longer exists")
    assert "Sorry" not in reply.all_text()


@pytest.mark.parametrize("action_id", [BREAKDOWN, ACK, SNOOZE_WEEK])
@pytest.mark.parametrize("value", ["12abc", "", "-1", "1e3", "٣"])
def test_a_button_with_an_alert_id_that_is_not_a_number_says_so(
    bot: Harness, action_id: str, value: str
) -> None:
    (reply,) = press(bot, action_id, value, ADMIN, key="bad")
    assert reply.params["response_type"] == "ephemeral"
    assert reply.all_text().startswith("That alert id is not valid")


def test_confirming_a_disconnect_with_nothing_connected_says_there_was_nothing(
    bare_bot: Harness,
) -> None:
    body = block_actions_body(
        ids.DISCONNECT_CONFIRM,
        "cursor",
        user_id=ADMIN,
        response_url=bare_bot.slack.response_url("press"),
    )
    assert bare_bot.app.dispatch(bolt_request(body)).status == 200
    (reply,) = bare_bot.replies("press")
    assert reply.all_text().startswith("There was nothing to disconnect")
    assert "disconnected by" not in reply.all_text()
    with session_scope(bare_bot.engine) as session:
        assert session.execute(select(Connection)).scalars().all() == []


def test_confirming_a_disconnect_twice_says_the_second_time_there_was_nothing(
    bot: Harness,
) -> None:
    answers = []
    for key in ("first", "second"):
        body = block_actions_body(
            ids.DISCONNECT_CONFIRM,
            "cursor",
            user_id=ADMIN,
            response_url=bot.slack.response_url(key),
        )
        assert bot.app.dispatch(bolt_request(body)).status == 200
        answers.append(bot.reply_text(key))
    assert f"disconnected by <@{ADMIN}>" in answers[0]
    assert answers[1].startswith("There was nothing to disconnect")


@pytest.mark.parametrize("subject", ["cursor", f"<@{MEMBER}>"])
def test_show_breakdown_answers_the_presser_with_the_alert_period_by_model(
    bot: Harness, subject: str
) -> None:
    alert = raise_alert(bot, subject)
    assert alert.id is not None
    (reply,) = press(bot, BREAKDOWN, str(alert.id), ADMIN, key="breakdown")
    assert reply.params["response_type"] == "ephemeral"
    assert reply.params["replace_original"] is False
    text = reply.all_text()
    assert alert.period_start is not None
    period = f"{alert.period_start.isoformat()} to {bot.clock.now.date().isoformat()}"
    assert text.startswith("Cursor spend")
    assert period in text.splitlines()[0]
    assert "By model" in text
    if subject == "cursor":
        assert "Cursor spend: " in text  # the team's spend
    else:
        assert f"Cursor spend for {bot.emails[1]}: " in text  # the person's budget, their spend
    assert bot.slack.calls_to("chat.update") == []  # the alert itself is unchanged
    assert status_of(bot, alert.id) == ("open", None)
