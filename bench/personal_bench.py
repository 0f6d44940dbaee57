"""Personal-line figure: 1,000 people whose daily lines fall due in the same minute.

One workspace (reporting timezone UTC) with a connection synced half an hour ago, 35 days
of rollups for 1,000 people on three models, a personal budget for one in ten, and 1,000
subscriptions spread over five timezones, each at the local time that is 12:00 UTC. At
12:00:30 one due-check pass (the scheduler's minute job) sends them all to the fake Slack
Web API; then a freshly started sender runs the next minute's pass, as after a restart.

Baseline, measured in the same run: the same 1,000 DMs' Slack calls alone (``users.info``
and ``chat.postMessage``) made one after another with the same client; the pass makes them
eight at a time.
Target: every line sent exactly once, the pass under 60 s (it must end within its minute).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from bench.ledger_bench import databases, line
from bot.assembly import core_services
from bot.settings import Settings
from bot.slack.client import slack_client
from bot.testing.fake_slack import FakeSlack, SlackUser
from bot.usecases.personal_batch import LineOutcome
from bot.usecases.personal_delivery import PersonalSender
from connectors.cursor.access import CursorAccess
from connectors.cursor.client import ClientOptions
from ledger.db import make_engine, session_scope
from ledger.models import Budget, Connection, Member, UsageRollup, Workspace
from ledger.personal_models import LineCadence, PersonalSubscription
from ledger.secrets import generate_secret_key

PEOPLE = 1000
MODELS = (("claude-4.5-opus", 50), ("claude-4.5-sonnet", 10), ("gpt-5-mini", 1))
ZONES = ("UTC", "Europe/Paris", "America/New_York", "Asia/Tokyo", "Asia/Kolkata")
DUE = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
TARGET_SECONDS = 60.0


def build(url: str, slack: FakeSlack, people: int = PEOPLE) -> None:
    """The workspace, its people's rollups, budgets and subscriptions, and their Slack users."""
    engine = make_engine(url)
    rng = random.Random(15)
    with session_scope(engine) as session:
        workspace = Workspace(slack_team_id="T1", name="Acme")
        session.add(workspace)
        session.flush()
        assert workspace.id is not None
        connection = Connection(
            workspace_id=workspace.id,
            encrypted_key="-",
            key_hint="…0000",
            last_success_at=DUE - timedelta(minutes=30),
        )
        session.add(connection)
        session.flush()
        assert connection.id is not None
        for person in range(people):
            email, zone = f"p{person}@acme.test", ZONES[person % len(ZONES)]
            slack.add_user(SlackUser(id=f"U{person:05d}", email=email, tz=zone))
            session.add(Member(connection_id=connection.id, email=email))
            session.add(
                PersonalSubscription(
                    workspace_id=workspace.id,
                    slack_user_id=f"U{person:05d}",
                    cadence=LineCadence.DAILY,
                    local_time=DUE.astimezone(ZoneInfo(zone)).time(),
                    timezone=zone,
                    subscribed_at=DUE - timedelta(days=2),
                )
            )
            if person % 10 == 0:
                session.add(
                    Budget(workspace_id=workspace.id, subject_email=email, amount_cents=20_000)
                )
        session.execute(
            UsageRollup.__table__.insert(),  # type: ignore[attr-defined]
            [_rollup(connection.id, person, back, model, rng) for person in range(people)
             for back in range(1, 36) for model in MODELS],
        )  # fmt: skip
    engine.dispose()


def _rollup(
    connection_id: int, person: int, back: int, model: tuple[str, int], rng: random.Random
) -> dict[str, object]:
    tokens = rng.randint(10_000, 400_000)
    return {
        "connection_id": connection_id,
        "day": DUE.date() - timedelta(days=back),
        "user_email": f"p{person}@acme.test",
        "model": model[0],
        "kind_class": "on_demand",
        "events": rng.randint(1, 40),
        "request_units": Decimal(3),
        "input_tokens": tokens,
        "output_tokens": tokens // 10,
        "cache_read_tokens": 0,
        "cache_write_tokens": 0,
        "charged_cents": Decimal(tokens * model[1]) / 100_000,
    }


def slack_alone(slack: FakeSlack, people: int = PEOPLE) -> float:
    """The baseline: each DM's three Slack calls, one after another, nothing else."""
    client = slack_client("xoxb-bench", slack.base_url)
    started = time.perf_counter()
    for person in range(people):
        client.users_info(user=f"U{person:05d}")
        client.chat_postMessage(channel=f"U{person:05d}", text="baseline")
    return time.perf_counter() - started


def _plain(outcomes: Counter[LineOutcome]) -> dict[str, int]:
    return {outcome.value: count for outcome, count in outcomes.items()}


def _no_cursor() -> CursorAccess:
    return CursorAccess(ClientOptions(base_url="http://127.0.0.1:9", rate_limits={}))


def _passes(
    url: str, slack: FakeSlack
) -> tuple[Counter[LineOutcome], float, Counter[LineOutcome], float]:
    """The pass at 12:00:30 and, by a new sender (a restart), the next minute's: timed."""
    engine = make_engine(url)
    settings = Settings(_env_file=None, secret_key=generate_secret_key())
    now = DUE + timedelta(seconds=30)
    core = core_services(
        settings, engine, cursor=_no_cursor, cursor_check=_no_cursor, clock=lambda: now
    )
    client = slack_client("xoxb-bench", slack.base_url)
    started = time.perf_counter()
    outcomes = PersonalSender(core, lambda _w: client).run_due(now)
    elapsed = time.perf_counter() - started
    started = time.perf_counter()
    again = PersonalSender(core, lambda _w: client).run_due(now + timedelta(seconds=60))
    idle = time.perf_counter() - started
    core.workers.shutdown()
    engine.dispose()
    return outcomes, elapsed, again, idle


def main() -> None:
    for label, url in databases():
        _run(label, url)


def _run(label: str, url: str) -> None:
    with FakeSlack() as slack:
        started = time.perf_counter()
        build(url, slack)
        print(f"{label}: {PEOPLE:,} people with daily lines due at 12:00 UTC built in "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip
        baseline = slack_alone(slack)
        slack.reset()
        outcomes, elapsed, again, idle = _passes(url, slack)
        sent = [
            (c.json("metadata")["event_payload"]["key"], c.params["channel"])
            for c in slack.calls_to("chat.postMessage")
        ]
    keys = Counter(key for key, _ in sent)
    duplicates = sum(1 for count in keys.values() if count > 1)
    elsewhere = sum(1 for key, channel in sent if key.split(":")[2] != channel)
    line(
        f"{label}: 1,000 personal DMs",
        f"{elapsed:.1f} s",
        f"< {TARGET_SECONDS:.0f} s",
        f"outcomes {_plain(outcomes)}; sent {len(keys)}, duplicates {duplicates}, "
        f"missed {PEOPLE - len(keys)}, to someone else {elsewhere}",
    )
    line(
        "  vs their Slack calls alone",
        f"{elapsed / baseline:.2f}x",
        "ratio to baseline",
        f"baseline {baseline:.1f} s for {PEOPLE * 2:,} calls in a row; "
        f"{elapsed / PEOPLE * 1000:.1f} ms a DM",
    )
    line(
        "  the next minute's pass",
        f"{idle * 1000:.0f} ms",
        "nothing to send",
        f"after a restart: {_plain(again) or 'nothing sent'}",
    )


if __name__ == "__main__":
    main()
