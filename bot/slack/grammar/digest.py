"""`/spend digest …`: add, list, preview, send and remove scheduled digests."""

from __future__ import annotations

import re
from datetime import time

from bot.slack.grammar import words
from bot.slack.grammar.commands import (
    Command,
    DigestAdd,
    DigestList,
    DigestPreview,
    DigestRemove,
    DigestSend,
)
from bot.slack.grammar.groups import group_name
from bot.slack.grammar.refusals import Reject, Seen, id_of, no_more, unknown_word

_CLOCK = re.compile(r"([0-9]{1,2}):([0-9]{2})")
_AM_PM = re.compile(r"([0-9]{1,2})(?::([0-9]{2}))?([ap]m)")


def digest(rest: list[str]) -> Command:
    word, args = (rest[0].lower(), rest[1:]) if rest else ("list", [])
    if word in ("list", "ls"):
        no_more(args, "digest list", "digest")
        return DigestList()
    if word == "preview":
        no_more(args, "digest preview", "digest")
        return DigestPreview()
    if word == "add":
        return _digest_add(args)
    if word in ("remove", "delete", "rm"):
        return DigestRemove(id_of(args, "digest remove", "digest"))
    if word == "send":
        return DigestSend(id_of(args, "digest send", "digest"))
    raise unknown_word(rest, 0, "digest", "digest", ("add", "list", "preview", "send", "remove"))


def _digest_add(args: list[str]) -> DigestAdd:
    seen = Seen("digest", "digest add")
    channel_id, local_time, cadence, group = None, None, "daily", None
    index = 0
    while index < len(args):
        token = args[index]
        word = token.lower()
        if word == "group":
            group, index = group_name(args, index, "digest")
            seen.claim("group", f"group {group}")
            continue
        if channel := words.channel_id(token):
            channel_id = channel
            seen.claim("channel", token)
        elif word in words.CADENCES:
            cadence = words.CADENCES[word]
            seen.claim("cadence", token)
        elif word[:1].isdigit():
            local_time = _time(word)
            seen.claim("time", token)
        else:
            raise unknown_word(args, index, "digest add", "digest", [*words.CADENCES, "group"])
        index += 1
    return _complete(channel_id, local_time, cadence, group)


def _complete(
    channel_id: str | None, local_time: time | None, cadence: str, group: str | None = None
) -> DigestAdd:
    if channel_id is None:
        message = "Say which channel, picked from Slack's autocomplete: "
        raise Reject(message + "`/spend digest add #channel 09:00`.", "digest")
    if local_time is None:
        message = "Say when, as 24-hour HH:MM: `/spend digest add #channel 09:00`."
        raise Reject(message, "digest")
    return DigestAdd(channel_id, local_time, cadence, group)


def clock_time(word: str) -> time | None:
    """``09:00``, ``17:30``, ``7pm`` or ``7:30am`` (lower case) as a time of day, else None."""
    hour, minute = 99, 0
    if clock := _CLOCK.fullmatch(word):
        hour, minute = int(clock[1]), int(clock[2])
    elif (am_pm := _AM_PM.fullmatch(word)) and 1 <= int(am_pm[1]) <= 12:
        hour = int(am_pm[1]) % 12 + (12 if am_pm[3] == "pm" else 0)
        minute = int(am_pm[2] or 0)
    return time(hour, minute) if hour <= 23 and minute <= 59 else None


def _time(word: str) -> time:
    if (at := clock_time(word)) is not None:
        return at
    message = f"`{words.shown(word)}` isn't a time of day: "
    message += "use 24-hour HH:MM, e.g. `09:00` or `17:30`."
    raise Reject(message, "digest")
