"""The `/spend` grammar of seats, adoption and the seat price."""

from __future__ import annotations

import pytest

from bot.slack.grammar import (
    HELP_TEXT,
    USAGE,
    AdoptionQuery,
    Help,
    Invalid,
    SeatsQuery,
    SetSeatPrice,
    parse,
)


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("cursor seats", SeatsQuery()),
        ("cursor seat", SeatsQuery()),
        ("CURSOR SEATS last cycle", SeatsQuery(period="last-cycle")),
        ("cursor seats 2026-10-15..2026-11-14 idle 30", SeatsQuery("2026-10-15..2026-11-14", 30)),
        ("cursor seats idle 7d 90d", SeatsQuery(period="90d", idle_days=7)),
        ("cursor adoption", AdoptionQuery()),
        ("seats 30d", SeatsQuery(period="30d")),
        ("adoption last cycle", AdoptionQuery(period="last-cycle")),
        ("cursor adoption 30d by user", AdoptionQuery(period="30d")),
        ("cursor adoption per people last-cycle", AdoptionQuery(period="last-cycle")),
        ("cursor adoption by group", AdoptionQuery(by="group")),
        ("settings seat-price $40", SetSeatPrice(4000)),
        ("settings seat-price 40", SetSeatPrice(4000)),
        ("settings seat price $39.5", SetSeatPrice(3950)),
        ("settings seat-price $1,200.00", SetSeatPrice(120000)),
        ("settings seat-price off", SetSeatPrice(None)),
        ("help seats", Help("seats")),
        ("help adoption", Help("adoption")),
    ],
)
def test_seat_commands_parse(text: str, command: object) -> None:
    assert parse(text) == command


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("cursor seats idle", "`idle` needs a number of days"),
        ("cursor seats idle 400", "from 1 to 365"),
        ("cursor seats idle 7 idle 8", "twice"),
        ("cursor seats 7d 30d", "two periods"),
        ("cursor seats fortnight", "I don't understand `fortnight`"),
        ("cursor seats 2026-11-05..2026-11-01", "before"),
        ("cursor adoption by", "`by user` or `by group`"),
        ("cursor adoption by model", "`by user` or `by group`"),
        ("settings seat-price", "monthly price of one seat"),
        ("settings seat-price $0", "monthly price of one seat"),
        ("settings seat-price $100001", "monthly price of one seat"),
        ("settings seat-price $4.999", "monthly price of one seat"),
        ("settings seat-price <!channel>", "monthly price of one seat"),
    ],
)
def test_bad_seat_commands_say_what_to_do(text: str, says: str) -> None:
    command = parse(text)
    assert isinstance(command, Invalid)
    assert says in command.message


def test_the_help_names_the_seat_price_without_inventing_one() -> None:
    assert "see your Cursor invoice" in USAGE["settings"]
    assert "seat-price $40" in USAGE["seats"]
    assert "`/spend cursor seats`" in HELP_TEXT and "`/spend cursor adoption 30d`" in HELP_TEXT
