"""The seats report in words: Slack blocks, terminal text, the JSON contract, a digest line."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from digests.blocks import MAX_SECTION_CHARS, Message, context, fields_section, section
from digests.format import dollars, escape, json_cents, printable
from digests.freshness_words import data_as_of
from digests.history_words import gap_note, period_gap
from ledger.seats import IdleSeat, SeatReport

#: Idle people listed in Slack before "and N more".
IDLE_SHOWN = 20
PRICE_HINT = (
    "Set what a seat costs you a month with `/spend settings seat-price $40` "
    "(your plan's price per seat: see your Cursor invoice)."
)


def _money(cents: int | None) -> str:
    return "n/a" if cents is None else dollars(Decimal(cents))


def _last(day: date | None) -> str:
    return f"last active {day.isoformat()}" if day else "no activity on record"


def idle_summary(count: int, price_cents: int | None) -> str | None:
    """One line for a digest: "3 idle seats, $120.00 a month" (None when no seat is idle)."""
    if count <= 0:
        return None
    seats = "1 idle seat" if count == 1 else f"{count:,} idle seats"
    if price_cents is None:
        return seats
    return f"{seats}, {dollars(Decimal(price_cents * count))} a month"


def _bounded(title: str, lines: list[str], total: int) -> str:
    """``title`` and as many ``lines`` as fit in one section, then how many were left out."""
    kept: list[str] = []
    size = len(title) + 80  # room for the last line
    for line in lines:
        if size + len(line) + 1 > MAX_SECTION_CHARS:
            break
        kept.append(line)
        size += len(line) + 1
    if total > len(kept):
        kept.append(f"…and {total - len(kept):,} more (`stackspend report seats` lists all)")
    return "\n".join([title, *kept])


def _idle_lines(idle: tuple[IdleSeat, ...], shown: int) -> list[str]:
    return [f"• {escape(i.name)} ({escape(i.email)}): {_last(i.last_active)}" for i in idle[:shown]]


def _fields(report: SeatReport) -> list[str]:
    per_seat = report.cost_per_active_seat_cents
    return [
        f"*Seats paid*\n{report.seats_paid:,} ({report.seats_at_reference:,} on "
        f"{report.reference.isoformat()})",
        f"*Active*\n{report.active_seats:,}",
        f"*Idle ({report.idle_days}+ days)*\n{len(report.idle):,}",
        f"*Joined / left*\n{len(report.joined):,} / {len(report.left):,}",
        f"*Seat cost*\n{_money(report.seat_cost_cents)}",
        f"*Usage cost*\n{dollars(report.usage_cost_cents)}",
        f"*Cost per active seat*\n{_money(per_seat)}",
        f"*Usage per active seat*\n{_money(report.usage_per_active_seat_cents)}",
    ]


def seat_message(report: SeatReport) -> Message:
    period = report.period
    blocks = [
        section(f"*Cursor seats*  ·  {period.start} to {period.end} ({escape(report.timezone)})"),
        fields_section(_fields(report)),
    ]
    if report.idle:
        summary = idle_summary(len(report.idle), report.seat_price_cents)
        lines = _idle_lines(report.idle, IDLE_SHOWN)
        blocks.append(section(_bounded(f"*{summary}*", lines, len(report.idle))))
    changes = [
        *(f"• joined {f.day}: {escape(f.name)} ({escape(f.email)})" for f in report.joined[:10]),
        *(f"• left {f.day}: {escape(f.name)} ({escape(f.email)})" for f in report.left[:10]),
    ]
    if changes:
        total = len(report.joined) + len(report.left)
        blocks.append(section(_bounded("*Seats that joined or left*", changes, total)))
    notes = [data_as_of(report.as_of, report.timezone)]
    if gap := _gap(report)[1]:
        notes.append(gap_note(gap))
    if report.seat_price_cents is None:
        notes.append(PRICE_HINT)
    else:
        notes.append(f"Seat price {_money(report.seat_price_cents)} a month")
    blocks.append(context(*notes))
    text = (
        f"Cursor seats {period.start} to {period.end}: {report.seats_paid} paid, "
        f"{report.active_seats} active, {len(report.idle)} idle"
    )
    return Message(text=text, blocks=blocks)


def seat_text(report: SeatReport) -> str:
    period = report.period
    lines = [
        f"Cursor seats, {period.label} ({period.start} to {period.end}, "
        f"{printable(report.timezone)})",
        f"  seats paid            {report.seats_paid:>8,}",
        f"  {f'seats on {report.reference}':<22}{report.seats_at_reference:>8,}",
        f"  active                {report.active_seats:>8,}",
        f"  idle ({report.idle_days}+ days)       {len(report.idle):>8,}",
        f"  joined / left         {len(report.joined):>3,} / {len(report.left):,}",
        f"  seat cost             {_money(report.seat_cost_cents):>12}",
        f"  usage cost            {dollars(report.usage_cost_cents):>12}",
        f"  cost per active seat  {_money(report.cost_per_active_seat_cents):>12}",
        f"  usage per active seat {_money(report.usage_per_active_seat_cents):>12}",
    ]
    if report.idle:
        lines.append(f"Idle seats ({idle_summary(len(report.idle), report.seat_price_cents)}):")
        lines += [f"  {printable(i.email)}  {_last(i.last_active)}" for i in report.idle]
    lines += [f"Joined {f.day}: {printable(f.email)}" for f in report.joined]
    lines += [f"Left {f.day}: {printable(f.email)}" for f in report.left]
    if report.seat_price_cents is None:
        lines.append("Seat price not set: `stackspend report seats --seat-price 40` or "
                     "`/spend settings seat-price $40` (see your Cursor invoice).")  # fmt: skip
    if gap := _gap(report)[1]:
        lines.append(f"Note: {gap}.")
    return "\n".join(lines)


def _gap(report: SeatReport) -> tuple[int, str]:
    return period_gap(report.period, report.history, report.history_start, report.timezone)


def seat_json(report: SeatReport) -> dict[str, Any]:
    """The seats JSON contract documented in the README (fields are only ever added)."""
    return {
        "provider": "cursor",
        "workspace": report.workspace,
        "timezone": report.timezone,
        "period": report.period.label,
        "start": report.period.start.isoformat(),
        "end": report.period.end.isoformat(),
        "reference_day": report.reference.isoformat(),
        "cycle_start": report.cycle.start.isoformat(),
        "as_of": report.as_of.isoformat() if report.as_of else None,
        "idle_days": report.idle_days,
        "seat_price_cents": report.seat_price_cents,
        "seats_paid": report.seats_paid,
        "seats_on_reference_day": report.seats_at_reference,
        "active_seats": report.active_seats,
        "idle_seats": len(report.idle),
        "idle": [
            {
                "email": i.email,
                "name": i.name,
                "last_active": i.last_active.isoformat() if i.last_active else None,
            }
            for i in report.idle
        ],
        "joined": [
            {"email": f.email, "name": f.name, "day": f.day.isoformat()} for f in report.joined
        ],
        "left": [{"email": f.email, "name": f.name, "day": f.day.isoformat()} for f in report.left],
        "seat_cost_cents": report.seat_cost_cents,
        "usage_cost_cents": json_cents(report.usage_cost_cents),
        "cost_per_active_seat_cents": report.cost_per_active_seat_cents,
        "usage_per_active_seat_cents": report.usage_per_active_seat_cents,
        "idle_cost_per_month_cents": report.idle_cost_per_month_cents,
        "days_before_history": _gap(report)[0],
        "history_note": _gap(report)[1] or None,
    }


def seat_card(report: SeatReport) -> str:
    """The App Home's seats card (admins): this cycle's seats, idle ones, cost per active seat."""
    idle = idle_summary(len(report.idle), report.seat_price_cents) or "no idle seats"
    lines = [
        f"*Seats this cycle:* {report.seats_paid:,} paid, {report.active_seats:,} active; "
        f"{idle} ({report.idle_days}+ days without activity)",
    ]
    if report.cost_per_active_seat_cents is not None:
        lines.append(
            f"*Cost per active seat:* {_money(report.cost_per_active_seat_cents)} "
            f"(seats {_money(report.seat_cost_cents)} + usage {dollars(report.usage_cost_cents)})"
        )
    else:
        lines.append("*Cost per active seat:* set a seat price with "
                     "`/spend settings seat-price $40` (see your Cursor invoice)")  # fmt: skip
    lines.append("Details: `/spend cursor seats`")
    return "\n".join(lines)
