"""The digest's chart: daily spend of the last 30 days, stacked by the top models.

Drawn with matplotlib's object-oriented API (a ``Figure`` on its own
``FigureCanvasAgg``), never pyplot: no global figure state, so renders in several
threads do not meet (matplotlib keeps its font objects per thread). Sizes are in
pixels and fonts scale with the width, so a 1200 px image shrunk to a phone's
width keeps its labels readable.
"""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from digests.format import dollars
from digests.words import provider_name
from ledger.digest_data import CHART_DAYS, DigestInputs
from ledger.periods import Cycle
from ledger.queries import Totals

#: Models drawn on their own; the rest are stacked together as "other".
CHART_MODELS = 5
OTHER = "other"
#: Okabe-Ito: tells apart for colour-blind readers; "other" is grey.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00")
OTHER_COLOUR = "#A0A0A0"
LABEL_CHARS = 24
_DPI = 100
_HALF_BAR = 0.4
_BASE_WIDTH = 1200


def chart_title(inputs: DigestInputs) -> str:
    name = provider_name(inputs.provider)
    return f"Daily {name} spend, last {CHART_DAYS} days"


def chart_series(
    inputs: DigestInputs, models: int = CHART_MODELS
) -> tuple[list[date], list[tuple[str, list[Decimal]]]]:
    """(days oldest first, [(model or "other", cents per day)]) largest model first."""
    first = inputs.chart_start
    days = [first + timedelta(days=i) for i in range(CHART_DAYS)]
    index = {day: i for i, day in enumerate(days)}
    per_model: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * CHART_DAYS)
    for day, model, cents in inputs.daily_by_model:
        if day in index:
            per_model[model][index[day]] += cents
    ranked = sorted(per_model, key=lambda m: (-sum(per_model[m], Decimal(0)), m))
    series = [(model, per_model[model]) for model in ranked[:models]]
    rest = ranked[models:]
    if rest:
        series.append(
            (OTHER, [sum((per_model[m][i] for m in rest), Decimal(0)) for i in range(CHART_DAYS)])
        )
    return days, series


def chart_description(inputs: DigestInputs) -> str:
    """A sentence saying what the chart shows (alt text for the uploaded image)."""
    days, series = chart_series(inputs)
    span = f"{_label_date(days[0])} to {_label_date(days[-1])}"
    total = sum((sum(cents, Decimal(0)) for _, cents in series), Decimal(0))
    if total <= 0:
        return f"{chart_title(inputs)}: no usage from {span}."
    largest = ", ".join(f"{model} {dollars(sum(cents, Decimal(0)))}" for model, cents in series)
    return f"{chart_title(inputs)}, {span}: {dollars(total)} in all; by model: {largest}."


def _label_date(day: date) -> str:
    return f"{day:%b} {day.day}"


def _short_label(model: str) -> str:
    """A legend label: short, and shown as typed (a ``$`` pair would be read as mathtext,
    and a model name that is bad mathtext would fail the whole chart)."""
    short = model if len(model) <= LABEL_CHARS else model[: LABEL_CHARS - 1] + "…"
    return short.replace("$", r"\$")


def _axis_dollars(value: float, _position: float) -> str:
    if value >= 1000:
        return f"${value / 1000:,.1f}k".replace(".0k", "k")
    return f"${value:,.0f}"


@dataclass(frozen=True)
class _Sizes:
    """Font sizes and line widths scaled to the image's width."""

    scale: float

    @property
    def title(self) -> float:
        return 28 * self.scale

    @property
    def label(self) -> float:
        return 22 * self.scale

    @property
    def legend(self) -> float:
        return 21 * self.scale


@dataclass
class _Stack:
    """Bars stacked model by model: one rectangle per non-empty day of each model."""

    tops: list[float]
    rectangles: list[list[tuple[float, float]]] = field(default_factory=list)
    colours: list[str] = field(default_factory=list)
    handles: list[Patch] = field(default_factory=list)


def _stack(days: list[date], series: list[tuple[str, list[Decimal]]]) -> _Stack:
    stack = _Stack(tops=[0.0] * len(days))
    for i, (model, cents) in enumerate(series):
        colour = OTHER_COLOUR if model == OTHER else PALETTE[i % len(PALETTE)]
        for x, (low, amount) in enumerate(zip(stack.tops, cents, strict=True)):
            high = low + max(float(amount), 0.0) / 100
            if high > low:
                left, right = x - _HALF_BAR, x + _HALF_BAR
                stack.rectangles.append([(left, low), (left, high), (right, high), (right, low)])
                stack.colours.append(colour)
            stack.tops[x] = high
        stack.handles.append(Patch(facecolor=colour, label=_short_label(model)))
    return stack


def _figure(title: str, width_px: int, height_px: int, sizes: _Sizes) -> Figure:
    """A white figure of the requested size with the title at its top left."""
    figure = Figure(figsize=(width_px / _DPI, height_px / _DPI), dpi=_DPI, facecolor="white")
    FigureCanvasAgg(figure)
    figure.text(0.02, 0.965, title, fontsize=sizes.title, weight="bold", va="top", ha="left")
    return figure


def _axes(figure: Figure, sizes: _Sizes) -> Axes:
    axes = figure.add_axes((0.1, 0.11, 0.85, 0.64))
    for side in ("top", "right", "left"):
        axes.spines[side].set_visible(False)
    axes.tick_params(axis="both", labelsize=sizes.label, length=0, pad=8 * sizes.scale)
    return axes


def _draw_nothing(axes: Axes, days: list[date], sizes: _Sizes) -> None:
    """No bars and no ticks: a sentence saying there was no usage."""
    axes.set_xticks([])
    axes.set_yticks([])
    axes.spines["bottom"].set_visible(False)
    axes.text(
        0.5,
        0.5,
        f"No usage from {_label_date(days[0])} to {_label_date(days[-1])}",
        transform=axes.transAxes,
        fontsize=sizes.title,
        color="#555555",
        ha="center",
        va="center",
    )


def _draw_bars(axes: Axes, days: list[date], stack: _Stack, sizes: _Sizes) -> None:
    """The stacked bars, a date tick every 7th day ending yesterday, and a dollar axis."""
    # One collection of rectangles draws in a fraction of the time of 180 bar patches.
    axes.add_collection(
        PolyCollection(stack.rectangles, facecolors=stack.colours, linewidths=0), autolim=False
    )
    axes.set_xlim(-0.6, len(days) - 0.4)
    axes.set_ylim(0, max(stack.tops) * 1.05)
    step = 7 * max(1, round(len(days) / 35))  # about five ticks, a whole number of weeks apart
    ticks = list(range(len(days)))[::-1][::step][::-1]  # ending on the last day
    axes.set_xticks(ticks, [_label_date(days[t]) for t in ticks])
    axes.yaxis.set_major_locator(MaxNLocator(nbins=4, min_n_ticks=3))
    axes.yaxis.set_major_formatter(FuncFormatter(_axis_dollars))
    axes.yaxis.grid(True, color="#DDDDDD", linewidth=1.2 * sizes.scale)
    axes.set_axisbelow(True)


def _legend(figure: Figure, handles: list[Patch], sizes: _Sizes) -> None:
    figure.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(0.015, 0.9),
        ncol=3,
        frameon=False,
        fontsize=sizes.legend,
        handlelength=1.0,
        handleheight=1.0,
        columnspacing=1.4,
    )


def _png(figure: Figure, title: str, description: str) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(
        buffer,
        format="png",
        dpi=_DPI,
        metadata={"Title": title, "Description": description},
        pil_kwargs={"compress_level": 3},  # level 6 (the default) costs ~6 ms for 15% smaller
    )
    return buffer.getvalue()


def render_chart(inputs: DigestInputs, *, width_px: int = 1200, height_px: int = 700) -> bytes:
    """The chart as PNG bytes of exactly ``width_px`` x ``height_px`` pixels."""
    days, series = chart_series(inputs)
    return render_stacked(
        Drawing(chart_title(inputs), chart_description(inputs), days, series),
        width_px=width_px,
        height_px=height_px,
    )


@dataclass(frozen=True)
class Drawing:
    """What a stacked daily chart shows: days oldest first, and cents per day of each
    series (largest first; ``OTHER`` drawn grey), with its title and alt text."""

    title: str
    description: str
    days: list[date]
    series: list[tuple[str, list[Decimal]]]


def render_stacked(drawing: Drawing, *, width_px: int = 1200, height_px: int = 700) -> bytes:
    """Any ``Drawing`` as PNG bytes of exactly ``width_px`` x ``height_px`` pixels: the
    digest's chart and the charts ``/spend … chart`` asks for are drawn here alike."""
    days, series = drawing.days, drawing.series
    sizes = _Sizes(scale=width_px / _BASE_WIDTH)
    figure = _figure(drawing.title, width_px, height_px, sizes)
    axes = _axes(figure, sizes)
    total = sum((sum(cents, Decimal(0)) for _, cents in series), Decimal(0))
    if total <= 0:
        _draw_nothing(axes, days, sizes)
    else:
        stack = _stack(days, series)
        _draw_bars(axes, days, stack, sizes)
        _legend(figure, stack.handles, sizes)
    return _png(figure, drawing.title, drawing.description)


def warm_up() -> None:
    """Load fonts once (the first render pays for it); call at start-up if latency matters."""
    today = date(2000, 1, 2)
    inputs = DigestInputs(
        provider="cursor",
        team_id="",
        workspace_name="",
        timezone="UTC",
        today=today,
        now=datetime(2000, 1, 2, tzinfo=UTC),
        yesterday_totals=Totals(),
        trailing_cents=(),
        cycle=Cycle(start=date(2000, 1, 1), previous_start=date(1999, 12, 1)),
        cycle_days=31,
        cycle_totals=Totals(),
        last_cycle_same_point_cents=Decimal(0),
        cycle_daily_cents=(Decimal(0),),
        top_users=(),
        top_models=(),
        user_count=0,
        model_count=0,
        daily_by_model=((date(2000, 1, 1), "warm-up", Decimal(100)),),
        connection_status="active",
        last_error=None,
        last_success_at=None,
        failing_since=None,
        as_of=None,
        history_start=None,
    )
    render_chart(inputs, width_px=200, height_px=120)
