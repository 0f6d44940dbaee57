"""The `/spend` grammar: a pure parser from slash-command text to a typed command.

`parse` never raises and never reads the clock. A period stays as the text the user
typed (checked, lower-cased) so that the caller resolves it against the workspace's
today and billing cycle. Input it cannot read becomes `Invalid` with the usage of
the nearest command. A pasted API key becomes `SecretRefused` (or
`Connect(pasted_secret=True)`) and is never kept in any field or message.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal
from difflib import get_close_matches
from functools import cache
from typing import TypeAlias
from zoneinfo import available_timezones

from digests.errors import PERIOD_USAGE, period_text
from digests.format import escape
from ledger.errors import PeriodError
from ledger.periods import parse_period

SECRET_ADVICE = (
    "That looked like an API key, so I ignored it and kept nothing. Text typed into a slash "
    "command can end up in logs: rotate that key in Cursor's dashboard now, then run "
    "`/spend cursor connect` and paste the new key into the form it opens."
)


@dataclass(frozen=True, slots=True)
class Help:
    topic: str | None = None


@dataclass(frozen=True, slots=True)
class SpendQuery:
    provider: str = "cursor"
    period: str = "cycle"
    by: str = "user"
    top: int | None = None
    user_id: str | None = None
    email: str | None = None
    me: bool = False
    public: bool = False
    csv: bool = False


@dataclass(frozen=True, slots=True)
class Connect:
    provider: str = "cursor"
    pasted_secret: bool = False


@dataclass(frozen=True, slots=True)
class Disconnect:
    provider: str = "cursor"


@dataclass(frozen=True, slots=True)
class Status:
    provider: str = "cursor"


@dataclass(frozen=True, slots=True)
class SyncNow:
    provider: str = "cursor"


@dataclass(frozen=True, slots=True)
class SecretRefused:
    message: str = SECRET_ADVICE


@dataclass(frozen=True, slots=True)
class ShowSettings:
    pass


@dataclass(frozen=True, slots=True)
class SetTimezone:
    zone: str


@dataclass(frozen=True, slots=True)
class SetVisibility:
    policy: str


@dataclass(frozen=True, slots=True)
class LinkPerson:
    """Match a Slack person to a provider email when their Slack email differs."""

    user_id: str
    email: str


@dataclass(frozen=True, slots=True)
class DigestAdd:
    channel_id: str
    local_time: time
    cadence: str = "daily"


@dataclass(frozen=True, slots=True)
class DigestList:
    pass


@dataclass(frozen=True, slots=True)
class DigestRemove:
    id: int


@dataclass(frozen=True, slots=True)
class DigestPreview:
    pass


@dataclass(frozen=True, slots=True)
class DigestSend:
    id: int


@dataclass(frozen=True, slots=True)
class BudgetSet:
    amount_cents: int
    provider: str = "cursor"
    user_id: str | None = None
    period: str = "cycle"
    thresholds: tuple[int, ...] = (50, 80, 100)
    notify_user_ids: tuple[str, ...] = ()
    notify_channel_id: str | None = None


@dataclass(frozen=True, slots=True)
class BudgetList:
    pass


@dataclass(frozen=True, slots=True)
class BudgetRemove:
    id: int


@dataclass(frozen=True, slots=True)
class AlertsList:
    pass


@dataclass(frozen=True, slots=True)
class Invalid:
    message: str
    usage: str
    suggestion: str | None = None


Command: TypeAlias = (
    Help | SpendQuery | Connect | Disconnect | Status | SyncNow | SecretRefused
    | ShowSettings | SetTimezone | SetVisibility | LinkPerson
    | DigestAdd | DigestList | DigestRemove | DigestPreview | DigestSend
    | BudgetSet | BudgetList | BudgetRemove | AlertsList | Invalid
)  # fmt: skip

_EXAMPLES = {
    "cursor": "`/spend cursor 7d by model`",
    "me": "`/spend me 30d`",
    "settings": "`/spend settings timezone Europe/Paris`",
    "digest": "`/spend digest add #eng-spend 09:00 weekdays`",
    "budget": "`/spend budget set cursor $5000 at 50,80,100`",
    "alerts": "`/spend alerts`",
    "periods": "`/spend cursor 2025-01-01..2025-01-31`",
}
USAGE: dict[str, str] = {
    "help": "`/spend help [cursor|me|settings|digest|budget|alerts|periods]`, e.g. "
    "`/spend help budget`",
    "cursor": "`/spend cursor [period] [by user|model|day|kind] [top N] [@person|email] "
    "[public] [csv]`\n• `/spend cursor` (this billing cycle, by person)\n"
    "• `/spend cursor 7d by model`\n• `/spend cursor last-cycle top 10`\n"
    "• `/spend cursor @alice 30d`\n• `/spend cursor 2025-01-01..2025-01-31 csv`\n"
    "`public` posts the answer to the channel; `csv` attaches the rows.\n"
    "Admins: `/spend cursor connect` (opens a form for the key), `/spend cursor status`, "
    f"`/spend cursor sync`, `/spend cursor disconnect`\n{PERIOD_USAGE}",
    "me": "`/spend me [period] [by day|model|kind]`: your own spend, e.g. `/spend me 7d`\n"
    + PERIOD_USAGE,
    "settings": "`/spend settings` shows them.\n"
    "• `/spend settings timezone Europe/Paris` (an IANA name)\n"
    "• `/spend settings visibility own` (members see their own spend and team totals) "
    "or `all` (members see everyone's)\n"
    "• `/spend settings link @alice alice@company.com` when a Slack email differs from Cursor's",
    "digest": "• `/spend digest add #channel 09:00 [daily|weekdays|mon..sun]`\n"
    "• `/spend digest list` • `/spend digest preview` • `/spend digest send 3` "
    "• `/spend digest remove 3`",
    "budget": "• `/spend budget set cursor $5000 [cycle|month|week|day] [at 50,80,100] "
    "[notify @a @b #channel]`\n• `/spend budget set @alice $200 month`\n"
    "• `/spend budget list` • `/spend budget remove 3`",
    "alerts": "`/spend alerts` lists open budget and anomaly alerts.",
    "periods": f"{PERIOD_USAGE} Example: {_EXAMPLES['periods']}",
}
HELP_TEXT = "*`/spend` commands*\n" + "\n".join(
    [
        "• `/spend cursor 7d by model`: Cursor spend (add `@person`, `top 10`, `public`, `csv`)",
        "• `/spend me 30d`: your own spend",
        "• `/spend cursor connect`: connect Cursor (the key goes in a form, never in chat)",
        "• `/spend cursor status`: connection and last sync (also `sync`, `disconnect`)",
        f"• {_EXAMPLES['settings']}: timezone and who sees what",
        f"• {_EXAMPLES['digest']}: a daily digest",
        f"• {_EXAMPLES['budget']}: budgets and alerts",
        "• `/spend alerts`: open alerts",
        "• `/spend help cursor`: details on one command",
    ]
)

_ANY_DAY = date(2000, 1, 1)  # periods are checked for shape only; the caller resolves them
_TOKEN = re.compile(r"<[^<>]*>|\S+")
_SECRET = re.compile(r"(?:crsr_|key_)[A-Za-z0-9_-]{20,}|[A-Za-z0-9_-]{32,}", re.IGNORECASE)
_USER = re.compile(r"<@([A-Z0-9]+)(?:\|[^<>]*)?>", re.IGNORECASE)
_CHANNEL = re.compile(r"<#([A-Z0-9]+)(?:\|[^<>]*)?>", re.IGNORECASE)
_ADDRESS = r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"
_EMAIL = re.compile(rf"<mailto:({_ADDRESS})(?:\|[^<>]*)?>|({_ADDRESS})", re.IGNORECASE)
_TOP = re.compile(r"top([0-9]+)")
_CLOCK = re.compile(r"([0-9]{1,2}):([0-9]{2})")
_AM_PM = re.compile(r"([0-9]{1,2})(?::([0-9]{2}))?([ap]m)")
_ID = re.compile(r"#?([0-9]{1,9})")
_AMOUNT = re.compile(r"\$?([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(\.[0-9]{1,2})?(k)?")
_PERCENT = re.compile(r"([0-9]{1,4})%?")
_PERCENTS = re.compile(r"[0-9,%]+")
_MAX_CENTS = 1_000_000_000

_PERIOD_WORDS = ("today", "yesterday", "week", "month", "cycle", "last-cycle")
_GROUPINGS = {
    **dict.fromkeys(("user", "users", "person", "people"), "user"),
    **dict.fromkeys(("model", "models"), "model"),
    **dict.fromkeys(("day", "days", "daily"), "day"),
    **dict.fromkeys(("kind", "kinds", "type", "types"), "kind"),
}
_ACTIONS: dict[str, Callable[[], Command]] = {
    "disconnect": Disconnect,
    "status": Status,
    "sync": SyncNow,
}
_QUERY_WORDS = (*_PERIOD_WORDS, "by", "per", "top", "me", "public", "csv")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_CADENCES = {
    **dict.fromkeys(("daily", "everyday"), "daily"),
    **dict.fromkeys(("weekdays", "weekday", "workdays"), "weekdays"),
    **{name: day[:3] for day in _WEEKDAYS for name in (day[:3], day, f"{day}s")},
}
_BUDGET_PERIODS = {
    **dict.fromkeys(("cycle", "billing-cycle"), "cycle"),
    **dict.fromkeys(("month", "monthly"), "month"),
    **dict.fromkeys(("week", "weekly"), "week"),
    **dict.fromkeys(("day", "daily"), "day"),
}
_VISIBILITY = {"own": "own", "mine": "own", "all": "all", "everyone": "all"}
_HELP_TOPICS = {
    **{topic: topic for topic in USAGE if topic != "help"},
    "connect": "cursor",
    "period": "periods",
    "timezone": "settings",
    "digests": "digest",
    "budgets": "budget",
    "alert": "alerts",
}
_SLOT_NAMES = {
    "period": "two periods",
    "by": "two groupings",
    "person": "two people",
    "top": "two limits",
}


class _Reject(Exception):
    """Raised inside the parser; `parse` turns it into `Invalid`.

    `suggestion` is set only when there is a whole command to offer instead (a typo fixed,
    extra words dropped); the message then need not repeat it.
    """

    def __init__(self, message: str, topic: str = "help", suggestion: str | None = None):
        super().__init__(message)
        self.invalid = Invalid(message, USAGE.get(topic, HELP_TEXT), suggestion)


def parse(text: str) -> Command:
    """The command that `/spend` text asks for; never raises."""
    tokens: list[str] = _TOKEN.findall(text)
    connect = _connect(tokens)
    if connect is not None:
        return connect
    if any(_SECRET.search(token) for token in tokens if not _is_markup(token)):
        return SecretRefused()
    try:
        return _dispatch(tokens)
    except _Reject as reject:
        return reject.invalid


def _connect(tokens: list[str]) -> Connect | None:
    """`cursor connect` (or `connect [cursor]`); anything after it counts as a pasted key."""
    words = [token.lower() for token in tokens[:2]]
    if words == ["cursor", "connect"]:
        return Connect(pasted_secret=len(tokens) > 2)
    if words[:1] == ["connect"]:
        skip = 2 if words[1:] == ["cursor"] else 1
        return Connect(pasted_secret=len(tokens) > skip)
    return None


def _dispatch(tokens: list[str]) -> Command:
    if not tokens:
        return Help()
    head, rest = tokens[0].lower(), tokens[1:]
    if head in _ACTIONS:  # `/spend status` or `/spend status cursor`
        return _cursor([head, *(rest[1:] if rest[:1] and rest[0].lower() == "cursor" else rest)])
    handler = _HANDLERS.get(head)
    if handler is None:
        raise _unknown_command(tokens)
    if rest and rest[0].lower() == "help" and head != "help":
        return Help(_HELP_TOPICS[head])
    return handler(rest)


def _unknown_command(tokens: list[str]) -> _Reject:
    token, word = tokens[0], tokens[0].lower()
    if word in _QUERY_WORDS or word[:1].isdigit() or _user_id(token) or _email(token):
        return _Reject("Say which tool first.", "cursor", _corrected("cursor", tokens, -1, ""))
    match = _closest(word, _HANDLERS)
    if match is None:
        return _Reject(f"`{_shown(token)}` isn't a command: see `/spend help`.", "help")
    message = f"`{_shown(token)}` isn't a command."
    return _Reject(message, _HELP_TOPICS.get(match, "help"), _corrected("", tokens, 0, match))


def _help(rest: list[str]) -> Command:
    if not rest:
        return Help()
    word = rest[0].lower()
    if word in _HELP_TOPICS or word == "help":
        return Help(_HELP_TOPICS.get(word))
    match = _closest(word, _HELP_TOPICS)
    suggestion = f"help {_HELP_TOPICS[match]}" if match else None
    topics = ", ".join(topic for topic in USAGE if topic != "help")
    raise _Reject(f"There's no help on `{_shown(rest[0])}`. Topics: {topics}.", "help", suggestion)


def _cursor(rest: list[str]) -> Command:
    action = rest[0].lower() if rest else ""
    if action in _ACTIONS:
        _no_more(rest[1:], f"cursor {action}", "cursor")
        return _ACTIONS[action]()
    return _query(rest, topic="cursor")


def _me(rest: list[str]) -> Command:
    return _query(["me", *rest], topic="me")


class _Seen:
    """Which slots of a command are filled, and by what text, to name conflicts."""

    def __init__(self, topic: str, command: str) -> None:
        self.topic, self.command = topic, command
        self.slots: dict[str, str] = {}

    def claim(self, slot: str, token: str) -> None:
        earlier = self.slots.get(slot)
        if earlier is not None:
            raise self.conflict(slot, earlier, _shown(token))
        self.slots[slot] = _shown(token)

    def conflict(self, slot: str, earlier: str, later: str) -> _Reject:
        if earlier.lower() == later.lower():
            message = f"`{later}` is there twice: write it once."
        else:
            what = _SLOT_NAMES.get(slot, f"two {slot}s")
            message = f"You gave {what}, `{earlier}` and `{later}`: keep one"
            message += f", e.g. `/spend cursor {earlier}`." if self.command == "cursor" else "."
        return _Reject(message, self.topic)


@dataclass
class _Query:
    seen: _Seen
    period: str = "cycle"
    by: str | None = None
    top: int | None = None
    user_id: str | None = None
    email: str | None = None
    flags: set[str] = field(default_factory=set)

    def command(self) -> SpendQuery:
        single = "me" in self.flags or self.user_id is not None or self.email is not None
        by = self.by or ("day" if single else "user")
        me, public, csv = ("me" in self.flags, "public" in self.flags, "csv" in self.flags)
        return SpendQuery(
            period=self.period, by=by, top=self.top, user_id=self.user_id, email=self.email,
            me=me, public=public, csv=csv,
        )  # fmt: skip


def _query(tokens: list[str], *, topic: str) -> SpendQuery:
    query = _Query(_Seen(topic, "cursor"))
    index = 0
    while index < len(tokens):
        index = _query_word(query, tokens, index)
    return query.command()


def _query_word(query: _Query, tokens: list[str], index: int) -> int:
    """Read the word at `index` into `query`; the index of the next unread word."""
    token, seen = tokens[index], query.seen
    word = token.lower()
    following = tokens[index + 1].lower() if index + 1 < len(tokens) else ""
    if word in ("by", "per"):
        query.by = _grouping(tokens, index, seen.topic)
        seen.claim("by", f"{word} {following}")
        return index + 2
    if word == "top" or _TOP.fullmatch(word):
        number = following if word == "top" else word[3:]
        query.top = _top(number, seen.topic)
        seen.claim("top", f"top {number}")
        return index + 2 if word == "top" else index + 1
    if word == "last" and following == "cycle":
        query.period = _period("last-cycle", seen.topic)
        seen.claim("period", "last cycle")
        return index + 2
    if user_id := _user_id(token):
        query.user_id = user_id
        seen.claim("person", token)
    elif email := _email(token):
        query.email = email
        seen.claim("person", token)
    elif word == "me":
        query.flags.add("me")
        seen.claim("person", "me")
    elif word in ("public", "csv", "cursor"):
        query.flags.add(word)
        seen.claim(word, word)
    elif word in ("to", "-", "until", "through"):
        message = "Write a range with two dots and no spaces: `2025-01-01..2025-01-31`."
        raise _Reject(message, seen.topic)
    elif word in _ACTIONS or word == "connect":
        raise _Reject(f"`{word}` goes on its own.", "cursor", f"cursor {word}")
    elif word in _PERIOD_WORDS or word[:1].isdigit() or ".." in word:
        query.period = _period(word, seen.topic)
        seen.claim("period", token)
    else:
        raise _unknown_word(tokens, index, "cursor", seen.topic, _QUERY_WORDS)
    return index + 1


def _grouping(tokens: list[str], index: int, topic: str) -> str:
    """The grouping named after `by` or `per` at `index`."""
    value = tokens[index + 1].lower() if index + 1 < len(tokens) else ""
    if value in _GROUPINGS:
        return _GROUPINGS[value]
    said = f"`{tokens[index]} {_shown(value)}` isn't a grouping" if value else "`by` needs a word"
    message = f"{said}: use user, model, day or kind, e.g. `/spend cursor 7d by model`."
    match = _closest(value, _GROUPINGS) if value else None
    fixed = _corrected("cursor", tokens, index + 1, _GROUPINGS[match]) if match else None
    raise _Reject(message, topic, fixed)


def _top(number: str, topic: str) -> int:
    if number.isascii() and number.isdigit() and 1 <= int(number) <= 100:
        return int(number)
    message = "`top` needs a number from 1 to 100 after it, e.g. `top 10`."
    raise _Reject(message, topic)


def _period(word: str, topic: str) -> str:
    try:
        parse_period(word, today=_ANY_DAY)
    except PeriodError as error:
        raise _Reject(period_text(error), topic) from None
    return word


def _settings(rest: list[str]) -> Command:
    if not rest:
        return ShowSettings()
    word, args = rest[0].lower(), rest[1:]
    if word in ("timezone", "tz", "zone", "time-zone"):
        return SetTimezone(_zone(args))
    if word == "visibility":
        if len(args) == 1 and args[0].lower() in _VISIBILITY:
            return SetVisibility(_VISIBILITY[args[0].lower()])
        message = "Visibility is `own` or `all`: `/spend settings visibility own`."
        match = _closest(args[0].lower(), _VISIBILITY) if len(args) == 1 else None
        raise _Reject(message, "settings", f"settings visibility {match}" if match else None)
    if word == "link":
        return _link(args)
    raise _unknown_word(rest, 0, "settings", "settings", ("timezone", "visibility", "link"))


def _link(args: list[str]) -> LinkPerson:
    people = [user for token in args if (user := _user_id(token))]
    emails = [email for token in args if (email := _email(token))]
    if len(args) == 2 and len(people) == 1 and len(emails) == 1:
        return LinkPerson(user_id=people[0], email=emails[0])
    raise _Reject(
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
    said = f"`{_shown(args[0])}` isn't a timezone. " if len(args) == 1 else ""
    message = (
        f"{said}Use one IANA name such as `Europe/Paris`, `America/New_York` or `Asia/Tokyo`: "
        "`/spend settings timezone Europe/Paris`."
    )
    match = _closest(name, _zones()) if name else None
    raise _Reject(message, "settings", f"settings timezone {_zones()[match]}" if match else None)


def _digest(rest: list[str]) -> Command:
    word, args = (rest[0].lower(), rest[1:]) if rest else ("list", [])
    if word in ("list", "ls"):
        _no_more(args, "digest list", "digest")
        return DigestList()
    if word == "preview":
        _no_more(args, "digest preview", "digest")
        return DigestPreview()
    if word == "add":
        return _digest_add(args)
    if word in ("remove", "delete", "rm"):
        return DigestRemove(_id(args, "digest remove", "digest"))
    if word == "send":
        return DigestSend(_id(args, "digest send", "digest"))
    raise _unknown_word(rest, 0, "digest", "digest", ("add", "list", "preview", "send", "remove"))


def _digest_add(args: list[str]) -> DigestAdd:
    seen = _Seen("digest", "digest add")
    channel_id, local_time, cadence = None, None, "daily"
    for index, token in enumerate(args):
        word = token.lower()
        if channel := _channel_id(token):
            channel_id = channel
            seen.claim("channel", token)
        elif word in _CADENCES:
            cadence = _CADENCES[word]
            seen.claim("cadence", token)
        elif word[:1].isdigit():
            local_time = _time(word)
            seen.claim("time", token)
        else:
            raise _unknown_word(args, index, "digest add", "digest", _CADENCES)
    if channel_id is None:
        message = "Say which channel, picked from Slack's autocomplete: "
        raise _Reject(message + "`/spend digest add #channel 09:00`.", "digest")
    if local_time is None:
        message = "Say when, as 24-hour HH:MM: `/spend digest add #channel 09:00`."
        raise _Reject(message, "digest")
    return DigestAdd(channel_id, local_time, cadence)


def _time(word: str) -> time:
    hour, minute = 99, 0
    if clock := _CLOCK.fullmatch(word):
        hour, minute = int(clock[1]), int(clock[2])
    elif (am_pm := _AM_PM.fullmatch(word)) and 1 <= int(am_pm[1]) <= 12:
        hour = int(am_pm[1]) % 12 + (12 if am_pm[3] == "pm" else 0)
        minute = int(am_pm[2] or 0)
    if hour <= 23 and minute <= 59:
        return time(hour, minute)
    message = f"`{_shown(word)}` isn't a time of day: use 24-hour HH:MM, e.g. `09:00` or `17:30`."
    raise _Reject(message, "digest")


def _budget(rest: list[str]) -> Command:
    word, args = (rest[0].lower(), rest[1:]) if rest else ("list", [])
    if word in ("list", "ls"):
        _no_more(args, "budget list", "budget")
        return BudgetList()
    if word in ("set", "add"):
        return _budget_set(args)
    if word in ("remove", "delete", "rm"):
        return BudgetRemove(_id(args, "budget remove", "budget"))
    raise _unknown_word(rest, 0, "budget", "budget", ("set", "list", "remove"))


@dataclass
class _Budget:
    seen: _Seen
    user_id: str | None = None
    amount_cents: int | None = None
    period: str = "cycle"
    thresholds: tuple[int, ...] = (50, 80, 100)
    notify_user_ids: list[str] = field(default_factory=list)
    notify_channel_id: str | None = None

    def command(self) -> BudgetSet:
        slots = self.seen.slots
        if "cursor" not in slots and self.user_id is None:
            message = "Say what the budget is for: `/spend budget set cursor $5000` (the team) "
            message += "or `/spend budget set @alice $200` (one person)."
            raise _Reject(message, "budget")
        if self.amount_cents is None:
            message = "Say how much, e.g. `/spend budget set cursor $5000`."
            raise _Reject(message, "budget")
        if "notify" in slots and not (self.notify_user_ids or self.notify_channel_id):
            message = "`notify` needs people or a channel after it: `notify @alice #finance`."
            raise _Reject(message, "budget")
        return BudgetSet(
            amount_cents=self.amount_cents, user_id=self.user_id, period=self.period,
            thresholds=self.thresholds, notify_user_ids=tuple(self.notify_user_ids),
            notify_channel_id=self.notify_channel_id,
        )  # fmt: skip


def _budget_set(args: list[str]) -> BudgetSet:
    budget = _Budget(_Seen("budget", "budget set"))
    index = 0
    while index < len(args):
        index = _budget_word(budget, args, index)
    return budget.command()


def _budget_word(budget: _Budget, args: list[str], index: int) -> int:
    token, seen = args[index], budget.seen
    word, notifying = token.lower(), "notify" in seen.slots
    user_id, channel_id = _user_id(token), _channel_id(token)
    if user_id and notifying:
        budget.notify_user_ids += [] if user_id in budget.notify_user_ids else [user_id]
    elif user_id:
        budget.user_id = user_id
        seen.claim("person", token)
    elif channel_id and notifying:
        budget.notify_channel_id = channel_id
        seen.claim("channel", token)
    elif channel_id:
        message = "Put the channel after `notify`, e.g. `notify #finance`."
        raise _Reject(message, "budget")
    elif word == "at":
        end = index + 1
        while end < len(args) and _PERCENTS.fullmatch(args[end]):
            end += 1
        budget.thresholds = _thresholds(args[index + 1 : end])
        seen.claim("at", "at")
        return end
    elif word in _BUDGET_PERIODS:
        budget.period = _BUDGET_PERIODS[word]
        seen.claim("period", token)
    elif word[:1] == "$" or word[:1].isdigit():
        budget.amount_cents = _amount(token)
        seen.claim("amount", token)
    elif word in ("cursor", "notify"):
        seen.claim(word, word)
    else:
        vocabulary = ("cursor", "at", "notify", *_BUDGET_PERIODS)
        raise _unknown_word(args, index, "budget set", "budget", vocabulary)
    return index + 1


def _amount(token: str) -> int:
    match = _AMOUNT.fullmatch(token.lower())
    if match:
        dollars = Decimal(match[1].replace(",", "") + (match[2] or ""))
        cents = dollars * (1000 if match[3] else 1) * 100
        if 0 < cents <= _MAX_CENTS and cents == cents.to_integral_value():
            return int(cents)
    message = f"`{_shown(token)}` isn't an amount: write `$5000`, `$5,000`, `$49.99` or `5k`."
    raise _Reject(message, "budget")


def _thresholds(tokens: list[str]) -> tuple[int, ...]:
    parts = [part for token in tokens for part in token.split(",") if part]
    values = [_PERCENT.fullmatch(part) for part in parts]
    numbers = {int(value[1]) for value in values if value}
    if parts and None not in values and all(1 <= number <= 1000 for number in numbers):
        return tuple(sorted(numbers))
    message = "`at` needs percentages from 1 to 1000, e.g. `at 50,80,100`."
    raise _Reject(message, "budget")


def _alerts(rest: list[str]) -> Command:
    _no_more(rest, "alerts", "alerts")
    return AlertsList()


_HANDLERS: dict[str, Callable[[list[str]], Command]] = {
    "help": _help,
    "cursor": _cursor,
    "me": _me,
    "settings": _settings,
    "digest": _digest,
    "budget": _budget,
    "alerts": _alerts,
    "digests": _digest,
    "budgets": _budget,
    "alert": _alerts,
}


def _user_id(token: str) -> str | None:
    match = _USER.fullmatch(token)
    return match[1] if match else None


def _channel_id(token: str) -> str | None:
    match = _CHANNEL.fullmatch(token)
    return match[1] if match else None


def _email(token: str) -> str | None:
    match = _EMAIL.fullmatch(token)
    return (match[1] or match[2]).lower() if match else None


def _is_markup(token: str) -> bool:
    """Slack's escaped mentions, channels and emails (their labels are not keys)."""
    return bool(_user_id(token) or _channel_id(token) or _email(token))


def _shown(token: str) -> str:
    """How a word is echoed in a message: Slack labels dropped, short, no backticks, and
    escaped for mrkdwn (`<!channel>` typed by someone is shown, never acted on)."""
    if user_id := _user_id(token):
        return f"<@{user_id}>"
    if channel_id := _channel_id(token):
        return f"<#{channel_id}>"
    shown = _email(token) or token.replace("`", "'")
    return escape(shown if len(shown) <= 40 else f"{shown[:39]}…")


def _closest(word: str, options: Iterable[str]) -> str | None:
    matches = get_close_matches(word, list(options), n=1, cutoff=0.6)
    return matches[0] if matches else None


def _no_more(args: Sequence[str], command: str, topic: str) -> None:
    if args:
        message = f"`/spend {command}` takes nothing more: drop `{_shown(args[0])}`."
        raise _Reject(message, topic, command)


def _id(args: Sequence[str], command: str, topic: str) -> int:
    match = _ID.fullmatch(args[0]) if len(args) == 1 else None
    if match and int(match[1]) > 0:
        return int(match[1])
    message = f"Say which one by number: `/spend {command} 3` (`/spend {topic} list` shows them)."
    raise _Reject(message, topic)


def _unknown_word(
    words: Sequence[str], index: int, prefix: str, topic: str, vocabulary: Iterable[str]
) -> _Reject:
    """`words[index]` means nothing after `prefix`: name it, and fix it if it is a typo."""
    token = words[index]
    if token.startswith("@"):
        message = "Pick the person from Slack's autocomplete (type `@` and choose them)"
        return _Reject(f"{message} so that Slack sends a real mention.", topic)
    if token.startswith("#") and not _ID.fullmatch(token):
        message = "Pick the channel from Slack's autocomplete (type `#` and choose it)"
        return _Reject(f"{message} so that Slack sends a real channel link.", topic)
    match = _closest(token.lower(), vocabulary)
    if match is None:
        message = f"I don't understand `{_shown(token)}` here: see `/spend help {topic}`."
        return _Reject(message, topic)
    message = f"I don't understand `{_shown(token)}`."
    return _Reject(message, topic, _corrected(prefix, words, index, match))


def _corrected(prefix: str, words: Sequence[str], index: int, replacement: str) -> str:
    """The command typed, with `words[index]` replaced (index -1: nothing replaced)."""
    fixed = [replacement if at == index else _shown(word) for at, word in enumerate(words)]
    return " ".join([prefix, *fixed]).strip()
