"""The words `/spend` knows, Slack's markup in its text, and how a word is echoed or fixed."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from difflib import get_close_matches

from bot.slack.grammar.commands import Command, CursorImport, Disconnect, Status, SyncNow
from digests.format import escape

TOKEN = re.compile(r"<[^<>]*>|\S+")
SECRET = re.compile(r"(?:crsr_|key_)[A-Za-z0-9_-]{20,}|[A-Za-z0-9_-]{32,}", re.IGNORECASE)
ID = re.compile(r"#?([0-9]{1,9})")
_USER = re.compile(r"<@([A-Z0-9]+)(?:\|[^<>]*)?>", re.IGNORECASE)
_CHANNEL = re.compile(r"<#([A-Z0-9]+)(?:\|[^<>]*)?>", re.IGNORECASE)
_ADDRESS = r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"
_EMAIL = re.compile(rf"<mailto:({_ADDRESS})(?:\|[^<>]*)?>|({_ADDRESS})", re.IGNORECASE)

PERIOD_WORDS = ("today", "yesterday", "week", "month", "cycle", "last-cycle")
GROUPINGS = {
    **dict.fromkeys(("user", "users", "person", "people"), "user"),
    **dict.fromkeys(("model", "models"), "model"),
    **dict.fromkeys(("day", "days", "daily"), "day"),
    **dict.fromkeys(("kind", "kinds", "type", "types"), "kind"),
    **dict.fromkeys(("group", "groups"), "group"),
}
ACTIONS: dict[str, Callable[[], Command]] = {
    "disconnect": Disconnect,
    "status": Status,
    "sync": SyncNow,
    "import": CursorImport,
}
QUERY_WORDS = (*PERIOD_WORDS, "by", "per", "top", "me", "public", "csv", "group")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
CADENCES = {
    **dict.fromkeys(("daily", "everyday"), "daily"),
    **dict.fromkeys(("weekdays", "weekday", "workdays"), "weekdays"),
    **{name: day[:3] for day in _WEEKDAYS for name in (day[:3], day, f"{day}s")},
}
BUDGET_PERIODS = {
    **dict.fromkeys(("cycle", "billing-cycle"), "cycle"),
    **dict.fromkeys(("month", "monthly"), "month"),
    **dict.fromkeys(("week", "weekly"), "week"),
    **dict.fromkeys(("day", "daily"), "day"),
}
VISIBILITY = {"own": "own", "mine": "own", "all": "all", "everyone": "all"}
SLOT_NAMES = {
    "period": "two periods",
    "by": "two groupings",
    "person": "two people",
    "top": "two limits",
    "compare": "two comparisons",
    "chart": "two charts",
    "group": "two groups",
}


def user_id(token: str) -> str | None:
    match = _USER.fullmatch(token)
    return match[1] if match else None


def channel_id(token: str) -> str | None:
    match = _CHANNEL.fullmatch(token)
    return match[1] if match else None


def email(token: str) -> str | None:
    match = _EMAIL.fullmatch(token)
    return (match[1] or match[2]).lower() if match else None


def is_markup(token: str) -> bool:
    """Slack's escaped mentions, channels and emails (their labels are not keys)."""
    return bool(user_id(token) or channel_id(token) or email(token))


def shown(token: str) -> str:
    """How a word is echoed in a message: Slack labels dropped, short, no backticks, and
    escaped for mrkdwn (`<!channel>` typed by someone is shown, never acted on)."""
    if user := user_id(token):
        return f"<@{user}>"
    if channel := channel_id(token):
        return f"<#{channel}>"
    text = email(token) or token.replace("`", "'")
    return escape(text if len(text) <= 40 else f"{text[:39]}…")


def closest(word: str, options: Iterable[str]) -> str | None:
    matches = get_close_matches(word, list(options), n=1, cutoff=0.6)
    return matches[0] if matches else None


def corrected(prefix: str, words: Sequence[str], index: int, replacement: str) -> str:
    """The command typed, with `words[index]` replaced (index -1: nothing replaced)."""
    fixed = [replacement if at == index else shown(word) for at, word in enumerate(words)]
    return " ".join([prefix, *fixed]).strip()
