"""Help texts of the seat and adoption commands (merged into ``usage.USAGE``)."""

from __future__ import annotations

SEAT_PRICE_HINT = (
    "what one Cursor seat costs you a month: your plan's price per seat, see your Cursor invoice"
)
SEAT_USAGE: dict[str, str] = {
    "seats": "`/spend cursor seats [period] [idle N]` (admins): seats paid, active, idle "
    "(no activity in the last N days, default 14, with each person's last active day), "
    "seats that joined or left, seat cost, usage cost and cost per active seat.\n"
    "• `/spend cursor seats` (this billing cycle) • `/spend cursor seats last-cycle idle 30`\n"
    f"Seat cost needs `/spend settings seat-price $40` ({SEAT_PRICE_HINT}).",
    "adoption": "`/spend cursor adoption [period] [by user|group]`: per person, active days, "
    "accepted lines, requests, spend and spend per active day, with outliers both ways "
    "(high spend with low acceptance; heavy use at low cost). Members see their own row "
    "and team totals unless the visibility is `all`.\n"
    "• `/spend cursor adoption 30d` • `/spend cursor adoption last-cycle by user`",
}
SEAT_PRICE_LINE = f"• `/spend settings seat-price $40` ({SEAT_PRICE_HINT}; `off` clears it)"
