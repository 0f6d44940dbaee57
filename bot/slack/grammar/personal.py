"""`/spend me daily|weekly [HH:MM]` and `/spend me off`: the caller's own line by DM."""

from __future__ import annotations

from datetime import time

from bot.slack.grammar import words
from bot.slack.grammar.commands import Command, PersonalLine, PersonalLineOff
from bot.slack.grammar.digest import clock_time
from bot.slack.grammar.refusals import Reject, no_more

#: The words after `/spend me` that ask for (or stop) a personal line.
CADENCES = {"daily": "daily", "weekly": "weekly"}
OFF_WORDS = ("off", "stop", "unsubscribe")
PERSONAL_WORDS = (*CADENCES, *OFF_WORDS)


def personal_line(rest: list[str]) -> Command:
    word, args = rest[0].lower(), rest[1:]
    if word in OFF_WORDS:
        no_more(args, f"me {word}", "me")
        return PersonalLineOff()
    if not args:
        return PersonalLine(CADENCES[word])
    if len(args) > 1:
        no_more(args[1:], f"me {word} {words.shown(args[0])}", "me")
    return PersonalLine(CADENCES[word], _time(args[0]))


def personal_typo(rest: list[str]) -> Reject | None:
    """For `/spend me` text no query reads: `dialy` is `daily`, `weekley` `weekly`."""
    match = words.closest(rest[0].lower(), (*PERSONAL_WORDS, *words.QUERY_WORDS)) if rest else None
    if match not in PERSONAL_WORDS:  # nearer a period or a query word: the query's own advice
        return None
    message = f"I don't understand `{words.shown(rest[0])}`."
    return Reject(message, "me", words.corrected("me", rest, 0, match))


def _time(token: str) -> time:
    if (at := clock_time(token.lower())) is not None:
        return at
    message = f"`{words.shown(token)}` isn't a time of day: use your local 24-hour HH:MM, "
    message += "e.g. `/spend me daily 08:30`."
    raise Reject(message, "me")
