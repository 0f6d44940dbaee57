"""Period phrases, comparisons and `chart` in `/spend` queries; fuzzing never raises."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.slack.grammar import Command, Help, Invalid, SpendQuery, parse
from digests.errors import period_text
from ledger.errors import PeriodError
from ledger.periods import parse_period


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("cursor last week", "last week"),
        ("cursor this month", "this month"),
        ("cursor this cycle", "this cycle"),
        ("cursor this quarter", "this quarter"),
        ("cursor this year", "this year"),
        ("cursor last month", "last month"),
        ("cursor last quarter", "last quarter"),
        ("cursor last cycle", "last-cycle"),
        ("cursor Last Week", "last week"),
        ("cursor mtd", "mtd"),
        ("cursor qtd", "qtd"),
        ("cursor ytd", "ytd"),
        ("cursor october", "october"),
        ("cursor oct 2026", "oct 2026"),
        ("cursor 2026-10", "2026-10"),
        ("cursor q3", "q3"),
        ("cursor 2026-q3", "2026-q3"),
        ("cursor q3 2026", "q3 2026"),
        ("cursor since monday", "since monday"),
        ("cursor since 2026-10-01", "since 2026-10-01"),
        ("cursor last 3 days", "last 3 days"),
        ("cursor last 2 weeks", "last 2 weeks"),
        ("cursor last 6 months", "last 6 months"),
        ("cursor 2027-01", "2027-01"),  # shape only: refused later, against the real today
    ],
)
def test_periods_as_people_say_them(text: str, period: str) -> None:
    assert parse(text) == SpendQuery(period=period)


def test_phrases_mix_with_the_other_words() -> None:
    assert parse("cursor last week by model top 5 public") == SpendQuery(
        period="last week", by="model", top=5, public=True
    )
    assert parse("me since monday by model") == SpendQuery(
        period="since monday", by="model", me=True
    )
    assert parse("cursor by model oct 2026 csv") == SpendQuery(
        period="oct 2026", by="model", csv=True
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cursor 7d vs previous", SpendQuery(period="7d", compare="previous")),
        ("cursor 7d vs prev by model", SpendQuery(period="7d", compare="previous", by="model")),
        ("cursor vs last cycle", SpendQuery(compare="last-cycle")),
        ("cursor this month vs last month", SpendQuery(period="this month", compare="last month")),
        ("cursor 30d chart", SpendQuery(period="30d", chart=True)),
        (
            "cursor 30d chart by model public",
            SpendQuery(period="30d", chart=True, by="model", public=True),
        ),
        ("me 7d graph", SpendQuery(period="7d", chart=True, me=True, by="day")),
    ],
)  # fmt: skip
def test_comparisons_and_charts(text: str, expected: SpendQuery) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "message", "suggestion"),
    [
        ("cursor last wek", "`last wek` as a period", "cursor last week"),
        ("cursor this mnth by model", "`this mnth`", "cursor this month by model"),
        ("cursor octber", "`octber`", "cursor october"),
        ("cursor sinse monday", "`sinse`", "cursor since monday"),
        ("cursor 7d vs", "compares with", None),
        ("cursor 7d vs yesteryear", "compares with", "cursor 7d vs previous"),
        ("cursor 2026-13", "is not a date", None),
        ("cursor last 400 days", "out of range", None),
        ("cursor last week 7d", "two periods", None),
        ("cursor 7d vs previous vs last month", "two comparisons", None),
    ],
)
def test_unknown_phrases_get_the_nearest_suggestion(
    text: str, message: str, suggestion: str | None
) -> None:
    result = parse(text)
    assert isinstance(result, Invalid), result
    assert message in result.message
    assert result.suggestion == suggestion


FRAGMENTS = [
    "cursor", "me", "last", "this", "since", "vs", "previous", "chart", "week", "month",
    "cycle", "quarter", "year", "mtd", "qtd", "ytd", "october", "oct", "2026", "2026-10",
    "q3", "2026-q3", "monday", "3", "days", "weeks", "months", "7d", "by", "model", "top",
    "public", "csv", "..", "2026-10-01", "2026-10-01..2026-09-01", "-", "<@U1>", "`", "*",
]  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=8), max_size=8))
def test_fuzzed_queries_never_raise_and_never_stay_silent(fragments: list[str]) -> None:
    result: Command = parse(" ".join(fragments))
    if isinstance(result, Invalid):
        assert result.message.strip() and result.usage.strip()
    else:
        assert isinstance(result, SpendQuery | Help) or result is not None


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=8), max_size=6),
    st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31)),
)
def test_whatever_parses_resolves_or_says_why(fragments: list[str], today: date) -> None:
    """A query the grammar accepts either resolves to days or raises a PeriodError that has
    words (a month that has not begun yet, say): never another exception."""
    result = parse("cursor " + " ".join(fragments))
    if not isinstance(result, SpendQuery):
        return
    for text in (result.period, result.compare):
        if text is None or text == "previous":
            continue
        try:
            period = parse_period(text, today=today)
        except PeriodError as error:
            assert period_text(error)
        else:
            assert period.start <= period.end
