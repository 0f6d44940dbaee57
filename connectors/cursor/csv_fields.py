"""One field of Cursor's usage CSV export: names, limits and the tolerant slow paths.

:mod:`connectors.cursor.csv_export` reads the common forms inline (its hot path); a field it
cannot read there comes here, to be read in a rarer form (``$1,234.50``, ``yes``, ``1,024``)
or refused with :class:`BadField` naming the column and the problem, never the value.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from connectors.cursor.transform import classify_kind
from connectors.records import KindClass

DATE, USER, KIND, MODEL, COST = "Date", "User", "Kind", "Model", "Cost"
CLOUD_AGENT, AUTOMATION, MAX_MODE = "Cloud Agent ID", "Automation ID", "Max Mode"
INPUT_WITH_CW, INPUT_WITHOUT_CW = "Input (w/ Cache Write)", "Input (w/o Cache Write)"
CACHE_READ, OUTPUT, TOTAL = "Cache Read", "Output Tokens", "Total Tokens"

#: The newest header, in Cursor's order (what :mod:`sim_export` writes by default).
NEWEST_COLUMNS: tuple[str, ...] = (
    DATE, USER, CLOUD_AGENT, AUTOMATION, KIND, MODEL, MAX_MODE, INPUT_WITH_CW,
    INPUT_WITHOUT_CW, CACHE_READ, OUTPUT, TOTAL, COST,
)  # fmt: skip
#: Largest believable Cost of one request (dollars) and token count of one row.
MAX_COST_DOLLARS = Decimal(100_000)
MAX_TOKENS = 10**12
#: Cost words that mean "no charge" (compared lower-cased, stripped).
NO_CHARGE_WORDS = frozenset({"included", "free", "-", "—", ""})
#: Export kind labels whose API label differs (lower-cased export label -> API label).
_API_LABELS = {
    "errored, no charge": "Errored, Not Charged",
    "aborted, no charge": "Aborted, Not Charged",
    "free": "Free",
}
_TEAM_INCLUDED = "Included in Business"
_ZERO = Decimal(0)
_HUNDRED = Decimal(100)


class BadField(Exception):
    """A field that cannot be read; the message names the column and the problem."""


class KindCache:
    """(label, class) per raw ``Kind`` text: few distinct values, so looked up once each."""

    def __init__(self, team: bool) -> None:
        self._team = team
        self.known: dict[str, tuple[str, KindClass]] = {}

    def get(self, raw: str) -> tuple[str, KindClass]:
        found = self.known.get(raw)
        if found is not None:
            return found
        text = raw.strip()
        lowered = text.lower()
        if lowered == "included" and self._team:
            text = _TEAM_INCLUDED
        found = classify_kind(_API_LABELS.get(lowered, text))
        if len(self.known) < 1024:
            self.known[raw] = found
        return found


def parse_date(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise BadField("Date is not an ISO 8601 instant") from None


def to_utc(moment: datetime) -> datetime:
    """Naive means UTC (the export's zone); another offset is converted."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def cost(text: str) -> Decimal:
    """Cents from a Cost that is not a plain number: ``$0.01``, ``1,234.50`` or a word."""
    cleaned = text.strip()
    if cleaned.lower() in NO_CHARGE_WORDS:
        return _ZERO
    try:
        dollars = Decimal(cleaned.removeprefix("$").replace(",", ""))
    except ArithmeticError:
        raise BadField("Cost is neither dollars nor a known word") from None
    if not dollars.is_finite() or not 0 <= dollars <= MAX_COST_DOLLARS:
        raise BadField(f"Cost is not an amount from $0 to ${MAX_COST_DOLLARS}")
    return dollars * _HUNDRED if dollars else _ZERO


def count(text: str, name: str) -> int:
    """A token count that is not a plain integer: empty (0), ``1,234``, or bad."""
    cleaned = text.strip().replace(",", "")
    if not cleaned:
        return 0
    try:
        return int(cleaned)
    except ValueError:
        raise BadField(f"{name} is not a whole number") from None


def negative(without: int, output: int, cache_read: int) -> str:
    for value, name in ((without, INPUT_WITHOUT_CW), (output, OUTPUT), (cache_read, CACHE_READ)):
        if value < 0:
            return f"{name} is negative"
    return f"{INPUT_WITH_CW} is less than {INPUT_WITHOUT_CW}"


def yes_no(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("yes", "true", "y", "1"):
        return True
    if lowered in ("no", "false", "n", "0", ""):
        return False
    raise BadField(f"{MAX_MODE} is neither Yes nor No")
