"""`parse`: `/spend` text to a command, by its first word; settings, help and alerts here."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from zoneinfo import available_timezones

from bot.slack.grammar import words
from bot.slack.grammar.budget import budget
from bot.slack.grammar.commands import (
    AlertsList,
    Command,
    Connect,
    Help,
    LinkPerson,
    SecretRefused,
    SetTimezone,
    SetVisibility,
    ShowSettings,
)
from bot.slack.grammar.digest import digest
from bot.slack.grammar.limit import limit, limits
from bot.slack.grammar.personal import PERSONAL_WORDS, personal_line, personal_typo
from bot.slack.grammar.query import query
from bot.slack.grammar.refusals import Reject, no_more, unknown_word
from bot.slack.grammar.seats import adoption, seat_price, seats
from bot.slack.grammar.usage import HELP_TOPICS, USAGE


def parse(text: str) -> Command:
    """The command that `/spend` text asks for; never raises."""
    tokens: list[str] = words.TOKEN.findall(text)
    connect = _connect(tokens)
    if connect is not None:
        return connect
    if any(words.SECRET.search(token) for token in tokens if not words.is_markup(token)):
        return SecretRefused()
    try:
        return _dispatch(tokens)
    except Reject as reject:
        return reject.invalid


def _connect(tokens: list[str]) -> Connect | None:
    """`cursor connect` (or `connect [cursor]`); anything after it counts as a pasted key."""
    said = [token.lower() for token in tokens[:2]]
    if said == ["cursor", "connect"]:
        return Connect(pasted_secret=len(tokens) > 2)
    if said[:1] == ["connect"]:
        skip = 2 if said[1:] == ["cursor"] else 1
        return Connect(pasted_secret=len(tokens) > skip)
    return None


def _dispatch(tokens: list[str]) -> Command:
    if not tokens:
        return Help()
    head, rest = tokens[0].lower(), tokens[1:]
    if head in words.ACTIONS:  # `/spend status` or `/spend status cursor`
        return _cursor([head, *(rest[1:] if rest[:1] and rest[0].lower() == "cursor" else rest)])
    handler = _HANDLERS.get(head)
    if handler is None:
        raise _unknown_command(tokens)
    if rest and rest[0].lower() == "help" and head != "help":
        return Help(HELP_TOPICS[head])
    return handler(rest)


def _unknown_command(tokens: list[str]) -> Reject:
    token, word = tokens[0], tokens[0].lower()
    if (
        word in words.QUERY_WORDS
        or word[:1].isdigit()
        or words.user_id(token)
        or words.email(token)
    ):
        return Reject("Say which tool first.", "cursor", words.corrected("cursor", tokens, -1, ""))
    match = words.closest(word, _HANDLERS)
    if match is None:
        return Reject(f"`{words.shown(token)}` isn't a command: see `/spend help`.", "help")
    message = f"`{words.shown(token)}` isn't a command."
    return Reject(message, HELP_TOPICS.get(match, "help"), words.corrected("", tokens, 0, match))


def _help(rest: list[str]) -> Command:
    if not rest:
        return Help()
    word = rest[0].lower()
    if word in HELP_TOPICS or word == "help":
        return Help(HELP_TOPICS.get(word))
    match = words.closest(word, HELP_TOPICS)
    suggestion = f"help {HELP_TOPICS[match]}" if match else None
    topics = ", ".join(topic for topic in USAGE if topic != "help")
    message = f"There's no help on `{words.shown(rest[0])}`. Topics: {topics}."
    raise Reject(message, "help", suggestion)


def _cursor(rest: list[str]) -> Command:
    action = rest[0].lower() if rest else ""
    if action in words.ACTIONS:
        no_more(rest[1:], f"cursor {action}", "cursor")
        return words.ACTIONS[action]()
    if action in _REPORTS:
        return _REPORTS[action](rest[1:])
    return query(rest, topic="cursor")


def _me(rest: list[str]) -> Command:
    if rest and rest[0].lower() in PERSONAL_WORDS:
        return personal_line(rest)
    try:
        return query(["me", *rest], topic="me")
    except Reject:
        typo = personal_typo(rest)
        if typo is not None:
            raise typo from None
        raise


def _settings(rest: list[str]) -> Command:
    if not rest:
        return ShowSettings()
    word, args = rest[0].lower(), rest[1:]
    if word in ("timezone", "tz", "zone", "time-zone"):
        return SetTimezone(_zone(args))
    if word == "visibility":
        return SetVisibility(_visibility(args))
    if word == "link":
        return _link(args)
    if word in ("seat-price", "seatprice", "seat_price", "price"):
        return seat_price(args)
    if word == "seat" and args[:1] and args[0].lower() == "price":
        return seat_price(args[1:])
    vocabulary = ("timezone", "visibility", "link", "seat-price")
    raise unknown_word(rest, 0, "settings", "settings", vocabulary)


def _visibility(args: list[str]) -> str:
    if len(args) == 1 and args[0].lower() in words.VISIBILITY:
        return words.VISIBILITY[args[0].lower()]
    message = "Visibility is `own` or `all`: `/spend settings visibility own`."
    match = words.closest(args[0].lower(), words.VISIBILITY) if len(args) == 1 else None
    raise Reject(message, "settings", f"settings visibility {match}" if match else None)


def _link(args: list[str]) -> LinkPerson:
    people = [user for token in args if (user := words.user_id(token))]
    emails = [email for token in args if (email := words.email(token))]
    if len(args) == 2 and len(people) == 1 and len(emails) == 1:
        return LinkPerson(user_id=people[0], email=emails[0])
    raise Reject(
        "Name one person and the email Cursor knows them by: "
        "`/spend settings link @alice alice@company.com`.",
        "settings",
    )


@cache
def _zones() -> dict[str, str]:
    return {zone.lower(): zone for zone in available_timezones()}


def _zone(args: list[str]) -> str:
    name = args[0].lower() if len(args) == 1 else ""
    if name in _zones():
        return _zones()[name]
    said = f"`{words.shown(args[0])}` isn't a timezone. " if len(args) == 1 else ""
    message = (
        f"{said}Use one IANA name such as `Europe/Paris`, `America/New_York` or `Asia/Tokyo`: "
        "`/spend settings timezone Europe/Paris`."
    )
    match = words.closest(name, _zones()) if name else None
    raise Reject(message, "settings", f"settings timezone {_zones()[match]}" if match else None)


def _alerts(rest: list[str]) -> Command:
    no_more(rest, "alerts", "alerts")
    return AlertsList()


_REPORTS: dict[str, Callable[[list[str]], Command]] = {
    "seats": seats,
    "seat": seats,
    "adoption": adoption,
}

_HANDLERS: dict[str, Callable[[list[str]], Command]] = {
    "help": _help,
    "cursor": _cursor,
    "me": _me,
    "settings": _settings,
    "digest": digest,
    "budget": budget,
    "alerts": _alerts,
    "digests": digest,
    "budgets": budget,
    "alert": _alerts,
    "limit": limit,
    "limits": limits,
    **_REPORTS,  # `/spend seats` reads as `/spend cursor seats`
}
