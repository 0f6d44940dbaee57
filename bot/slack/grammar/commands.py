"""The commands `/spend` text can ask for: what `parse` returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from typing import TypeAlias

from bot.slack.grammar.seat_commands import AdoptionQuery, SeatsQuery, SetSeatPrice
from bot.slack.grammar.usage import SECRET_ADVICE


@dataclass(frozen=True, slots=True)
class Help:
    topic: str | None = None


@dataclass(frozen=True, slots=True)
class SpendQuery:
    provider: str = "cursor"
    period: str = "cycle"
    by: str = "user"
    top: int | None = None
    user_id: str | None = None
    email: str | None = None
    me: bool = False
    public: bool = False
    csv: bool = False
    #: `vs …`: "previous" (as many days just before) or a period phrase; None: no comparison.
    compare: str | None = None
    chart: bool = False
    #: A billing group's name (``group "Platform"``): that group's spend only.
    group: str | None = None


@dataclass(frozen=True, slots=True)
class Connect:
    provider: str = "cursor"
    pasted_secret: bool = False


@dataclass(frozen=True, slots=True)
class Disconnect:
    provider: str = "cursor"


@dataclass(frozen=True, slots=True)
class Status:
    provider: str = "cursor"


@dataclass(frozen=True, slots=True)
class SyncNow:
    provider: str = "cursor"


@dataclass(frozen=True, slots=True)
class CursorImport:
    """`/spend cursor import`: how to import Cursor's usage export (admins upload it in a DM)."""

    provider: str = "cursor"


@dataclass(frozen=True, slots=True)
class SecretRefused:
    message: str = SECRET_ADVICE


@dataclass(frozen=True, slots=True)
class ShowSettings:
    pass


@dataclass(frozen=True, slots=True)
class SetTimezone:
    zone: str


@dataclass(frozen=True, slots=True)
class SetVisibility:
    policy: str


@dataclass(frozen=True, slots=True)
class LinkPerson:
    """Match a Slack person to a provider email when their Slack email differs."""

    user_id: str
    email: str


@dataclass(frozen=True, slots=True)
class DigestAdd:
    channel_id: str
    local_time: time
    cadence: str = "daily"
    #: A billing group's own digest (``group "Platform"``).
    group: str | None = None


@dataclass(frozen=True, slots=True)
class DigestList:
    pass


@dataclass(frozen=True, slots=True)
class DigestRemove:
    id: int


@dataclass(frozen=True, slots=True)
class DigestPreview:
    pass


@dataclass(frozen=True, slots=True)
class DigestSend:
    id: int


@dataclass(frozen=True, slots=True)
class BudgetSet:
    amount_cents: int
    provider: str = "cursor"
    user_id: str | None = None
    period: str = "cycle"
    thresholds: tuple[int, ...] = (50, 80, 100)
    notify_user_ids: tuple[str, ...] = ()
    notify_channel_id: str | None = None
    #: A billing group's budget (``group "Platform"``).
    group: str | None = None


@dataclass(frozen=True, slots=True)
class BudgetList:
    pass


@dataclass(frozen=True, slots=True)
class BudgetRemove:
    id: int


@dataclass(frozen=True, slots=True)
class AlertsList:
    pass


@dataclass(frozen=True, slots=True)
class LimitSet:
    """A person's Cursor spend limit: ``dollars`` (whole), ``off`` (remove it), or neither
    (the dialog asks); the person by Slack mention or by email."""

    user_id: str | None = None
    email: str | None = None
    dollars: int | None = None
    off: bool = False


@dataclass(frozen=True, slots=True)
class LimitList:
    pass


@dataclass(frozen=True, slots=True)
class LimitHistory:
    pass


@dataclass(frozen=True, slots=True)
class PersonalLine:
    """`/spend me daily|weekly [HH:MM]`: the caller's own line by DM (time: the default)."""

    cadence: str
    local_time: time | None = None


@dataclass(frozen=True, slots=True)
class PersonalLineOff:
    """`/spend me off`: no more personal lines."""


@dataclass(frozen=True, slots=True)
class Invalid:
    message: str
    usage: str
    suggestion: str | None = None


Command: TypeAlias = (
    Help | SpendQuery | Connect | Disconnect | Status | SyncNow | CursorImport | SecretRefused
    | ShowSettings | SetTimezone | SetVisibility | LinkPerson
    | DigestAdd | DigestList | DigestRemove | DigestPreview | DigestSend
    | BudgetSet | BudgetList | BudgetRemove | AlertsList | Invalid
    | LimitSet | LimitList | LimitHistory
    | SeatsQuery | AdoptionQuery | SetSeatPrice
    | PersonalLine | PersonalLineOff
)  # fmt: skip
