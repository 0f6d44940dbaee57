"""A person's own figures for their line: spend, their trailing average, models, a hint.

Read from the daily rollups (``usage_rollup``) for the people of one workspace at once,
then composed per person: nothing here mixes one person's rows into another's figures.

The cheaper-model hint: among the models of the period, the one with the largest share
that is at least ``LARGE_SHARE_PERCENT`` of the period's spend, when another model the
person also used in the window (the period and its trailing window) costs at most
1/``PRICE_RATIO`` as much per token. A model's price per token is the person's own: its
charged cents over its tokens (input, output, cache read and cache write) in the window.
Only models with at least ``HINT_MIN_TOKENS`` tokens and some charged cents are priced.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select
from sqlmodel import Session

from ledger.budget_status import BudgetStatus
from ledger.periods import TRAILING_DAYS
from ledger.personal_models import LineCadence
from ledger.rollups import ROLLUPS

#: A model's share of the period's spend from which a cheaper model is suggested.
LARGE_SHARE_PERCENT = Decimal(40)
#: How many times another model's price per token the suggested-from model must cost.
PRICE_RATIO = Decimal(3)
#: Tokens a model needs in the window before its price per token is trusted.
HINT_MIN_TOKENS = 10_000
#: Weeks before the week in question that a weekly line is compared against.
TRAILING_WEEKS = 4
#: Models listed in a line; the rest are counted.
TOP_MODELS = 3
_ZERO = Decimal(0)
_TENTH = Decimal("0.1")
_MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class Cell:
    """One person's spend on one model on one day."""

    day: date
    model: str
    cents: Decimal
    tokens: int


@dataclass(frozen=True)
class ModelUse:
    model: str
    cents: Decimal
    tokens: int
    #: Of the period's spend, to a tenth of a percent.
    share_percent: Decimal


@dataclass(frozen=True)
class CheaperHint:
    model: str
    share_percent: Decimal
    cents_per_million: Decimal
    alternative: str
    alternative_cents_per_million: Decimal
    #: How many times the alternative's price per token the model costs (whole, rounded down).
    times: int


@dataclass(frozen=True)
class PersonalFigures:
    cadence: LineCadence
    first: date
    last: date
    cents: Decimal
    tokens: int
    #: Spend per period over the trailing window (None: nothing spent in it, or no window).
    average_cents: Decimal | None
    #: Periods in the trailing window (days for a daily line, weeks for a weekly one); 0
    #: when the ledger's history starts with the period.
    trailing_periods: int
    models: tuple[ModelUse, ...]
    other_models: int
    hint: CheaperHint | None
    #: The person's own budget, where it stands (None: they have none).
    budget: BudgetStatus | None


def trailing_window(
    cadence: LineCadence, first: date, known_from: date | None = None
) -> tuple[date, int]:
    """The first day of the window a period is compared against, and its periods (days or
    weeks): fewer when the ledger's history starts later (``known_from``), as days it
    cannot know are not days without spend."""
    step, periods = (1, TRAILING_DAYS) if cadence is LineCadence.DAILY else (7, TRAILING_WEEKS)
    if known_from is not None and known_from > first - timedelta(days=step * periods):
        periods = max(0, (first - known_from).days // step)
    return first - timedelta(days=step * periods), periods


def read_cells(
    session: Session, connection_id: int, emails: Iterable[str], first: date, last: date
) -> dict[str, list[Cell]]:
    """Each of ``emails``' spend per day and model from ``first`` to ``last``, by email."""
    wanted = sorted({email.lower() for email in emails})
    tokens = (
        ROLLUPS.c.input_tokens
        + ROLLUPS.c.output_tokens
        + ROLLUPS.c.cache_read_tokens
        + ROLLUPS.c.cache_write_tokens
    )
    cells: dict[str, list[Cell]] = defaultdict(list)
    for start in range(0, len(wanted), 500):
        rows = session.execute(
            select(
                ROLLUPS.c.user_email,
                ROLLUPS.c.day,
                ROLLUPS.c.model,
                func.sum(ROLLUPS.c.charged_cents),
                func.sum(tokens),
            )
            .where(
                ROLLUPS.c.connection_id == connection_id,
                ROLLUPS.c.day >= first,
                ROLLUPS.c.day <= last,
                ROLLUPS.c.user_email.in_(wanted[start : start + 500]),
            )
            .group_by(ROLLUPS.c.user_email, ROLLUPS.c.day, ROLLUPS.c.model)
        ).all()
        for email, day, model, cents, count in rows:
            cells[email].append(Cell(_as_date(day), model, Decimal(cents or 0), int(count or 0)))
    return dict(cells)


def _as_date(value: object) -> date:
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def share(part: Decimal, whole: Decimal) -> Decimal:
    if whole <= 0:
        return _ZERO
    return (part / whole * 100).quantize(_TENTH, rounding=ROUND_HALF_UP)


def _per_model(cells: Iterable[Cell]) -> dict[str, tuple[Decimal, int]]:
    sums: dict[str, tuple[Decimal, int]] = {}
    for cell in cells:
        cents, tokens = sums.get(cell.model, (_ZERO, 0))
        sums[cell.model] = (cents + cell.cents, tokens + cell.tokens)
    return sums


def cheaper_hint(
    period_models: Sequence[ModelUse], window: dict[str, tuple[Decimal, int]]
) -> CheaperHint | None:
    """The hint of the module's docstring, or None."""
    priced = {
        model: (cents, tokens)
        for model, (cents, tokens) in window.items()
        if tokens >= HINT_MIN_TOKENS and cents > 0
    }
    for use in period_models:  # largest share first
        if use.share_percent < LARGE_SHARE_PERCENT or use.model not in priced:
            continue
        cents, tokens = priced[use.model]
        cheaper = [
            (alt_cents / alt_tokens, model)
            for model, (alt_cents, alt_tokens) in priced.items()
            if model != use.model and cents * alt_tokens >= PRICE_RATIO * alt_cents * tokens
        ]
        if cheaper:
            price, model = min(cheaper)
            own = cents / tokens
            return CheaperHint(
                model=use.model,
                share_percent=use.share_percent,
                cents_per_million=(own * _MILLION).quantize(_TENTH),
                alternative=model,
                alternative_cents_per_million=(price * _MILLION).quantize(_TENTH),
                times=int(own / price),
            )
    return None


def compose(
    cells: Sequence[Cell],
    cadence: LineCadence,
    first: date,
    last: date,
    budget: BudgetStatus | None = None,
    known_from: date | None = None,
) -> PersonalFigures:
    """One person's figures for ``first``..``last`` from their cells (period and window;
    ``known_from``: the ledger's first day of history)."""
    window_first, periods = trailing_window(cadence, first, known_from)
    in_period = [c for c in cells if first <= c.day <= last]
    trailing = [c for c in cells if window_first <= c.day < first]
    cents = sum((c.cents for c in in_period), _ZERO)
    trailing_cents = sum((c.cents for c in trailing), _ZERO)
    used = sorted(_per_model(in_period).items(), key=lambda item: (-item[1][0], -item[1][1]))
    models = [ModelUse(m, c, t, share(c, cents)) for m, (c, t) in used if c > 0 or t > 0]
    window = _per_model(c for c in cells if window_first <= c.day <= last)
    return PersonalFigures(
        cadence=cadence,
        first=first,
        last=last,
        cents=cents,
        tokens=sum(c.tokens for c in in_period),
        average_cents=(trailing_cents / periods).quantize(_TENTH)
        if periods and trailing_cents > 0
        else None,
        trailing_periods=periods,
        models=tuple(models[:TOP_MODELS]),
        other_models=max(0, len(models) - TOP_MODELS),
        hint=cheaper_hint(models, window),
        budget=budget,
    )


def own_budget(statuses: Iterable[BudgetStatus], email: str | None) -> BudgetStatus | None:
    """The enabled budget set on ``email`` (the person's own), if any."""
    if email is None:
        return None
    for status in statuses:
        subject = status.budget.subject_email
        if status.budget.enabled and subject and subject.lower() == email.lower():
            return status
    return None
