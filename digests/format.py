"""Small pure formatters shared by every rendering: money, counts, bars, instants, and the
escaping of untrusted text (names, emails, model names, errors) for each surface.

Every value that comes from Cursor, Slack profiles or users goes through one of these on
its way out: ``escape`` for Slack mrkdwn, ``escape_code`` inside a Slack code block,
``csv_text`` for a CSV text cell, ``printable`` for a terminal.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

_CENT = Decimal(1)
_BAR_CELLS = "▏▎▍▌▋▊▉█"


def dollars(cents: Decimal) -> str:
    """``$1,234.57`` from cents (rounded half up to the cent)."""
    whole = cents.quantize(_CENT, rounding=ROUND_HALF_UP)
    sign = "-" if whole < 0 else ""
    value = abs(whole) / 100
    return f"{sign}${value:,.2f}"


def json_cents(cents: Decimal) -> float:
    """Cents as a JSON number, kept to a millionth of a cent."""
    return float(cents.quantize(Decimal("0.000001")))


def compact(count: int) -> str:
    """``12.3M``, ``4.5k``, ``950``."""
    for limit, suffix in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "k")):
        if abs(count) >= limit:
            return f"{count / limit:.1f}{suffix}"
    return str(count)


def bar(value: Decimal, largest: Decimal, width: int = 12) -> str:
    """A bar of ``width`` cells at most, in eighths of a cell."""
    if largest <= 0 or value <= 0:
        return ""
    eighths = int((value / largest) * width * 8)
    full, rest = divmod(max(eighths, 1), 8)
    return "█" * full + (_BAR_CELLS[rest - 1] if rest else "")


def share(value: Decimal, total: Decimal) -> str:
    if total <= 0:
        return "0%"
    return f"{(value / total * 100):.0f}%"


def local_time(moment: datetime | None, timezone: str) -> str:
    if moment is None:
        return "never"
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M %Z")


# -- untrusted text -------------------------------------------------------------------------------

#: What a backtick becomes inside a code block (it looks alike and closes nothing).
CODE_BACKTICK = "\u02cb"
#: A CSV text cell starting with one of these is a formula to Excel, Sheets or LibreOffice.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
#: Characters that reorder text on a terminal (bidirectional overrides and isolates).
_BIDI_CONTROLS = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def escape(text: object) -> str:
    """Slack mrkdwn escaping: ``&``, ``<`` and ``>`` as entities, so that data can never
    mention (``<!channel>``), link (``<https://…|…>``) or be read as an entity."""
    value = text if isinstance(text, str) else str(text)
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_code(text: object) -> str:
    """Escaping for a line inside a Slack code block: mrkdwn's, and no backtick that
    could close the block (Slack reads entities in code blocks too)."""
    return escape(text).replace("`", CODE_BACKTICK)


def csv_text(value: object) -> str:
    """A CSV text cell that no spreadsheet runs as a formula (OWASP's advice).

    A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a line end (also after
    leading spaces) gets a single quote in front. Write the cell with the csv module's
    quoting as well; numbers that are meant as numbers are written as numbers, not here.
    """
    text = value if isinstance(value, str) else str(value)
    if text.lstrip(" ").startswith(FORMULA_STARTS):
        return "'" + text
    return text


def printable(text: object) -> str:
    """Text for a terminal: control characters (escape sequences, line ends, bidi
    overrides) shown as U+FFFD, so that data cannot move the cursor or reorder a line."""
    value = text if isinstance(text, str) else str(text)
    return "".join(
        "\ufffd" if unicodedata.category(ch) == "Cc" or ch in _BIDI_CONTROLS else ch for ch in value
    )
