"""The one error path for listeners (bot/slack/errors.py), through real signed requests to the app.

A listener that raises is logged with who pressed or typed what (never the payload) and the
person is told, on the interaction's response URL, that something went wrong; when there is
no response URL, or the apology cannot be delivered, the failure is only logged.
"""

from __future__ import annotations

import logging
import threading

import pytest
from slack_bolt import Ack

from bot.slack.errors import SORRY
from bot.testing.signed_requests import bolt_request, slash_command_body, view_submission_body
from tests.bot.harness import ADMIN, Harness

SECRET_TEXT = "boom crsr_" + "5e" * 24  # what a person typed: never in the log


class FailingListeners:
    """``/boom`` and the ``boom`` modal: acknowledged, then failing during their work.

    The failure waits until the request has been answered (as real work after ``ack()``
    does): Bolt hands the acknowledgement back only if it sees it before the error.
    """

    def __init__(self, bot: Harness) -> None:
        self.answered = threading.Event()
        bot.app.command("/boom")(self.fail_after_ack)
        bot.app.view("boom")(self.fail_after_ack)

    def fail_after_ack(self, ack: Ack) -> None:
        ack()
        self.answered.wait(timeout=60)
        raise RuntimeError("the listener broke")

    def dispatch(self, bot: Harness, body: str) -> int:
        status = bot.app.dispatch(bolt_request(body)).status
        self.answered.set()
        return status


def failure_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "bot.slack.errors"]


def test_a_failing_command_is_logged_with_who_and_the_person_is_told(
    bot: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    listeners = FailingListeners(bot)
    body = slash_command_body(
        SECRET_TEXT, command="/boom", user_id=ADMIN, response_url=bot.slack.response_url("boom")
    )
    with caplog.at_level(logging.INFO, logger="bot.slack.errors"):
        assert listeners.dispatch(bot, body) == 200
        (apology,) = bot.replies("boom")
        bot.close()  # every listener (and the error handler after it) has finished

    assert apology.params["text"] == SORRY
    assert apology.params["response_type"] == "ephemeral"
    (record,) = failure_records(caplog)
    assert record.levelno == logging.ERROR
    assert record.getMessage() == (
        f"listener failed for team T1 user {ADMIN}: RuntimeError: the listener broke"
    )
    assert record.exc_info is not None and record.exc_info[0] is RuntimeError
    logged = "\n".join(r.getMessage() for r in caplog.records) + caplog.text
    assert SECRET_TEXT not in logged and "crsr_" not in logged


def test_a_failing_modal_submission_without_a_response_url_is_only_logged(
    bot: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    listeners = FailingListeners(bot)
    body = view_submission_body("boom", {}, user_id=ADMIN)  # a modal: no response URL
    with caplog.at_level(logging.INFO, logger="bot.slack.errors"):
        assert listeners.dispatch(bot, body) == 200
        bot.close()

    (record,) = failure_records(caplog)
    assert record.getMessage() == (
        f"listener failed for team T1 user {ADMIN}: RuntimeError: the listener broke"
    )
    assert bot.slack.calls_to("response_url") == []


def test_an_apology_that_cannot_be_delivered_is_a_warning_and_raises_nothing(
    bot: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    listeners = FailingListeners(bot)
    # The default response URL refuses connections: the apology cannot be sent.
    body = slash_command_body("boom", command="/boom", user_id=ADMIN)
    with caplog.at_level(logging.INFO, logger="bot.slack.errors"):
        assert listeners.dispatch(bot, body) == 200
        bot.close()

    assert [(r.levelno, r.getMessage()) for r in failure_records(caplog)] == [
        (
            logging.ERROR,
            f"listener failed for team T1 user {ADMIN}: RuntimeError: the listener broke",
        ),
        (logging.WARNING, f"could not tell team T1 user {ADMIN} about the failure"),
    ]
    assert bot.slack.calls_to("response_url") == []
