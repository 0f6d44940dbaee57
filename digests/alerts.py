"""Alert messages: one DM may carry several alerts, each with its buttons or its state."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from digests import alert_words
from digests.alert_words import AlertFacts
from digests.blocks import Button, Message, actions, context, section
from digests.format import dollars, escape, local_time
from ledger.spend_limits import person_alert_email

ACK = "alert_ack"
SNOOZE_DAY = "alert_snooze_1d"
SNOOZE_WEEK = "alert_snooze_7d"
BREAKDOWN = "alert_breakdown"
#: Opens the spend-limit dialog for the alert's person (admins' copies only).
SET_LIMIT = "alert_set_limit"
#: Each alert takes three blocks; beyond this many, the rest are counted.
MAX_ALERTS_PER_MESSAGE = 15

ICONS = {
    "threshold": ":money_with_wings:",
    "forecast": ":chart_with_upwards_trend:",
    "anomaly_user": ":rotating_light:",
    "anomaly_team": ":rotating_light:",
    "health": ":warning:",
}


@dataclass(frozen=True)
class AlertView:
    """What a message shows of one alert (plain values: no database objects)."""

    id: int
    kind: str
    title: str
    detail: str
    status: str
    amount_cents: Decimal | None = None
    limit_cents: Decimal | None = None
    snoozed_until: datetime | None = None
    acted_by: str | None = None
    top_lines: tuple[str, ...] = ()
    #: The person whose Cursor spend limit the alert invites setting (None: not one person).
    limit_subject: str | None = None


class _Shown(AlertFacts, Protocol):
    @property
    def id(self) -> int | None: ...
    @property
    def status(self) -> str: ...
    @property
    def snoozed_until(self) -> datetime | None: ...
    @property
    def acted_by(self) -> str | None: ...


def alert_view(alert: _Shown, timezone: str) -> AlertView:
    """What a message shows of an alert row: its facts said in words, and its state."""
    assert alert.id is not None
    return AlertView(
        id=alert.id,
        kind=alert.kind,
        title=alert_words.title(alert, timezone),
        detail=alert_words.detail(alert, timezone),
        status=alert.status,
        amount_cents=alert.amount_cents,
        limit_cents=alert.limit_cents,
        snoozed_until=alert.snoozed_until,
        acted_by=alert.acted_by,
        limit_subject=person_alert_email(alert.kind, alert.subject),
    )


def _state_line(alert: AlertView, timezone: str) -> str | None:
    if alert.status == "acknowledged":
        return f":white_check_mark: Acknowledged by <@{alert.acted_by}>"
    if alert.status == "snoozed" and alert.snoozed_until is not None:
        return (
            f":zzz: Snoozed by <@{alert.acted_by}> until "
            f"{local_time(alert.snoozed_until, timezone)}"
        )
    if alert.status == "resolved":
        return ":heavy_check_mark: Resolved"
    return None


def alert_blocks(
    alert: AlertView, timezone: str, *, limit_button: bool = False
) -> list[dict[str, object]]:
    """An alert's text, then its buttons (or its state once acted on). ``limit_button``:
    the copy goes to an admin, who gets "Set spend limit" on an alert about one person."""
    figures = ""
    if isinstance(alert.amount_cents, Decimal) and isinstance(alert.limit_cents, Decimal):
        figures = f"\n*{dollars(alert.amount_cents)}* of {dollars(alert.limit_cents)}"
    lines = "\n".join(f"• {escape(line)}" for line in alert.top_lines)
    icon = ICONS.get(alert.kind, ":bell:")
    text = f"{icon} *{escape(alert.title)}*\n{escape(alert.detail)}{figures}"
    if lines:
        text += f"\n{lines}"
    blocks: list[dict[str, object]] = [section(text)]
    state = _state_line(alert, timezone)
    if state is not None:
        blocks.append(context(state))
        return blocks
    value = str(alert.id)
    buttons = [
        Button("Acknowledge", ACK, value, style="primary"),
        Button("Snooze 1 day", SNOOZE_DAY, value),
        Button("Snooze 7 days", SNOOZE_WEEK, value),
        Button("Show breakdown", BREAKDOWN, value),
    ]
    if limit_button and alert.limit_subject:
        buttons.append(Button("Set spend limit", SET_LIMIT, value))
    blocks.append(actions(*buttons, block_id=f"alert-{alert.id}"))
    return blocks


def alerts_message(
    alerts: Sequence[AlertView], timezone: str, *, limit_button: bool = False
) -> Message:
    shown = list(alerts[:MAX_ALERTS_PER_MESSAGE])
    blocks: list[dict[str, object]] = []
    for alert in shown:
        blocks += alert_blocks(alert, timezone, limit_button=limit_button)
    if len(alerts) > len(shown):
        blocks.append(context(f"… and {len(alerts) - len(shown)} more: see `/spend alerts`."))
    if len(alerts) == 1:
        text = escape(alerts[0].title)
    else:
        text = f"{len(alerts)} spend alerts: " + "; ".join(escape(a.title) for a in shown[:3])
    return Message(text=text, blocks=blocks)


def alerts_list(alerts: Sequence[AlertView], timezone: str) -> Message:
    if not alerts:
        return Message(text="No open alerts.", blocks=[section("No open alerts. :tada:")])
    lines = []
    for alert in alerts[:50]:
        state = alert.status
        if alert.status == "snoozed" and alert.snoozed_until is not None:
            state = f"snoozed until {local_time(alert.snoozed_until, timezone)}"
        lines.append(f"*{alert.id}* · {escape(alert.title)} · _{state}_")
    text = "*Open alerts*\n" + "\n".join(lines)
    return Message(text=f"{len(alerts)} open alerts", blocks=[section(text)])


def budget_line(
    *,
    subject: str,
    period: str,
    spent_cents: Decimal,
    amount_cents: Decimal,
    percent: Decimal,
    projected_day: date | None,
) -> str:
    """``Team (month): $412.00 of $500.00 (82%), over by Nov 27 at this pace``.

    Plain text (the subject may be an email): escape it where it goes into mrkdwn.
    """
    line = (
        f"{subject} ({period}): {dollars(spent_cents)} of {dollars(amount_cents)} ({percent:.0f}%)"
    )
    if projected_day is not None:
        line += f", over by {projected_day:%b %-d} at this pace"
    return line
