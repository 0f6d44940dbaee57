"""A person's figures (pure): the period against their trailing average, the model mix,
and when the cheaper-model hint is given."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from ledger.personal_figures import (
    HINT_MIN_TOKENS,
    LARGE_SHARE_PERCENT,
    PRICE_RATIO,
    Cell,
    CheaperHint,
    compose,
    share,
)
from ledger.personal_models import LineCadence

DAY = date(2026, 11, 24)
DAILY, WEEKLY = LineCadence.DAILY, LineCadence.WEEKLY


def cell(model: str, cents: str | int | Decimal, tokens: int, day: date = DAY) -> Cell:
    return Cell(day, model, Decimal(cents), tokens)


def test_the_period_is_measured_against_the_days_before_it() -> None:
    cells = [cell("m", 700, 1000, DAY - timedelta(days=d)) for d in range(1, 8)]
    cells += [cell("m", 100, 50, DAY - timedelta(days=8))]  # outside the 7-day window
    cells += [cell("m", 1400, 2000), cell("n", 600, 3000)]
    cells += [cell("m", 999, 1, DAY + timedelta(days=1))]  # after the period: not counted
    figures = compose(cells, DAILY, DAY, DAY)
    assert figures.cents == Decimal(2000) and figures.tokens == 5000
    assert figures.average_cents == Decimal(700) and figures.trailing_periods == 7
    assert [(m.model, m.share_percent) for m in figures.models] == [
        ("m", Decimal("70.0")),
        ("n", Decimal("30.0")),
    ]


def test_a_weekly_period_is_measured_against_the_four_weeks_before() -> None:
    monday = date(2026, 11, 16)
    cells = [cell("m", 1000, 10, monday - timedelta(days=d)) for d in range(1, 29)]
    cells.append(cell("m", 5000, 10, monday + timedelta(days=6)))
    figures = compose(cells, WEEKLY, monday, monday + timedelta(days=6))
    assert figures.cents == Decimal(5000)
    assert figures.average_cents == Decimal(7000) and figures.trailing_periods == 4


def test_no_history_means_no_average_and_no_spend_means_no_models() -> None:
    figures = compose([], DAILY, DAY, DAY)
    assert figures.cents == 0 and figures.average_cents is None
    assert figures.models == () and figures.hint is None and figures.other_models == 0


def test_the_top_three_models_are_listed_and_the_rest_counted() -> None:
    cells = [cell(name, cents, 10) for name, cents in (("a", 1), ("b", 5), ("c", 3), ("d", 4))]
    figures = compose(cells, DAILY, DAY, DAY)
    assert [m.model for m in figures.models] == ["b", "d", "c"]
    assert figures.other_models == 1


def test_share_of_nothing_is_zero() -> None:
    assert share(Decimal(5), Decimal(0)) == 0
    assert share(Decimal(1), Decimal(3)) == Decimal("33.3")


def hinted(
    big_share: Decimal, ratio: Decimal, alt_tokens: int = HINT_MIN_TOKENS
) -> CheaperHint | None:
    """A day where ``big`` has ``big_share`` percent of the spend and costs ``ratio`` times
    ``cheap`` per token."""
    tokens = 100_000
    big_cents = Decimal(1000)
    cheap_cents = big_cents * (100 - big_share) / big_share
    cheap_tokens = int(cheap_cents * tokens * ratio / big_cents)
    cells = [cell("big", big_cents, tokens), cell("cheap", cheap_cents, cheap_tokens)]
    if alt_tokens != HINT_MIN_TOKENS:
        cells = [cell("big", big_cents, tokens), cell("cheap", "1", alt_tokens)]
    return compose(cells, DAILY, DAY, DAY).hint


def test_the_hint_is_given_at_the_named_share_and_price_ratio() -> None:
    hint = hinted(LARGE_SHARE_PERCENT, PRICE_RATIO)
    assert hint is not None
    assert (hint.model, hint.alternative, hint.times) == ("big", "cheap", 3)
    assert hint.cents_per_million == Decimal(10_000)


@pytest.mark.parametrize(
    ("big_share", "ratio"),
    [
        (LARGE_SHARE_PERCENT - Decimal("0.2"), PRICE_RATIO * 2),  # share too small
        (Decimal(80), PRICE_RATIO - Decimal("0.1")),  # not expensive enough
    ],
)
def test_no_hint_below_the_share_or_the_ratio(big_share: Decimal, ratio: Decimal) -> None:
    assert hinted(big_share, ratio) is None


def test_an_alternative_with_too_few_tokens_is_not_priced() -> None:
    assert hinted(Decimal(90), PRICE_RATIO, alt_tokens=HINT_MIN_TOKENS - 1) is None


def test_an_alternative_used_only_in_the_trailing_window_counts_and_the_cheapest_wins() -> None:
    cells = [
        cell("opus", 9000, 100_000),
        cell("sonnet", 300, 100_000, DAY - timedelta(days=3)),
        cell("mini", 50, 100_000, DAY - timedelta(days=2)),
        cell("free", 0, 900_000, DAY - timedelta(days=2)),  # no charge: never suggested
    ]
    hint = compose(cells, DAILY, DAY, DAY).hint
    assert hint is not None
    assert (hint.model, hint.alternative, hint.times) == ("opus", "mini", 180)
    assert hint.share_percent == Decimal(100)


def test_days_before_the_ledgers_history_are_not_counted_as_days_without_spend() -> None:
    cells = [cell("m", 600, 10, DAY - timedelta(days=d)) for d in range(1, 4)]
    figures = compose(
        [*cells, cell("m", 600, 10)], DAILY, DAY, DAY, known_from=DAY - timedelta(days=3)
    )
    assert (figures.trailing_periods, figures.average_cents) == (3, Decimal(600))
    first_day = compose([cell("m", 600, 10)], DAILY, DAY, DAY, known_from=DAY)
    assert (first_day.trailing_periods, first_day.average_cents) == (0, None)
    monday = date(2026, 11, 16)
    weekly = compose(
        [], WEEKLY, monday, monday + timedelta(days=6), known_from=monday - timedelta(days=17)
    )
    assert weekly.trailing_periods == 2  # two whole weeks of history before
    full = compose([], DAILY, DAY, DAY, known_from=DAY - timedelta(days=30))
    assert full.trailing_periods == 7
