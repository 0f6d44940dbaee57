"""`/spend cursor by group` and `/spend cursor group "X"`: grammar, Slack, the CLI, JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.slack.grammar import Invalid, SpendQuery, parse
from bot.testing.fake_slack import FakeSlack
from bot.usecases.reports import report_for
from connectors.cursor.sim_team import DEMO_API_KEY, SimulatorConfig
from connectors.cursor.simulator import CursorSimulator, running_server
from digests.format import dollars
from digests.group_words import PLAN_REFUSAL
from ledger.secrets import generate_secret_key
from tests.bot.cli_support import run
from tests.bot.harness import MEMBER, Harness, build_harness


@pytest.mark.parametrize(
    ("text", "group", "by", "period"),
    [
        ("cursor by group", None, "group", "cycle"),
        ('cursor group "Platform"', "Platform", "user", "cycle"),
        ("cursor group Platform by model 7d", "Platform", "model", "7d"),
        ("cursor group “Support   Tools” by models", "Support Tools", "model", "cycle"),
        ("cursor last cycle per groups", None, "group", "last-cycle"),
    ],
)
def test_group_queries_parse(text: str, group: str | None, by: str, period: str) -> None:
    assert parse(text) == SpendQuery(period=period, by=by, group=group)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("cursor group", "needs a group's name"),
        ('cursor group "Platform', "no closing quote"),
        ('cursor group "   "', "name is empty"),
        ("cursor group Platform by day", "by user or model"),
        ("cursor group A group B", "two groups"),
        ("me by group", "cover many people"),
        ("cursor group Platform alice@acme.test", "cover many people"),
        ("cursor group <@U123>", "can't be a billing group's name"),
        ('cursor group "Platform" chart', "not drawn by billing group"),
        ("cursor 30d by group chart", "not drawn by billing group"),
    ],
)
def test_bad_group_queries_are_refused_with_the_reason(text: str, said: str) -> None:
    command = parse(text)
    assert isinstance(command, Invalid)
    assert said in command.message


@pytest.fixture
def group_bot(sqlite_engine: Engine, slack: FakeSlack) -> Iterator[Harness]:
    harness = build_harness(
        sqlite_engine, slack, groups=3, days=40, seed=5, users=12, removed_fraction=0.0
    )
    harness.connect_and_sync()
    yield harness
    harness.close()


def names(bot: Harness) -> list[str]:
    return [g.name for g in bot.sim.groups.live()]


def test_spend_by_group_lists_every_group_and_unassigned(group_bot: Harness) -> None:
    _, key = group_bot.command("cursor by group")
    text = group_bot.reply_text(key)
    assert "By group" in text
    for name in [*names(group_bot), "Unassigned"]:
        assert name in text


def test_one_groups_spend_by_model_and_by_user(group_bot: Harness) -> None:
    name = names(group_bot)[0]
    _, key = group_bot.command(f'cursor group "{name.lower()}" by model')
    text = group_bot.reply_text(key)
    assert f'for group "{name}"' in text and "By model" in text
    _, key = group_bot.command(f'cursor group "{name}"')
    members = {
        group_bot.sim.team.members[s.member].email
        for s in group_bot.sim.groups.memberships
        if s.group_id == group_bot.sim.groups.by_name(name).id
    }
    others = {m.email for m in group_bot.sim.team.members} - members
    text = group_bot.reply_text(key)
    assert any(email in text for email in members)
    assert not any(email in text for email in others)


def test_one_groups_comparison_is_the_difference_of_its_two_reports(group_bot: Harness) -> None:
    name = names(group_bot)[0]
    _, key = group_bot.command(f'cursor group "{name}" 7d by model vs previous')
    text = group_bot.reply_text(key)

    def total(period: str, group: str | None = name) -> str:
        report = report_for(
            group_bot.engine, workspace_ref="T1", period_text=period, by="model",
            now=group_bot.clock.now, group=group,
        )  # fmt: skip
        return dollars(report.totals.cents)

    today = group_bot.clock.now.date()
    earlier = f"{today - timedelta(days=13)}..{today - timedelta(days=7)}"
    assert f'for group "{name}"' in text
    assert f"{total('7d')} vs {total(earlier)}" in text
    assert total("7d", group=None) != total("7d")  # the team's total is not what was compared


def test_members_see_only_their_own_row_of_a_group(group_bot: Harness) -> None:
    name = names(group_bot)[0]
    _, key = group_bot.command(f'cursor group "{name}"', user=MEMBER)
    text = group_bot.reply_text(key)
    admin_email = group_bot.emails[0]
    assert admin_email not in text


def test_an_unknown_group_names_the_groups_there_are(group_bot: Harness) -> None:
    _, key = group_bot.command('cursor group "Nope"')
    text = group_bot.reply_text(key)
    assert 'no billing group named "Nope"' in text
    assert all(name in text for name in names(group_bot))


def test_a_team_without_groups_gets_the_refusal_and_everything_else_works(
    sqlite_engine: Engine, slack: FakeSlack
) -> None:
    bot = build_harness(sqlite_engine, slack, groups=2)
    try:
        bot.sim.add_key(DEMO_API_KEY, "non-enterprise")
        bot.connect_and_sync()
        _, key = bot.command("cursor by group")
        assert PLAN_REFUSAL.split(",")[0] in bot.reply_text(key)
        _, key = bot.command('cursor group "Platform"')
        assert "Enterprise" in bot.reply_text(key)
        _, key = bot.command("cursor 30d by model")
        assert "Cursor spend: last 30 days" in bot.reply_text(key)
    finally:
        bot.close()


@pytest.fixture
def group_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    simulator = CursorSimulator(
        SimulatorConfig(
            users=8, days=40, rate_limiting=False, groups=3, seed=4, removed_fraction=0.0
        )
    )
    with running_server(simulator) as base_url:
        env = {
            "STACKSPEND_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
            "STACKSPEND_SECRET_KEY": generate_secret_key(),
            "STACKSPEND_CURSOR_BASE_URL": base_url,
            "STACKSPEND_CURSOR_API_KEY": DEMO_API_KEY,
        }
        assert run(env, "db", "upgrade")[0] == 0
        assert run(env, "connect", "cursor", "--workspace", "T1")[0] == 0
        assert run(env, "sync")[0] == 0
        env["_SIM_GROUPS"] = json.dumps([g.name for g in simulator.groups.live()])
        yield env


def test_cli_report_by_group_is_the_json_contract_plus_group_fields(
    group_env: dict[str, str],
) -> None:
    code, out, err = run(
        group_env, "report", "cursor", "-w", "T1", "--by", "group", "--format", "json"
    )
    assert code == 0, err
    payload = json.loads(out)
    assert payload["by"] == "group" and payload["group"] is None
    assert isinstance(payload["reconciliation"], list)
    keys = {row["key"] for row in payload["rows"]}
    assert keys <= {*json.loads(group_env["_SIM_GROUPS"]), "Unassigned"}
    assert abs(sum(r["cents"] for r in payload["rows"]) - payload["total_cents"]) < 0.01


def test_cli_report_of_one_group_and_its_refusals(group_env: dict[str, str]) -> None:
    name = json.loads(group_env["_SIM_GROUPS"])[0]
    code, out, err = run(
        group_env, "report", "cursor", "-w", "T1", "--group", name, "--by", "model", "-f", "json"
    )
    assert code == 0, err
    payload = json.loads(out)
    assert payload["group"]["name"] == name and payload["by"] == "model"
    code, out, err = run(group_env, "report", "cursor", "-w", "T1", "--group", name)
    assert code == 0 and f'group "{name}"' in out
    code, _, err = run(group_env, "report", "cursor", "-w", "T1", "--group", name, "--by", "day")
    assert code == 1 and "by user or model" in err
    code, _, err = run(group_env, "report", "cursor", "-w", "T1", "--group", "Nope")
    assert code == 1 and "no billing group" in err
    code, _, err = run(
        group_env, "report", "cursor", "-w", "T1", "--by", "group", "--chart", "/tmp/never.png"
    )
    assert code == 1 and "not drawn by billing group" in err
    code, out, err = run(
        group_env, "report", "cursor", "-w", "T1", "--group", name, "--vs", "previous", "-f", "json"
    )
    assert code == 0, err
    payload = json.loads(out)
    assert payload["group"]["name"] == name and "comparison" in payload


def test_cli_groups_lists_cursors_groups_with_the_ledgers_totals(
    group_env: dict[str, str],
) -> None:
    code, out, err = run(group_env, "groups", "-w", "T1", "--format", "json")
    assert code == 0, err
    payload = json.loads(out)
    listed = [g["name"] for g in payload["groups"]]
    assert set(listed) == {*json.loads(group_env["_SIM_GROUPS"]), "Unassigned"}
    for group in payload["groups"]:
        assert abs(group["cursor_cents"] - group["ledger_cents"]) < 1, group
    code, out, err = run(group_env, "groups", "-w", "T1")
    assert code == 0 and all(f"{name} " in out for name in listed)
    assert "in Cursor" in out and "here" in out
    code, _, err = run(group_env, "groups", "-w", "T1", "--cycle", "soon")
    assert code == 1 and "YYYY-MM-DD" in err
    assert DEMO_API_KEY not in out + err


def test_cli_group_budget_is_set_listed_and_refused_with_an_email(
    group_env: dict[str, str],
) -> None:
    name = json.loads(group_env["_SIM_GROUPS"])[0]
    code, out, err = run(
        group_env, "budget", "set", "-w", "T1", "--amount", "2000", "--group", name.lower()
    )
    assert code == 0, err
    assert f'group "{name.lower()}" $2,000.00 a cycle' in out
    code, out, err = run(group_env, "budget", "list", "-w", "T1", "--format", "json")
    assert code == 0 and json.loads(out)[0]["group"] == name
    code, _, err = run(
        group_env, "budget", "set", "-w", "T1", "--amount", "5", "--group", name, "--email", "a@b.c"
    )
    assert code == 1 and "not both" in err


def test_cli_off_enterprise_refuses_group_verbs_and_reports_the_rest(tmp_path: Path) -> None:
    simulator = CursorSimulator(SimulatorConfig(users=6, days=12, rate_limiting=False, groups=2))
    simulator.add_key(DEMO_API_KEY, "non-enterprise")
    with running_server(simulator) as base_url:
        env = {
            "STACKSPEND_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
            "STACKSPEND_SECRET_KEY": generate_secret_key(),
            "STACKSPEND_CURSOR_BASE_URL": base_url,
            "STACKSPEND_CURSOR_API_KEY": DEMO_API_KEY,
        }
        assert run(env, "db", "upgrade")[0] == 0
        assert run(env, "connect", "cursor", "--workspace", "T1")[0] == 0
        code, out, err = run(env, "sync")
        assert code == 0, err
        for args in (
            ("report", "cursor", "-w", "T1", "--by", "group"),
            ("groups", "-w", "T1"),
            ("budget", "set", "-w", "T1", "--amount", "100", "--group", "Platform"),
        ):
            code, _, err = run(env, *args)
            assert code == 1 and "Enterprise" in err, args
        code, out, err = run(env, "report", "cursor", "-w", "T1", "--by", "model")
        assert code == 0 and "By model" in out, err
