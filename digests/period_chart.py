"""The chart `/spend cursor 30d chart` asks for: daily spend over any period, stacked by
model, person or kind (or one bar a day), drawn by the digest's own chart code.

People the viewer may not see (``ledger.visibility``) are drawn together as "other";
the alt text states the total and each series' dollars.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

from digests.chart import OTHER, Drawing
from digests.format import dollars
from digests.words import provider_name
from ledger.queries import Report
from ledger.visibility import Viewer, is_own, may_see_person

#: Series drawn on their own; the rest are stacked together as "other".
CHART_SERIES = 5
#: Slack's limit on an uploaded file's alt text.
ALT_TEXT_CHARS = 1000


def _label(key: str, report: Report, viewer: Viewer | None) -> str:
    if report.by.value != "user" or viewer is None:
        return key
    if is_own(viewer, key):
        return f"{key} (you)"
    return key if may_see_person(viewer, key) else OTHER


def _series(
    report: Report, daily: Iterable[tuple[date, str, Decimal]], viewer: Viewer | None
) -> tuple[list[date], list[tuple[str, list[Decimal]]]]:
    period = report.period
    days = [period.start + timedelta(days=i) for i in range(period.days)]
    index = {day: i for i, day in enumerate(days)}
    per_key: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * len(days))
    for day, key, cents in daily:
        if day in index:
            per_key[_label(key, report, viewer)][index[day]] += cents
    folded = per_key.pop(OTHER, None)
    ranked = sorted(per_key, key=lambda k: (-sum(per_key[k], Decimal(0)), k))
    series = [(key, per_key[key]) for key in ranked[:CHART_SERIES]]
    rest = [per_key[key] for key in ranked[CHART_SERIES:]] + ([folded] if folded else [])
    if rest:
        series.append((OTHER, [sum(column, Decimal(0)) for column in zip(*rest, strict=True)]))
    return days, series


def chart_title(report: Report) -> str:
    who = f" for {report.user}" if report.user else ""
    by = "" if report.by.value == "day" else f" by {report.by.value}"
    return f"Daily {provider_name(report.provider)} spend{who}{by}, {report.period.label}"


def _describe(title: str, days: list[date], series: list[tuple[str, list[Decimal]]]) -> str:
    span = f"{days[0].isoformat()} to {days[-1].isoformat()}"
    total = sum((sum(cents, Decimal(0)) for _, cents in series), Decimal(0))
    if total <= 0:
        return f"{title}: no usage from {span}."
    parts = ", ".join(f"{key} {dollars(sum(cents, Decimal(0)))}" for key, cents in series)
    text = f"{title}, {span}: {dollars(total)} in all; {parts}."
    return text if len(text) <= ALT_TEXT_CHARS else text[: ALT_TEXT_CHARS - 1] + "…"


def period_drawing(
    report: Report, daily: Iterable[tuple[date, str, Decimal]], viewer: Viewer | None = None
) -> Drawing:
    """What to draw for ``report``'s period from its (day, key, cents) rows, as ``viewer``
    (None: everyone) may see it."""
    days, series = _series(report, daily, viewer)
    title = chart_title(report)
    return Drawing(title, _describe(title, days, series), days, series)
