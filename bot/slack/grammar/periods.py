"""Period phrases in a spend query: `last week`, `oct 2026`, `since monday`, `vs previous`,
`chart`.

A phrase may span up to three words; the longest one that reads as a period wins. What
counts as a period is `ledger.periods`' rule (the CLI's `--period` reads the same), checked
here for shape only: the caller resolves it against the workspace's today and cycle, so a
month that has not started yet is refused then, with the real date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from difflib import get_close_matches

from bot.slack.grammar.refusals import Reject
from bot.slack.grammar.words import shown
from digests.errors import period_text
from ledger.calendar_math import MONTHS
from ledger.errors import PeriodError, PeriodProblem
from ledger.periods import parse_period

_ANY_DAY = date(2000, 1, 1)
_LONGEST = 3
_CANONICAL = {"last cycle": "last-cycle"}  # the form earlier versions returned
COMPARE_WORDS = ("vs", "vs.", "versus", "against")
PREVIOUS_WORDS = ("previous", "prev", "before", "prior")
CHART_WORDS = ("chart", "graph", "plot")
_STARTERS = ("this", "last", "past", "previous", "prev", "since")
#: Whole phrases offered when a period phrase is misspelt.
PHRASES = (
    "this week", "this month", "this cycle", "this quarter", "this year",
    "last week", "last month", "last cycle", "last quarter", "last year",
    "last 7 days", "last 4 weeks", "last 3 months", "since monday", "since yesterday",
)  # fmt: skip
#: One-word periods, for the nearest-word suggestion of an unknown word.
SINGLE_WORDS = (
    "mtd", "qtd", "ytd", "wtd", "quarter", "year", "this", "since", *MONTHS, *CHART_WORDS, "vs",
)  # fmt: skip


@dataclass(frozen=True)
class Read:
    """A phrase read at some index: which slot it fills, with what, and where it ends."""

    slot: str  # "period", "compare" or "chart"
    value: str
    said: str  # the words as typed, for conflicts
    next: int


def _is_period(text: str) -> bool:
    """True when ``text`` reads as a period, even a wrong one (bad date, reversed range)."""
    try:
        parse_period(text, today=_ANY_DAY)
    except PeriodError as error:
        return error.problem is not PeriodProblem.UNKNOWN
    return True


def _checked(text: str, topic: str) -> str:
    try:
        parse_period(text, today=_ANY_DAY)
    except PeriodError as error:
        if error.problem is not PeriodProblem.FUTURE:
            raise Reject(period_text(error), topic) from None
    return text


def period_at(tokens: list[str], index: int, topic: str) -> tuple[str, int] | None:
    """(the period phrase starting at ``index``, the index after it), longest first."""
    for length in range(min(_LONGEST, len(tokens) - index), 0, -1):
        chunk = tokens[index : index + length]
        text = " ".join(chunk).lower()
        if (length == 1 or not any(".." in token for token in chunk)) and _is_period(text):
            return _CANONICAL.get(text, _checked(text, topic)), index + length
    return None


def read(tokens: list[str], index: int, topic: str) -> Read | None:
    """A period, a comparison (`vs …`) or `chart` at ``index``; None when it is none of them
    (a word such as `last` that starts no period is refused with the nearest phrase)."""
    word = tokens[index].lower()
    if word in CHART_WORDS:
        return Read("chart", "chart", word, index + 1)
    if word in COMPARE_WORDS:
        return _compare(tokens, index, topic)
    found = period_at(tokens, index, topic)
    if found is not None:
        text, after = found
        return Read("period", text, " ".join(tokens[index:after]), after)
    if word in _STARTERS:
        raise _misspelt(tokens, index, topic)
    return None


def _compare(tokens: list[str], index: int, topic: str) -> Read:
    following = tokens[index + 1].lower() if index + 1 < len(tokens) else ""
    found = period_at(tokens, index + 1, topic) if following else None
    if found is not None:
        text, after = found
        return Read("compare", text, " ".join(tokens[index:after]), after)
    if following in PREVIOUS_WORDS:
        return Read("compare", "previous", f"vs {following}", index + 2)
    message = (
        f"Say what `{shown(tokens[index])}` compares with: `vs previous` (the period just "
        "before), `vs last cycle`, `vs last month` or any period."
    )
    raise Reject(message, topic, _fixed(tokens, index + 1, 1, "previous") if following else None)


def _misspelt(tokens: list[str], index: int, topic: str) -> Reject:
    """`last wek`: the nearest whole phrase, offered as the command with it fixed."""
    pair = " ".join(tokens[index : index + 2]).lower()
    matches = get_close_matches(pair, PHRASES, n=1, cutoff=0.6)
    said = " ".join(shown(token) for token in tokens[index : index + 2])
    message = f"I don't understand `{said}` as a period: see `/spend help periods`."
    if not matches:
        return Reject(message, "periods")
    return Reject(message, topic, _fixed(tokens, index, 2, matches[0]))


def _fixed(tokens: list[str], index: int, length: int, replacement: str) -> str:
    kept = [shown(token) for token in tokens]
    return " ".join(["cursor", *kept[:index], replacement, *kept[index + length :]])
