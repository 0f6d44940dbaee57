"""A person's own daily or weekly line, as a Slack DM (``templates/personal_line.md.j2``).

The words only: the figures are ``ledger.personal_figures``'s, for the one person the
message goes to.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import Decimal

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template

from digests.blocks import Message, context, section
from digests.daily import delta
from digests.daily_render import TEMPLATES
from digests.daily_words import change_words, short_date
from digests.format import compact, dollars, escape
from ledger.personal_figures import PersonalFigures
from ledger.personal_models import LineCadence

FOOTER = (
    "Only you get this line. `/spend me off` stops it; "
    "`/spend me daily` or `/spend me weekly [HH:MM]` changes it."
)


@dataclass(frozen=True)
class LineWords:
    period: str
    change: str
    per: str


def _pct(value: Decimal) -> str:
    return f"{value:.0f}%"


def _cents_dollars(cents: int) -> str:
    return dollars(Decimal(cents))


@functools.cache
def _template() -> Template:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=StrictUndefined,
        finalize=escape,
    )
    env.filters.update(
        dollars=dollars,
        compact=compact,
        pct=_pct,
        short_date=short_date,
        cents_dollars=_cents_dollars,
    )
    return env.get_template("personal_line.md.j2")


def words_for(figures: PersonalFigures) -> LineWords:
    if figures.cadence is LineCadence.DAILY:
        period = f"Your Cursor spend yesterday ({figures.first:%a} {short_date(figures.first)})"
        against, per = f"your {figures.trailing_periods}-day average", "/day"
    else:
        span = f"{short_date(figures.first)} to {short_date(figures.last)}"
        period = f"Your Cursor spend last week ({span})"
        against, per = f"your {figures.trailing_periods}-week average", "/week"
    change = change_words(delta(figures.cents, figures.average_cents), against)
    if figures.trailing_periods == 0:
        change = "no earlier history to compare with yet"
    elif figures.average_cents is None:
        change = f"nothing spent in the {figures.trailing_periods} {per[1:]}s before"
    return LineWords(period=period, change=change, per=per)


def summary(figures: PersonalFigures) -> str:
    """The notification text: the period and the amount."""
    words = words_for(figures)
    return f"{words.period}: {dollars(figures.cents)}"


def render_line(figures: PersonalFigures) -> Message:
    """The DM: the figures, then how to stop or change it."""
    body = _template().render(p=figures, w=words_for(figures)).strip()
    return Message(text=escape(summary(figures)), blocks=[section(body), context(FOOTER)])
