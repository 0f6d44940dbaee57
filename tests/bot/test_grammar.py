"""The `/spend` grammar: every form, every refusal, and fuzzing that it never raises."""

from __future__ import annotations

import dataclasses
import re
from datetime import date, time
from typing import get_args

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.slack.grammar import (
    HELP_TEXT,
    USAGE,
    AlertsList,
    BudgetList,
    BudgetRemove,
    BudgetSet,
    Command,
    Connect,
    DigestAdd,
    DigestList,
    DigestPreview,
    DigestRemove,
    DigestSend,
    Disconnect,
    Help,
    Invalid,
    LinkPerson,
    SecretRefused,
    SetTimezone,
    SetVisibility,
    ShowSettings,
    SpendQuery,
    Status,
    SyncNow,
    parse,
)

COMMAND_TYPES = get_args(Command)
KEY = "crsr_" + "a1B2c3D4e5F6g7H8i9J0kLmN"


def invalid(text: str) -> Invalid:
    result = parse(text)
    assert isinstance(result, Invalid), f"{text!r} parsed as {result!r}"
    return result


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Help()),
        ("   ", Help()),
        ("help", Help()),
        ("HELP", Help()),
        ("help cursor", Help("cursor")),
        ("help budget", Help("budget")),
        ("help budgets", Help("budget")),
        ("help digest", Help("digest")),
        ("help periods", Help("periods")),
        ("help connect", Help("cursor")),
        ("cursor help", Help("cursor")),
        ("budget help", Help("budget")),
        ("me help", Help("me")),
    ],
)
def test_help_and_topics(text: str, expected: Command) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cursor", SpendQuery()),
        ("cursor today", SpendQuery(period="today")),
        ("cursor yesterday", SpendQuery(period="yesterday")),
        ("cursor 7d", SpendQuery(period="7d")),
        ("cursor 30d", SpendQuery(period="30d")),
        ("cursor 366d", SpendQuery(period="366d")),
        ("cursor week", SpendQuery(period="week")),
        ("cursor month", SpendQuery(period="month")),
        ("cursor cycle", SpendQuery(period="cycle")),
        ("cursor last-cycle", SpendQuery(period="last-cycle")),
        ("cursor last cycle", SpendQuery(period="last-cycle")),
        ("cursor 2025-03-04", SpendQuery(period="2025-03-04")),
        ("cursor 2025-01-01..2025-01-31", SpendQuery(period="2025-01-01..2025-01-31")),
        ("cursor by user", SpendQuery(by="user")),
        ("cursor by users", SpendQuery(by="user")),
        ("cursor by model", SpendQuery(by="model")),
        ("cursor by models", SpendQuery(by="model")),
        ("cursor per model", SpendQuery(by="model")),
        ("cursor by day", SpendQuery(by="day")),
        ("cursor by kind", SpendQuery(by="kind")),
        ("cursor top 10", SpendQuery(top=10)),
        ("cursor top 1", SpendQuery(top=1)),
        ("cursor top 100", SpendQuery(top=100)),
        ("cursor top5", SpendQuery(top=5)),
        ("cursor public", SpendQuery(public=True)),
        ("cursor csv", SpendQuery(csv=True)),
        (
            "cursor 30d by model top 5 public csv",
            SpendQuery(period="30d", by="model", top=5, public=True, csv=True),
        ),
        ("me", SpendQuery(me=True, by="day")),
        ("me 7d", SpendQuery(me=True, by="day", period="7d")),
        ("cursor me 7d", SpendQuery(me=True, by="day", period="7d")),
        ("me 7d by model", SpendQuery(me=True, by="model", period="7d")),
    ],
)
def test_spend_queries(text: str, expected: SpendQuery) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("cursor by model 7d", "cursor 7d by model"),
        ("cursor top 5 public 30d", "cursor 30d public top 5"),
        ("cursor csv by day last cycle", "cursor last-cycle by day csv"),
        ("cursor <@U1> 7d", "cursor 7d <@U1>"),
        ("CURSOR 7D BY MODEL", "cursor 7d by model"),
        ("Cursor Last Cycle Top 3 PUBLIC", "cursor last-cycle top 3 public"),
        ("Me 7D", "me 7d"),
    ],
)
def test_word_order_and_case_do_not_matter(first: str, second: str) -> None:
    assert parse(first) == parse(second)
    assert isinstance(parse(first), SpendQuery)


@pytest.mark.parametrize(
    ("text", "user_id", "email"),
    [
        ("cursor <@U123ABC>", "U123ABC", None),
        ("cursor <@U123ABC|alice>", "U123ABC", None),
        ("cursor <@W0ENTERPRISE|Alice Smith> 7d", "W0ENTERPRISE", None),
        ("cursor <mailto:alice@example.com|alice@example.com>", None, "alice@example.com"),
        ("cursor <mailto:Alice@Example.com>", None, "alice@example.com"),
        ("cursor bob.smith+ai@example.co.uk", None, "bob.smith+ai@example.co.uk"),
    ],
)
def test_one_person_is_read_from_slack_markup_and_defaults_to_by_day(
    text: str, user_id: str | None, email: str | None
) -> None:
    result = parse(text)
    assert isinstance(result, SpendQuery)
    assert (result.user_id, result.email, result.by, result.me) == (user_id, email, "day", False)


def test_asking_for_one_person_keeps_an_explicit_grouping() -> None:
    assert parse("cursor <@U1> by model") == SpendQuery(user_id="U1", by="model")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cursor status", Status()),
        ("cursor sync", SyncNow()),
        ("cursor disconnect", Disconnect()),
        ("Cursor STATUS", Status()),
        ("status", Status()),
        ("sync cursor", SyncNow()),
        ("cursor connect", Connect(pasted_secret=False)),
        ("connect cursor", Connect(pasted_secret=False)),
        ("CURSOR Connect", Connect(pasted_secret=False)),
        ("alerts", AlertsList()),
        ("alert", AlertsList()),
    ],
)
def test_admin_actions(text: str, expected: Command) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        f"cursor connect {KEY}",
        "cursor connect short",
        "cursor connect my key is hunter2",
        f"connect {KEY}",
        f"connect cursor {KEY}",
    ],
)
def test_text_after_connect_is_a_pasted_secret_and_is_not_kept(text: str) -> None:
    result = parse(text)
    assert result == Connect(pasted_secret=True)
    pasted = text.split(maxsplit=2)[-1]
    assert pasted not in repr(result)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"cursor 7d {KEY}", KEY),
        ("cursor key_0123456789abcdefghijK", "key_0123456789abcdefghijK"),
        ("help " + "x" * 32, "x" * 32),
        ("budget set cursor $5000 " + "Ab3-_" * 7, "Ab3-_" * 7),
        ("settings timezone " + KEY, KEY),
        ("cursr " + KEY, KEY),
        ("digest add <#C1|eng> 09:00 token=" + KEY, KEY),
        (KEY, KEY),
    ],
)
def test_a_key_anywhere_is_refused_and_never_echoed(text: str, secret: str) -> None:
    result = parse(text)
    assert isinstance(result, SecretRefused)
    assert secret not in repr(result)
    assert "rotate" in result.message
    assert "/spend cursor connect" in result.message


def test_slack_labels_are_not_mistaken_for_keys() -> None:
    result = parse("cursor <@U1|a_very_long_display_name_for_somebody_here>")
    assert result == SpendQuery(user_id="U1", by="day")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("settings", ShowSettings()),
        ("SETTINGS", ShowSettings()),
        ("settings timezone Europe/Paris", SetTimezone("Europe/Paris")),
        ("settings timezone europe/paris", SetTimezone("Europe/Paris")),
        ("settings TIMEZONE AMERICA/NEW_YORK", SetTimezone("America/New_York")),
        ("settings tz UTC", SetTimezone("UTC")),
        ("settings visibility own", SetVisibility("own")),
        ("settings visibility ALL", SetVisibility("all")),
    ],
)
def test_settings(text: str, expected: Command) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("digest add <#C123|eng-spend> 09:00", DigestAdd("C123", time(9, 0), "daily")),
        ("digest add 17:30 <#C123> weekdays", DigestAdd("C123", time(17, 30), "weekdays")),
        ("digest add <#C1|x> 9:05 MON", DigestAdd("C1", time(9, 5), "mon")),
        ("digest add <#C1|x> 00:00 sunday", DigestAdd("C1", time(0, 0), "sun")),
        ("digest add <#C1|x> 23:59 daily", DigestAdd("C1", time(23, 59), "daily")),
        ("digest add <#C1|x> 9am fri", DigestAdd("C1", time(9, 0), "fri")),
        ("digest add <#C1|x> 12:30pm", DigestAdd("C1", time(12, 30), "daily")),
        ("digest list", DigestList()),
        ("digest", DigestList()),
        ("digests", DigestList()),
        ("digest remove 3", DigestRemove(3)),
        ("digest remove #3", DigestRemove(3)),
        ("digest preview", DigestPreview()),
        ("digest send 12", DigestSend(12)),
    ],
)
def test_digests(text: str, expected: Command) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("budget set cursor $5000", BudgetSet(amount_cents=500_000)),
        ("budget set cursor $5,000", BudgetSet(amount_cents=500_000)),
        ("budget set cursor 5000", BudgetSet(amount_cents=500_000)),
        ("budget set cursor $49.99", BudgetSet(amount_cents=4_999)),
        ("budget set cursor 5k", BudgetSet(amount_cents=500_000)),
        ("budget set cursor $1.5K", BudgetSet(amount_cents=150_000)),
        ("budget set cursor $1,250,000", BudgetSet(amount_cents=125_000_000)),
        ("budget set cursor $5000 month", BudgetSet(amount_cents=500_000, period="month")),
        ("budget set cursor week $100", BudgetSet(amount_cents=10_000, period="week")),
        ("budget set cursor $10 day", BudgetSet(amount_cents=1_000, period="day")),
        (
            "budget set cursor $5000 at 100,50,80,50",
            BudgetSet(amount_cents=500_000, thresholds=(50, 80, 100)),
        ),
        (
            "budget set cursor $5000 at 75 150%",
            BudgetSet(amount_cents=500_000, thresholds=(75, 150)),
        ),
        (
            "budget set cursor $5000 notify <@U1> <@U2|bob> <@U1> <#C9|finance>",
            BudgetSet(amount_cents=500_000, notify_user_ids=("U1", "U2"), notify_channel_id="C9"),
        ),
        (
            "budget set <@UALICE|alice> $200 month",
            BudgetSet(amount_cents=20_000, user_id="UALICE", period="month"),
        ),
        (
            "BUDGET SET $200 <@UALICE> AT 90",
            BudgetSet(amount_cents=20_000, user_id="UALICE", thresholds=(90,)),
        ),
        ("budget list", BudgetList()),
        ("budget", BudgetList()),
        ("budgets", BudgetList()),
        ("budget remove 7", BudgetRemove(7)),
    ],
)
def test_budgets(text: str, expected: Command) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "in_message", "suggestion", "usage_topic"),
    [
        ("cursr", "`cursr` isn't a command", "cursor", "cursor"),
        ("Cursr 7d", "`Cursr` isn't a command", "cursor 7d", "cursor"),
        ("budgt set cursor $5", "budgt", "budget set cursor $5", "budget"),
        ("setings", "setings", "settings", "settings"),
        ("xyzzy plugh", "/spend help", None, "help"),
        ("hello", "hello", "help", "help"),
        ("7d by model", "tool first", "cursor 7d by model", "cursor"),
        ("<@U1|al> 7d", "tool first", "cursor <@U1> 7d", "cursor"),
        ("cursor publc", "publc", "cursor public", "cursor"),
        ("cursor 7d publc csv", "publc", "cursor 7d public csv", "cursor"),
        ("me yesterdy by model", "yesterdy", "cursor me yesterday by model", "me"),
        ("cursor by modle", "by model", "cursor by model", "cursor"),
        ("cursor by", "by model", None, "cursor"),
        ("cursor 2025-02-01..2025-01-01", "2025-01-01..2025-02-01", None, "cursor"),
        ("cursor 8x", "Unknown period", None, "cursor"),
        ("cursor 0d", "1d to 366d", None, "cursor"),
        ("cursor 367d", "1d to 366d", None, "cursor"),
        ("cursor 2025-13-01", "YYYY-MM-DD", None, "cursor"),
        ("cursor 2025-01-01 to 2025-01-31", "..", None, "cursor"),
        ("cursor 2025-01-01 - 2025-01-31", "..", None, "cursor"),
        ("cursor 2025-01-01-2025-01-31", "Periods:", None, "cursor"),
        ("cursor top 0", "1 to 100", None, "cursor"),
        ("cursor top 101", "1 to 100", None, "cursor"),
        ("cursor top", "1 to 100", None, "cursor"),
        ("cursor top many", "1 to 100", None, "cursor"),
        ("cursor 7d 30d", "two periods", None, "cursor"),
        ("cursor today last cycle", "two periods", None, "cursor"),
        ("cursor by model by day", "two groupings", None, "cursor"),
        ("cursor top 3 top 4", "top 3", None, "cursor"),
        ("cursor public public", "twice", None, "cursor"),
        ("cursor <@U1> <@U2>", "two people", None, "cursor"),
        ("me <@U1>", "two people", None, "me"),
        ("cursor @alice", "autocomplete", None, "cursor"),
        ("cursor 7d status", "on its own", "cursor status", "cursor"),
        ("cursor status now", "takes nothing more", "cursor status", "cursor"),
        ("help nonsense", "Topics:", None, "help"),
        ("help budgte", "Topics:", "help budget", "help"),
        ("settings timezone Mars/Olympus", "IANA", None, "settings"),
        (
            "settings timezone Europe/Pariss",
            "Europe/Paris",
            "settings timezone Europe/Paris",
            "settings",
        ),
        ("settings timezone", "Europe/Paris", None, "settings"),
        ("settings visibility some", "own", None, "settings"),
        ("settings colour blue", "colour", None, "settings"),
        ("digest add <#C1|x> 25:00", "25:00", None, "digest"),
        ("digest add <#C1|x> 12:60", "HH:MM", None, "digest"),
        ("digest add <#C1|x> 13pm", "HH:MM", None, "digest"),
        ("digest add #eng-spend 09:00", "autocomplete", None, "digest"),
        ("digest add 09:00", "which channel", None, "digest"),
        ("digest add <#C1|x>", "24-hour", None, "digest"),
        ("digest add <#C1|x> <#C2|y> 09:00", "two channels", None, "digest"),
        ("digest add <#C1|x> 09:00 fortnightly", "fortnightly", None, "digest"),
        ("digest remove", "digest remove 3", None, "digest"),
        ("digest remove abc", "digest remove 3", None, "digest"),
        ("digest send 0", "digest send 3", None, "digest"),
        ("digest preview 3", "nothing more", "digest preview", "digest"),
        ("budget set cursor", "how much", None, "budget"),
        ("budget set $5000", "what the budget is for", None, "budget"),
        ("budget set cursor $0", "isn't an amount", None, "budget"),
        ("budget set cursor $5.555", "isn't an amount", None, "budget"),
        ("budget set cursor $5,00", "isn't an amount", None, "budget"),
        ("budget set cursor $", "isn't an amount", None, "budget"),
        ("budget set cursor $5 $6", "two amounts", None, "budget"),
        ("budget set cursor $5 month week", "two periods", None, "budget"),
        ("budget set cursor $5 at 0", "1 to 1000", None, "budget"),
        ("budget set cursor $5 at 1001", "1 to 1000", None, "budget"),
        ("budget set cursor $5 at", "at 50,80,100", None, "budget"),
        ("budget set cursor $5 notify", "notify", None, "budget"),
        ("budget set cursor $5 <#C1|fin>", "after `notify`", None, "budget"),
        ("budget set @alice $200", "autocomplete", None, "budget"),
        ("budget set cursor $5 yearly", "yearly", None, "budget"),
        ("budget remove x", "budget remove 3", None, "budget"),
        ("budget frobnicate", "frobnicate", None, "budget"),
        ("alerts all", "nothing more", "alerts", "alerts"),
    ],
)
def test_bad_input_says_what_to_type_instead(
    text: str, in_message: str, suggestion: str | None, usage_topic: str
) -> None:
    result = invalid(text)
    assert in_message in result.message
    assert result.suggestion == suggestion
    assert result.usage == USAGE[usage_topic]
    if suggestion is not None:  # a suggestion is a whole command that works
        assert not isinstance(parse(suggestion), Invalid)


def test_messages_never_echo_a_long_word_in_full() -> None:
    word = "z" * 20 + "." + "z" * 20 + "." + "z" * 20
    result = invalid(f"cursor {word}")
    assert word not in result.message


def test_usage_and_help_cover_every_command() -> None:
    for example in ("cursor 7d", "me", "cursor connect", "settings", "digest", "budget", "alerts"):
        assert f"`/spend {example}" in HELP_TEXT
    for topic in ("cursor", "me", "settings", "digest", "budget", "alerts", "periods", "help"):
        assert "`" in USAGE[topic]
    for example in re.findall(r"`(/spend [^`\[]+)`", HELP_TEXT + "".join(USAGE.values())):
        command = example.removeprefix("/spend ").replace("#eng-spend", "<#C1|eng-spend>")
        command = command.replace("#channel", "<#C1|c>").replace("@alice", "<@U1>")
        command = command.replace("@a @b", "<@U1> <@U2>").replace("#finance", "<#C2|f>")
        assert not isinstance(parse(command), Invalid | SecretRefused), example


def test_commands_are_frozen() -> None:
    result = parse("cursor 7d")
    assert isinstance(result, SpendQuery)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.period = "30d"  # type: ignore[misc]


# Fuzzing ------------------------------------------------------------------------------------

SLACK_FRAGMENTS = [
    "cursor", "me", "help", "settings", "timezone", "visibility", "digest", "add", "remove",
    "budget", "set", "at", "notify", "alerts", "connect", "status", "sync", "by", "per", "top",
    "last", "cycle", "7d", "0d", "2025-01-01..2024-01-01", "$5k", "5,000", "09:00", "25:00",
    "<@U1>", "<@U1|al ice>", "<#C1|eng>", "<mailto:a@b.co|a@b.co>", "<", ">", "|", "<@", "<#",
    "<mailto:", "@", "#", "$", "..", "`", "\u200b", "\x00", "ß", "١٢d", "٣", "%", ",",
]  # fmt: skip
fuzz_text = st.one_of(
    st.text(),
    st.lists(st.one_of(st.sampled_from(SLACK_FRAGMENTS), st.text(max_size=6)), max_size=10).map(
        " ".join
    ),
    st.lists(st.sampled_from(SLACK_FRAGMENTS), max_size=8).map("".join),
)


@pytest.mark.slow
@settings(max_examples=600, deadline=None)
@given(fuzz_text)
def test_parse_never_raises_and_returns_a_command(text: str) -> None:
    result = parse(text)
    assert isinstance(result, COMMAND_TYPES)
    if isinstance(result, Invalid):
        assert result.message
        assert result.usage in USAGE.values()


PERIODS = st.one_of(
    st.sampled_from(["today", "yesterday", "week", "month", "cycle", "last-cycle"]),
    st.integers(1, 366).map(lambda days: f"{days}d"),
    st.dates(date(2000, 1, 1), date(2100, 12, 31)).map(date.isoformat),
    st.lists(st.dates(date(2000, 1, 1), date(2100, 12, 31)), min_size=2, max_size=2).map(
        lambda days: "..".join(day.isoformat() for day in sorted(days))
    ),
)
GROUPINGS = {"user": "user", "users": "user", "model": "model", "models": "model"}
GROUPINGS |= {"day": "day", "days": "day", "kind": "kind"}


@st.composite
def queries(draw: st.DrawFn) -> tuple[str, SpendQuery]:
    """A valid query as shuffled phrases in random case, and what it must parse to."""
    expected: dict[str, object] = {}
    phrases: list[str] = []
    if draw(st.booleans()):
        period = draw(PERIODS)
        written = "last cycle" if period == "last-cycle" and draw(st.booleans()) else period
        phrases.append(written)
        expected["period"] = period
    if draw(st.booleans()):
        grouping = draw(st.sampled_from(sorted(GROUPINGS)))
        phrases.append(f"{draw(st.sampled_from(['by', 'per']))} {grouping}")
        expected["by"] = GROUPINGS[grouping]
    if draw(st.booleans()):
        top = draw(st.integers(1, 100))
        phrases.append(draw(st.sampled_from([f"top {top}", f"top{top}"])))
        expected["top"] = top
    for flag in ("public", "csv"):
        if draw(st.booleans()):
            phrases.append(flag)
            expected[flag] = True
    person = draw(st.sampled_from(["", "me", "user", "email"]))
    if person == "me":
        phrases.append("me")
        expected["me"] = True
    elif person == "user":
        phrases.append("<@U0ABC123|someone>")
        expected["user_id"] = "U0ABC123"
    elif person == "email":
        phrases.append("<mailto:dev@example.com|dev@example.com>")
        expected["email"] = "dev@example.com"
    expected.setdefault("by", "day" if person else "user")
    head = "cursor"
    if person == "me" and draw(st.booleans()):  # `/spend me ...` rather than `/spend cursor me`
        head = phrases.pop(phrases.index("me"))
    shuffled = draw(st.permutations(phrases))
    cased = [phrase.upper() if draw(st.booleans()) else phrase for phrase in shuffled]
    return " ".join([head, *cased]), SpendQuery(**expected)  # type: ignore[arg-type]


@settings(max_examples=400, deadline=None)
@given(queries())
def test_generated_queries_parse_to_their_fields(case: tuple[str, SpendQuery]) -> None:
    text, expected = case
    assert parse(text) == expected


VALID_COMMANDS = [
    "cursor 7d by model",
    "me 30d",
    "settings timezone Europe/Paris",
    "digest add <#C1|eng> 09:00",
    "budget set cursor $5000 at 50,80",
    "help",
    "cursor status",
]
KEY_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"
KEYS = st.one_of(
    st.text(KEY_ALPHABET, min_size=32, max_size=80),
    st.text(KEY_ALPHABET, min_size=20, max_size=40).map(lambda tail: f"crsr_{tail}"),
    st.text(KEY_ALPHABET, min_size=20, max_size=40).map(lambda tail: f"key_{tail}"),
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(VALID_COMMANDS), KEYS, st.integers(0, 8))
def test_a_pasted_key_never_survives_into_the_result(command: str, key: str, at: int) -> None:
    words = command.split()
    words.insert(min(at, len(words)), key)
    result = parse(" ".join(words))
    assert isinstance(result, SecretRefused | Connect)
    if isinstance(result, Connect):
        assert result.pasted_secret
    assert key not in repr(result)


def test_settings_link_takes_one_person_and_one_email() -> None:
    assert parse("settings link <@U123|al> <mailto:Al@X.com|Al@X.com>") == LinkPerson(
        user_id="U123", email="al@x.com"
    )
    assert parse("settings link al@x.com <@U123>") == LinkPerson(user_id="U123", email="al@x.com")
    rejected = parse("settings link <@U123>")
    assert isinstance(rejected, Invalid) and "settings link @alice" in rejected.message
