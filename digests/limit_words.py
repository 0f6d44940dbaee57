"""Spend limits in words: a person's limit and spend, everyone's limits, the audit, and what
became of a change. Shared by Slack (mrkdwn, escaped here) and the CLI (``plain=True``).

The bot sees limits only through Cursor's spend snapshot, read by each sync; these words
say so wherever a change has just been sent, instead of claiming an effect not yet seen.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final
from zoneinfo import ZoneInfo

from digests.format import dollars, escape, local_time, printable
from ledger.limit_models import SpendLimitChange
from ledger.spend_limits import LimitsNow, PersonLimit

NEXT_SYNC: Final = (
    "The bot reads limits from Cursor's spend snapshot, so the new limit shows in "
    "`/spend limits` after the next sync."
)
NOT_ENTERPRISE: Final = (
    "Cursor refused: setting spend limits through its Admin API is for *Enterprise* teams "
    "only (HTTP 403), and this team's plan is not. Nothing changed. Set the limit in "
    "Cursor's dashboard instead."
)
KEY_REJECTED: Final = (
    "Cursor rejected the stored Admin API key (invalid or revoked). Nothing changed. "
    "Connect again with `/spend cursor connect`."
)
NOT_SENT: Final = (
    "Cursor could not be reached (or kept rate-limiting the request), so nothing changed. "
    "Try again in a minute."
)
UNKNOWN: Final = (
    "Cursor did not confirm the change: it may or may not have been made, and it was not "
    "sent again (that could undo a change made in between). The next sync's spend snapshot "
    "shows which: check `/spend limits` after it before trying again."
)
ALREADY_SENT: Final = (
    "This change was sent to Cursor once already (the confirm button was pressed twice). "
    "Its answer is in `/spend limits history`."
)


def limit_text(dollars_value: int | None) -> str:
    return "no limit" if dollars_value is None else f"${dollars_value:,}"


def current_limit(person: PersonLimit | None) -> str:
    """``$150 of their own (Cursor enforces $150)``, or ``none of their own (…)``."""
    if person is None:
        return "unknown: Cursor's spend snapshot does not list this person yet"
    enforced = (
        f"Cursor enforces {limit_text(person.effective_dollars)}"
        if person.effective_dollars is not None
        else "Cursor did not say which limit it enforces"
    )
    override = (
        f", hard-limit override {limit_text(person.override_dollars)}"
        if person.override_dollars
        else ""
    )
    if person.own_dollars is None:
        return f"none of their own ({enforced}{override})"
    return f"{limit_text(person.own_dollars)} of their own ({enforced}{override})"


def person_lines(email: str, person: PersonLimit | None, timezone: str) -> list[str]:
    """What the confirm dialog shows of the person (mrkdwn)."""
    name = f"*{escape(person.name)}* ({escape(email)})" if person else f"*{escape(email)}*"
    if person is None:
        return [
            name,
            "Spend this cycle: not known yet (the last spend snapshot does not list them).",
            f"Current limit: {current_limit(None)}.",
        ]
    since = person.cycle_start.astimezone(ZoneInfo(timezone)).strftime("%b %-d")
    return [
        name,
        f"Spend this cycle (since {since}): *{dollars(person.overall_cents)}*, of which "
        f"{dollars(person.on_demand_cents)} on-demand (beyond included usage).",
        f"Current limit: {escape(current_limit(person))}.",
        f"_As of the spend snapshot read at {local_time(person.taken_at, timezone)}._",
    ]


def limits_lines(now: LimitsNow, timezone: str, *, plain: bool = False) -> list[str]:
    """Everyone with a limit of their own, then the rest."""
    esc = printable if plain else escape
    if now.taken_at is None:
        return ["No spend snapshot yet: limits show after the first sync."]
    lines = [f"Cursor spend limits (spend snapshot of {local_time(now.taken_at, timezone)}):"]
    if not now.people:
        lines.append("Nobody has a limit of their own.")
    for person in now.people:
        lines.append(
            f"• {esc(person.email)}: {esc(current_limit(person))}, "
            f"spent {dollars(person.overall_cents)} this cycle"
        )
    if now.others:
        default = (
            f"; Cursor enforces {limit_text(now.default_dollars)}"
            if now.default_dollars is not None
            else ""
        )
        lines.append(f"Everyone else ({now.others}): no limit of their own{default}.")
    return lines


def change_line(change: SpendLimitChange, timezone: str, *, plain: bool = False) -> str:
    """``2026-11-28 19:30 UTC · <@U1> · alice@x · $150 → $200 · success: “…”``."""
    esc = printable if plain else escape
    who = (
        change.requested_by
        if plain or change.requested_by == "cli"
        else f"<@{change.requested_by}>"
    )
    answer = f": “{esc(change.message)}”" if change.message else ""
    return (
        f"{local_time(change.requested_at, timezone)} · {who} · {esc(change.email)} · "
        f"{limit_text(change.old_dollars)} → {limit_text(change.new_dollars)} · "
        f"{change.outcome.value}{answer}"
    )


def history_lines(
    changes: Sequence[SpendLimitChange], timezone: str, *, plain: bool = False
) -> list[str]:
    if not changes:
        return ["No spend limit changes yet."]
    head = f"Spend limit changes, newest first (latest {len(changes)}):"
    return [head, *(f"• {change_line(c, timezone, plain=plain)}" for c in changes)]


def asked(email: str, dollars_value: int | None) -> str:
    if dollars_value is None:
        return f"Remove the spend limit of {email}"
    return f"Set the spend limit of {email} to {limit_text(dollars_value)} a month"
