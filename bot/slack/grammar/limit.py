"""`/spend limit …` and `/spend limits …`: a person's Cursor spend limit, set or removed
(admins, confirmed in a dialog), and who has one.

Cursor takes whole dollars (reference 6.6), so an amount with cents is refused here with
that reason rather than rounded.
"""

from __future__ import annotations

import re
from decimal import ROUND_FLOOR, Decimal

from bot.slack.grammar import words
from bot.slack.grammar.commands import Command, LimitHistory, LimitList, LimitSet
from bot.slack.grammar.refusals import Reject, Seen, no_more, unknown_word

_AMOUNT = re.compile(r"\$?([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.([0-9]+))?(k)?")
_OFF = frozenset({"off", "none", "remove", "clear", "unset", "no-limit"})
MAX_DOLLARS = 1_000_000
#: The longest email the dialog carries (as its submit checks).
MAX_EMAIL = 320
_MAX_DIGITS = len(str(MAX_DOLLARS))
TOPIC = "limit"


def limit(rest: list[str]) -> Command:
    """`/spend limit @alice $200`, `/spend limit alice@x.com off`, `/spend limit list|history`."""
    if not rest:
        message = "Say whose limit and how much: `/spend limit @alice $200` (or `off`)."
        raise Reject(message, TOPIC)
    word = rest[0].lower()
    if word in ("list", "ls"):
        no_more(rest[1:], "limit list", TOPIC)
        return LimitList()
    if word == "history":
        no_more(rest[1:], "limit history", TOPIC)
        return LimitHistory()
    return _limit_set(rest)


def limits(rest: list[str]) -> Command:
    """`/spend limits` (everyone with a limit) and `/spend limits history`."""
    if rest and rest[0].lower() == "history":
        no_more(rest[1:], "limits history", TOPIC)
        return LimitHistory()
    if rest and rest[0].lower() in ("list", "ls"):
        rest = rest[1:]
    no_more(rest, "limits", TOPIC)
    return LimitList()


def _limit_set(args: list[str]) -> LimitSet:
    seen = Seen(TOPIC, "limit")
    user_id = email = None
    dollars: int | None = None
    off = False
    for index, token in enumerate(args):
        word = token.lower()
        if person := words.user_id(token):
            user_id = person
            seen.claim("person", token)
        elif address := words.email(token):
            if len(address) > MAX_EMAIL:
                raise Reject(f"`{words.shown(token)}` is too long to be an email address.", TOPIC)
            email = address
            seen.claim("person", token)
        elif word in _OFF:
            off = True
            seen.claim("amount", token)
        elif word[:1] == "$" or word[:1].isdigit():
            dollars = whole_dollars(token)
            seen.claim("amount", token)
        else:
            raise unknown_word(args, index, "limit", TOPIC, ("off",))
    if user_id is None and email is None:
        message = (
            "Say whose limit: `/spend limit @alice $200` or `/spend limit alice@company.com $200`."
        )
        raise Reject(message, TOPIC)
    return LimitSet(user_id=user_id, email=email, dollars=dollars, off=off)


def whole_dollars(token: str) -> int:
    """Whole dollars from `$200`, `200`, `$1,500`, `2k` or `1.5k`; an amount with cents is
    refused with the reason, and one of any length beyond the cap is refused unread."""
    match = _AMOUNT.fullmatch(token.strip().lower())
    if match is None or len(match[2] or "") > _MAX_DIGITS:
        message = f"`{words.shown(token)}` isn't an amount: write whole dollars, e.g. `$200`."
        raise Reject(message, TOPIC)
    whole, fraction = match[1].replace(",", ""), (match[2] or "").rstrip("0")
    if len(whole.lstrip("0")) > _MAX_DIGITS:  # never int() a huge string (Python caps it)
        raise Reject(_too_much(token), TOPIC)
    amount = Decimal(f"{whole}.{fraction or '0'}") * (1000 if match[3] else 1)
    if amount > MAX_DOLLARS:
        raise Reject(_too_much(token), TOPIC)
    if amount != amount.to_integral_value():
        down = int(amount.to_integral_value(rounding=ROUND_FLOOR))
        message = (
            f"`{words.shown(token)}` has cents, and Cursor's spend limits are whole dollars "
            f"only: write `${down}` or `${down + 1}`."
        )
        raise Reject(message, TOPIC)
    return int(amount)


def _too_much(token: str) -> str:
    return f"`{words.shown(token)}` is more than ${MAX_DOLLARS:,} a month: check the amount."
