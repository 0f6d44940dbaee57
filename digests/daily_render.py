"""The daily digest rendered through the Jinja templates in ``digests/templates``.

- ``render_text``: the terminal (``daily.txt.j2``), every data value with its control
  characters made visible (``digests.format.printable``),
- ``render_blocks``: a Slack message whose mrkdwn comes from ``daily_*.md.j2``, every
  data value Slack-escaped on the way out (``digests.format.escape``, applied by the
  template environment to every ``{{ … }}``), within Block Kit's limits.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template

from digests.blocks import MAX_SECTION_CHARS, Block, Message, context, header, section
from digests.daily_types import Digest, Forecast
from digests.daily_words import change_words, percent, short_date
from digests.format import compact, dollars, escape, printable
from digests.words import pace
from ledger.periods import TRAILING_DAYS

TEMPLATES = Path(__file__).parent / "templates"


def _pad(value: object, width: int) -> str:
    return str(value).ljust(width)


def _rpad(value: object, width: int) -> str:
    return str(value).rjust(width)


def _whole_percent(value: Decimal) -> str:
    return f"{value:.0f}%"


def _share(value: Decimal, total: Decimal) -> str:
    return _whole_percent(percent(value, total))


def _pace(projection: Forecast) -> str:
    weekday, weekend = projection.weekday_rate_cents, projection.weekend_rate_cents
    if weekday is None or weekend is None:
        return ""
    return pace(weekday, weekend)


_FILTERS = {
    "dollars": dollars,
    "compact": compact,
    "pad": _pad,
    "rpad": _rpad,
    "pct": _whole_percent,
    "share": _share,
    "short_date": short_date,
    "change": change_words,
    "pace": _pace,
}


@functools.cache
def _environment(slack: bool) -> Environment:
    """Every ``{{ … }}`` of a template is data, escaped on the way out: for Slack mrkdwn
    (``.md.j2``) or for a terminal (``.txt.j2``). Literal template text is not."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        undefined=StrictUndefined,
        finalize=escape if slack else printable,
    )
    env.filters.update(_FILTERS)
    env.globals.update(TRAILING_DAYS=TRAILING_DAYS)
    return env


@functools.cache
def _template(name: str) -> Template:
    return _environment(name.endswith(".md.j2")).get_template(name)


def _render(name: str, digest: Digest) -> str:
    return _template(name).render(d=digest).strip()


def render_text(digest: Digest) -> str:
    """The digest as plain text for the terminal."""
    return _render("daily.txt.j2", digest) + "\n"


def _sections(mrkdwn: str) -> list[Block]:
    """``mrkdwn`` as one section, or several split on line ends if it is too long for one."""
    if not mrkdwn:
        return []
    blocks: list[Block] = []
    chunk = ""
    for line in mrkdwn.split("\n"):
        candidate = f"{chunk}\n{line}" if chunk else line
        if len(candidate) > MAX_SECTION_CHARS and chunk:
            blocks.append(section(chunk))
            candidate = line
        chunk = candidate
    if chunk:
        blocks.append(section(chunk))
    return blocks


#: The message's sections, in order, between its header and its footer.
_SECTIONS = ("daily_health.md.j2", "daily_summary.md.j2", "daily_top.md.j2", "daily_notes.md.j2")


def render_blocks(digest: Digest) -> Message:
    """The digest as a Slack message (validated Block Kit within Slack's limits)."""
    blocks: list[Block] = [header(digest.title)]
    for name in _SECTIONS:
        blocks += _sections(_render(name, digest))
    blocks.append(context(_render("daily_footer.md.j2", digest)))
    return Message(text=escape(digest.summary), blocks=blocks)
