"""`/spend cursor seats …`, `/spend cursor adoption …` and `/spend settings seat-price …`."""

from __future__ import annotations

import re

from bot.slack.grammar import words
from bot.slack.grammar.query import _period
from bot.slack.grammar.refusals import Reject, Seen, unknown_word
from bot.slack.grammar.seat_commands import AdoptionQuery, SeatsQuery, SetSeatPrice

_PRICE = re.compile(r"\$?([0-9]{1,3}(?:,[0-9]{3})+|[0-9]{1,6})(\.[0-9]{1,2})?")
_IDLE = re.compile(r"([0-9]{1,3})d?")
_MAX_IDLE_DAYS = 365
_MAX_PRICE_CENTS = 10_000_000  # $100,000 a seat a month: above is a typo
_PRICE_MESSAGE = (
    "Give the monthly price of one seat in dollars, e.g. `/spend settings seat-price $40` "
    "(see your Cursor invoice), or `off` to clear it."
)


def _period_word(seen: Seen, tokens: list[str], index: int) -> tuple[int, str] | None:
    """The period at ``index`` (checked) and the index after it; None if there is none."""
    word = tokens[index].lower()
    following = tokens[index + 1].lower() if index + 1 < len(tokens) else ""
    if word == "last" and following == "cycle":
        seen.claim("period", "last cycle")
        return index + 2, "last-cycle"
    if word in words.PERIOD_WORDS or word[:1].isdigit() or ".." in word:
        seen.claim("period", tokens[index])
        return index + 1, _period(word, seen.topic)
    return None


def seats(tokens: list[str]) -> SeatsQuery:
    seen, idle, index, period = Seen("seats", "cursor seats"), 14, 0, "cycle"
    while index < len(tokens):
        after = _period_word(seen, tokens, index)
        if after is not None:
            index, period = after
            continue
        if tokens[index].lower() == "idle":
            idle = _idle_days(tokens[index + 1] if index + 1 < len(tokens) else "")
            seen.claim("idle", "idle")
            index += 2
            continue
        raise unknown_word(tokens, index, "cursor seats", "seats", ("idle", *words.PERIOD_WORDS))
    return SeatsQuery(period=period, idle_days=idle)


def _idle_days(text: str) -> int:
    match = _IDLE.fullmatch(text.lower())
    if match and 1 <= int(match[1]) <= _MAX_IDLE_DAYS:
        return int(match[1])
    message = "`idle` needs a number of days from 1 to 365 after it, e.g. `idle 30`."
    raise Reject(message, "seats")


def adoption(tokens: list[str]) -> AdoptionQuery:
    seen, by, index, period = Seen("adoption", "cursor adoption"), "user", 0, "cycle"
    while index < len(tokens):
        after = _period_word(seen, tokens, index)
        if after is not None:
            index, period = after
            continue
        if tokens[index].lower() in ("by", "per"):
            value = tokens[index + 1].lower() if index + 1 < len(tokens) else ""
            if value not in ("user", "users", "person", "people", "group", "groups"):
                message = (
                    "Adoption is `by user` or `by group`, e.g. `/spend cursor adoption by user`."
                )
                raise Reject(message, "adoption")
            by = "group" if value.startswith("group") else "user"
            seen.claim("by", f"by {value}")
            index += 2
            continue
        raise unknown_word(
            tokens, index, "cursor adoption", "adoption", ("by", *words.PERIOD_WORDS)
        )
    return AdoptionQuery(period=period, by=by)


def seat_price(args: list[str]) -> SetSeatPrice:
    """`$40`, `40`, `39.99`, `1,200` (dollars a seat a month) or `off`."""
    if len(args) == 1 and args[0].lower() in ("off", "none", "clear", "unset"):
        return SetSeatPrice(None)
    match = _PRICE.fullmatch(args[0]) if len(args) == 1 else None
    if match is None:
        raise Reject(_PRICE_MESSAGE, "settings")
    whole = int(match[1].replace(",", ""))
    cents = whole * 100 + (int(match[2][1:].ljust(2, "0")) if match[2] else 0)
    if not 0 < cents <= _MAX_PRICE_CENTS:
        raise Reject(_PRICE_MESSAGE, "settings")
    return SetSeatPrice(cents)
