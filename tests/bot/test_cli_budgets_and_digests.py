"""`stackspend budget set|list|remove`, `stackspend alerts` and `stackspend digest
preview|send`: what a person at a terminal sees, and what reaches Slack."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from bot.testing.fake_slack import FakeSlack
from digests.alert_words import title
from ledger.accounts import find_workspace
from ledger.alerts.evaluate import AlertSettings, evaluate
from ledger.db import make_engine, session_scope
from ledger.schedules import add_schedule
from tests.bot.cli_support import run


def test_budget_set_list_and_remove(synced: dict[str, str]) -> None:
    code, out, err = run(synced, "budget", "list", "-w", "T1")
    assert (code, out, err) == (0, "no budgets yet\n", "")

    code, out, err = run(synced, "budget", "set", "-w", "T1", "--amount", "$5,000", "--at", "80")
    assert code == 0, err
    assert out.startswith("budget ") and out.endswith(": team $5,000.00 a cycle\n")
    budget_id = int(out.split()[1].rstrip(":"))

    code, out, _ = run(synced, "budget", "list", "-w", "Acme")
    assert code == 0
    (line,) = out.splitlines()
    assert line.split() == [str(budget_id), "team", "$5,000.00", "a", "cycle", "at", "80%"]

    code, out, _ = run(synced, "budget", "list", "-w", "T1", "--format", "json")
    assert code == 0
    assert json.loads(out) == [
        {
            "id": budget_id,
            "subject": "team",
            "amount_cents": 500000.0,
            "period": "cycle",
            "thresholds": [80],
            "notify": [],
            "channel": None,
        }
    ]

    code, out, _ = run(synced, "budget", "remove", "-w", "T1", str(budget_id))
    assert (code, out) == (0, f"budget {budget_id} removed\n")
    assert run(synced, "budget", "list", "-w", "T1")[1] == "no budgets yet\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--amount", "lots"], "--amount 'lots' is not an amount of dollars"),
        (["--amount", "0"], "--amount must be more than zero."),
        (["--amount", "100", "--at", "half"], "--at 'half' must be whole percentages"),
    ],
)
def test_budget_set_refuses_bad_input_in_one_line(
    synced: dict[str, str], args: list[str], message: str
) -> None:
    code, out, err = run(synced, "budget", "set", "-w", "T1", *args)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and message in err
    assert run(synced, "budget", "list", "-w", "T1")[1] == "no budgets yet\n"


def test_alerts_lists_the_alerts_a_crossed_budget_raised(synced: dict[str, str]) -> None:
    assert run(synced, "alerts", "-w", "T1") == (0, "no open alerts\n", "")
    code, _, err = run(synced, "budget", "set", "-w", "T1", "--amount", "1", "--at", "100")
    assert code == 0, err
    engine = make_engine(synced["STACKSPEND_DATABASE_URL"])
    with session_scope(engine) as session:  # what the scheduler's hourly evaluation does
        workspace_id = find_workspace(session, "T1").id
        raised = evaluate(
            session, now=datetime.now(UTC), settings=AlertSettings(), workspace_id=workspace_id
        )
        titles = {title(alert, "UTC") for alert in raised}
    engine.dispose()
    assert titles

    code, out, _ = run(synced, "alerts", "-w", "T1")
    assert code == 0
    assert {line.split(maxsplit=2)[2] for line in out.splitlines()} == titles
    assert all(line.split()[1] == "open" for line in out.splitlines())

    code, out, _ = run(synced, "alerts", "-w", "T1", "--format", "json")
    rows = json.loads(out)
    assert code == 0 and {row["title"] for row in rows} == titles
    assert {row["status"] for row in rows} == {"open"} and rows[0]["snoozed_until"] is None


def test_digest_preview_prints_the_digest_as_text_or_json_and_writes_the_chart(
    synced: dict[str, str], tmp_path: Path
) -> None:
    code, text, err = run(synced, "digest", "preview", "-w", "T1")
    assert code == 0, err
    assert "$" in text and text.strip()

    chart = tmp_path / "chart.png"
    code, out, err = run(
        synced, "digest", "preview", "-w", "T1", "--format", "json", "--chart", str(chart)
    )
    assert code == 0
    assert isinstance(json.loads(out), dict)
    assert err == f"chart written to {chart}\n"  # on stderr: stdout stays JSON
    assert chart.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


@pytest.fixture
def slack_env(synced: dict[str, str]) -> Iterator[tuple[dict[str, str], FakeSlack]]:
    with FakeSlack() as slack:
        slack.add_channel("C1", "general")
        yield (
            {
                **synced,
                "SLACK_BOT_TOKEN": "xoxb-test",
                "STACKSPEND_SLACK_API_URL": slack.base_url,
            },
            slack,
        )


def add_digest(env: dict[str, str], channel: str) -> int:
    engine = make_engine(env["STACKSPEND_DATABASE_URL"])
    with session_scope(engine) as session:
        schedule = add_schedule(
            session,
            find_workspace(session, "T1"),
            channel_id=channel,
            local_time=time(9, 0),
            cadence="daily",
            created_by="UADMIN",
            now=datetime.now(UTC),
            chart=False,
        )
        session.flush()
        assert schedule.id is not None
        schedule_id = schedule.id
    engine.dispose()
    return schedule_id


def test_digest_send_posts_each_digest_to_its_channel_now(
    slack_env: tuple[dict[str, str], FakeSlack],
) -> None:
    env, slack = slack_env
    code, _, err = run(env, "digest", "send", "-w", "T1")
    assert code == 1 and "No digest to send in T1: add one with `/spend digest add`." in err

    schedule_id = add_digest(env, "C1")
    code, out, err = run(env, "digest", "send", "-w", "T1", "--schedule", str(schedule_id))
    assert code == 0, err
    assert out == f"digest {schedule_id} to C1: sent\n"
    (posted,) = slack.calls_to("chat.postMessage")
    assert posted.params["channel"] == "C1" and "$" in posted.all_text()


def test_digest_send_exits_1_when_a_digest_cannot_be_posted(
    slack_env: tuple[dict[str, str], FakeSlack],
) -> None:
    env, _ = slack_env
    schedule_id = add_digest(env, "CGONE")  # a channel Slack does not know
    code, out, _ = run(env, "digest", "send", "-w", "T1")
    assert code == 1
    assert out == f"digest {schedule_id} to CGONE: failed\n"


def test_digest_send_needs_the_bot_token(synced: dict[str, str]) -> None:
    code, out, err = run(synced, "digest", "send", "-w", "T1")
    assert code == 1 and out == ""
    assert "SLACK_BOT_TOKEN is not set: posting to Slack needs the bot token." in err
