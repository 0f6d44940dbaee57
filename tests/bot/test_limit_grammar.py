"""`/spend limit …` and `/spend limits …` parse to typed commands; bad input says why."""

from __future__ import annotations

import pytest

from bot.slack.grammar import (
    Help,
    Invalid,
    LimitHistory,
    LimitList,
    LimitSet,
    SecretRefused,
    parse,
)
from bot.slack.grammar.limit import whole_dollars
from bot.slack.grammar.refusals import Reject


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("limit <@U1|alice> $200", LimitSet(user_id="U1", dollars=200)),
        ("limit $200 <@U1>", LimitSet(user_id="U1", dollars=200)),
        ("limit Alice@Acme.test 200", LimitSet(email="alice@acme.test", dollars=200)),
        (
            "limit <mailto:a@acme.test|a@acme.test> $1,500",
            LimitSet(email="a@acme.test", dollars=1500),
        ),
        ("limit <@U1> 2k", LimitSet(user_id="U1", dollars=2000)),
        ("limit <@U1> $0", LimitSet(user_id="U1", dollars=0)),
        ("limit <@U1> $200.00", LimitSet(user_id="U1", dollars=200)),
        ("limit <@U1> off", LimitSet(user_id="U1", off=True)),
        ("limit <@U1> NONE", LimitSet(user_id="U1", off=True)),
        ("limit <@U1>", LimitSet(user_id="U1")),
        ("limits", LimitList()),
        ("limits list", LimitList()),
        ("limit list", LimitList()),
        ("limits history", LimitHistory()),
        ("limit history", LimitHistory()),
        ("limits help", Help("limit")),
        ("help limit", Help("limit")),
    ],
)
def test_limit_commands_parse(text: str, command: object) -> None:
    assert parse(text) == command


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("limit <@U1> $199.99", "has cents, and Cursor's spend limits are whole dollars only"),
        ("limit <@U1> 0.5", "write `$0` or `$1`"),
        ("limit", "Say whose limit and how much"),
        ("limit $200", "Say whose limit"),
        ("limit <@U1> $2,000,000", "more than $1,000,000"),
        ("limit <@U1> $1x", "isn't an amount"),
        ("limit <@U1> $200 $300", "two amounts"),
        ("limit <@U1> <@U2> $5", "two people"),
        ("limit <@U1> $5 off", "two amounts"),
        ("limit <@U1> please", "I don't understand"),
        ("limit @alice $5", "autocomplete"),
        ("limits everyone", "takes nothing more"),
        ("limits history now", "takes nothing more"),
        ("limit list all", "takes nothing more"),
    ],
)
def test_bad_limit_commands_say_what_to_write(text: str, says: str) -> None:
    command = parse(text)
    assert isinstance(command, Invalid)
    assert says in command.message
    assert "/spend limit @alice $200" in command.usage


def test_a_typo_of_off_is_corrected() -> None:
    command = parse("limit <@U1> of")
    assert isinstance(command, Invalid)
    assert command.suggestion == "limit <@U1> off"


@pytest.mark.parametrize(
    ("text", "dollars"),
    [
        ("limit <@U1> 1.5k", 1500),
        ("limit <@U1> $2.25k", 2250),
        ("limit <@U1> 1,000k", 1_000_000),
    ],
)
def test_thousands_with_a_fraction_are_whole_dollars(text: str, dollars: int) -> None:
    assert parse(text) == LimitSet(user_id="U1", dollars=dollars)


def test_thousands_with_cents_left_over_are_refused_with_the_right_amounts() -> None:
    command = parse("limit <@U1> 1.2345k")
    assert isinstance(command, Invalid)
    assert "write `$1234` or `$1235`" in command.message


@pytest.mark.parametrize(
    "amount", ["1" + ",000" * 2000, "$" + "1" + ",000" * 1500, "9" * 40 + ".5", "9" * 30 + "k"]
)
def test_an_amount_of_any_length_is_refused_not_raised(amount: str) -> None:
    command = parse(f"limit <@U1> {amount}")
    assert isinstance(command, Invalid | SecretRefused)
    if isinstance(command, Invalid):
        assert "more than $1,000,000" in command.message
    with pytest.raises(Reject, match="more than"):  # the dialog's field reads it alone
        whole_dollars(amount)


def test_an_email_longer_than_any_address_is_refused_before_the_dialog() -> None:
    """The dialog's submit refuses metadata with an email over 320 characters: the command
    says so at once rather than opening a dialog whose confirm can only fail."""
    command = parse(f"limit {'a' * 320}@acme.test $5")
    assert isinstance(command, Invalid)
    assert "too long to be an email" in command.message
    assert parse(f"limit {'a' * 64}@acme.test $5") == LimitSet(
        email=f"{'a' * 64}@acme.test", dollars=5
    )
