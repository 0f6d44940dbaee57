"""`/spend cursor …` and `/spend me …`: a spend query's period, grouping, limit, person, flags."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from bot.slack.grammar import periods, words
from bot.slack.grammar.commands import SpendQuery
from bot.slack.grammar.groups import check_group_query, group_name
from bot.slack.grammar.refusals import Reject, Seen, unknown_word
from digests.errors import period_text
from ledger.errors import PeriodError
from ledger.periods import parse_period

_ANY_DAY = date(2000, 1, 1)  # periods are checked for shape only; the caller resolves them
_TOP = re.compile(r"top([0-9]+)")


@dataclass
class _Query:
    seen: Seen
    period: str = "cycle"
    by: str | None = None
    top: int | None = None
    user_id: str | None = None
    email: str | None = None
    compare: str | None = None
    flags: set[str] = field(default_factory=set)
    group: str | None = None

    def command(self) -> SpendQuery:
        single = "me" in self.flags or self.user_id is not None or self.email is not None
        by = self.by or ("day" if single else "user")
        me, public, csv = ("me" in self.flags, "public" in self.flags, "csv" in self.flags)
        check_group_query(self.group, by, single, self.seen.topic, chart="chart" in self.flags)
        return SpendQuery(
            period=self.period, by=by, top=self.top, user_id=self.user_id, email=self.email,
            me=me, public=public, csv=csv, compare=self.compare, chart="chart" in self.flags,
            group=self.group,
        )  # fmt: skip


def query(tokens: list[str], *, topic: str) -> SpendQuery:
    spend = _Query(Seen(topic, "cursor"))
    index = 0
    while index < len(tokens):
        index = _query_word(spend, tokens, index)
    return spend.command()


def _query_word(spend: _Query, tokens: list[str], index: int) -> int:
    """Read the word at `index` into `spend`; the index of the next unread word."""
    phrase = periods.read(tokens, index, spend.seen.topic)
    if phrase is not None:
        _phrase(spend, phrase)
        return phrase.next
    after = _two_words(spend, tokens, index)
    if after is not None:
        return after
    if not _person(spend, tokens[index]):
        _one_word(spend, tokens, index)
    return index + 1


def _two_words(spend: _Query, tokens: list[str], index: int) -> int | None:
    """Read `by X`, `top N` (or `topN`) or `last cycle` at `index`: the index after it."""
    seen, word = spend.seen, tokens[index].lower()
    following = tokens[index + 1].lower() if index + 1 < len(tokens) else ""
    if word in ("by", "per"):
        spend.by = _grouping(tokens, index, seen.topic)
        seen.claim("by", f"{word} {following}")
        return index + 2
    if word == "top" or _TOP.fullmatch(word):
        number = following if word == "top" else word[3:]
        spend.top = _top(number, seen.topic)
        seen.claim("top", f"top {number}")
        return index + 2 if word == "top" else index + 1
    if word == "group":
        spend.group, after = group_name(tokens, index, seen.topic)
        seen.claim("group", f"group {spend.group}")
        return after
    if word == "last" and following == "cycle":
        spend.period = _period("last-cycle", seen.topic)
        seen.claim("period", "last cycle")
        return index + 2
    return None


def _phrase(spend: _Query, phrase: periods.Read) -> None:
    """A period, a comparison or `chart` (`bot.slack.grammar.periods`) into `spend`."""
    spend.seen.claim(phrase.slot, phrase.said)
    if phrase.slot == "period":
        spend.period = phrase.value
    elif phrase.slot == "compare":
        spend.compare = phrase.value
    else:
        spend.flags.add(phrase.slot)


def _person(spend: _Query, token: str) -> bool:
    """Read a mention, an email or `me` into `spend`; False when `token` is none of them."""
    if user_id := words.user_id(token):
        spend.user_id = user_id
    elif email := words.email(token):
        spend.email = email
    elif token.lower() == "me":
        spend.flags.add("me")
        token = "me"
    else:
        return False
    spend.seen.claim("person", token)
    return True


def _one_word(spend: _Query, tokens: list[str], index: int) -> None:
    """Read a flag or a period at `index`, or refuse the word."""
    token, seen = tokens[index], spend.seen
    word = token.lower()
    if word in ("public", "csv", "cursor"):
        spend.flags.add(word)
        seen.claim(word, word)
    elif word in ("to", "-", "until", "through"):
        message = "Write a range with two dots and no spaces: `2025-01-01..2025-01-31`."
        raise Reject(message, seen.topic)
    elif word in words.ACTIONS or word == "connect":
        raise Reject(f"`{word}` goes on its own.", "cursor", f"cursor {word}")
    elif word in words.PERIOD_WORDS or word[:1].isdigit() or ".." in word:
        spend.period = _period(word, seen.topic)
        seen.claim("period", token)
    else:
        vocabulary = (*words.QUERY_WORDS, *periods.SINGLE_WORDS)
        raise unknown_word(tokens, index, "cursor", seen.topic, vocabulary)


def _grouping(tokens: list[str], index: int, topic: str) -> str:
    """The grouping named after `by` or `per` at `index`."""
    value = tokens[index + 1].lower() if index + 1 < len(tokens) else ""
    if value in words.GROUPINGS:
        return words.GROUPINGS[value]
    said = (
        f"`{tokens[index]} {words.shown(value)}` isn't a grouping" if value else "`by` needs a word"
    )
    message = f"{said}: use user, model, day, kind or group, e.g. `/spend cursor 7d by model`."
    match = words.closest(value, words.GROUPINGS) if value else None
    fixed = words.corrected("cursor", tokens, index + 1, words.GROUPINGS[match]) if match else None
    raise Reject(message, topic, fixed)


def _top(number: str, topic: str) -> int:
    if number.isascii() and number.isdigit() and 1 <= int(number) <= 100:
        return int(number)
    message = "`top` needs a number from 1 to 100 after it, e.g. `top 10`."
    raise Reject(message, topic)


def _period(word: str, topic: str) -> str:
    """`word` when it reads as a period (checked for shape only), else a refusal."""
    try:
        parse_period(word, today=_ANY_DAY)
    except PeriodError as error:
        raise Reject(period_text(error), topic) from None
    return word
