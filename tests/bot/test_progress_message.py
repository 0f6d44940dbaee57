"""One progress message: posted once, edited at most every interval, always edited at the end."""

from __future__ import annotations

from bot.slack.progress_message import ProgressMessage
from bot.testing.fake_slack import FakeSlack


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_edits_are_throttled_and_the_last_one_always_lands(slack: FakeSlack) -> None:
    ticks = Ticks()
    message = ProgressMessage(slack.client(), "DUADMIN", interval=2.0, monotonic=ticks)
    ts = message.post("starting")
    assert not message.update("1%")  # posted just now
    ticks.now += 2.5
    assert message.update("40%")
    ticks.now += 1.0
    assert not message.update("60%")  # within 2 s of the last edit
    assert message.finish("done")
    assert len(slack.calls_to("chat.postMessage")) == 1
    edits = slack.calls_to("chat.update")
    assert [edit.params["text"] for edit in edits] == ["40%", "done"]
    assert {edit.params["ts"] for edit in edits} == {ts}


def test_a_failed_edit_is_not_raised(slack: FakeSlack) -> None:
    message = ProgressMessage(slack.client(), "DUADMIN", interval=0.0)
    message.post("starting")
    slack.fail_next("chat.update", error="message_not_found")
    assert not message.finish("done")
