"""Tolerant models of the Cursor Admin API payloads (reference sections 6 and 8).

The API has changed shape several times; these models accept every form seen:
timestamps as strings or numbers of epoch ms, ids as numbers or strings, cents
as fractional numbers or money strings (``"$1.21"``, ``"-"``), optional objects
and counters omitted, unknown fields ignored. Field names mirror the wire.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


def _to_cents(value: Any) -> Decimal:
    """Cents from a JSON number, a numeric string, or a dollar string like ``"$1.21"``."""
    if value is None or isinstance(value, bool):
        return Decimal(0)
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, Decimal):
        return value
    text = str(value).strip().replace(",", "")
    if text in ("", "-", "—"):
        return Decimal(0)
    negative = text.startswith("-")
    if text.lstrip("-").startswith("$"):
        try:
            dollars = Decimal(text.lstrip("-")[1:])
        except InvalidOperation as exc:
            raise ValueError(f"not an amount of money: {text!r}") from exc
        return -dollars * 100 if negative else dollars * 100
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(f"not an amount of cents: {text!r}") from exc


def _to_int(value: Any) -> int:
    """A count from a number or numeric string; missing counts are zero."""
    if value is None or value == "":
        return 0
    if isinstance(value, int):
        return value
    return int(Decimal(str(value)))


def _to_optional_id(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def _to_epoch_ms(value: Any) -> int:
    if type(value) is int:
        return value
    if isinstance(value, bool) or value is None:
        raise ValueError("a timestamp must be epoch milliseconds")
    if isinstance(value, float):
        return int(value)
    try:
        return int(value)
    except ValueError:
        return int(Decimal(str(value).strip()))


Cents = Annotated[Decimal, BeforeValidator(_to_cents)]
Count = Annotated[int, BeforeValidator(_to_int)]
OptionalId = Annotated[str | None, BeforeValidator(_to_optional_id)]
EpochMs = Annotated[int, BeforeValidator(_to_epoch_ms)]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Member(_Wire):
    id: OptionalId = None
    email: str
    name: str = ""
    role: str = "member"
    isRemoved: bool = False


class MembersResponse(_Wire):
    teamMembers: list[Member]


class TokenUsage(_Wire):
    # Hot path: native types (numbers or numeric strings); counts may be null or missing.
    inputTokens: int | None = None
    outputTokens: int | None = None
    cacheWriteTokens: int | None = None
    cacheReadTokens: int | None = None
    totalCents: Decimal | None = None
    discountPercentOff: Decimal | None = None


class UsageEvent(_Wire):
    timestamp: EpochMs
    userEmail: str | None = None
    model: str = "unknown"
    kind: str = ""
    maxMode: bool = False
    requestsCosts: Decimal | None = None
    isTokenBasedCall: bool = False
    tokenUsage: TokenUsage | None = None
    chargedCents: Decimal | None = None
    cursorTokenFee: Decimal | None = None
    # Dashboard form: a dollar string such as "$1.21", or "-" for included events.
    usageBasedCosts: Cents | None = None
    isChargeable: bool = False
    isHeadless: bool = False
    conversationId: str | None = None
    serviceAccountId: OptionalId = None
    cloudAgentId: OptionalId = None


class EventsPagination(_Wire):
    numPages: Count = 0
    currentPage: Count = 1
    pageSize: Count = 0
    hasNextPage: bool = False


class UsageEventsResponse(_Wire):
    totalUsageEventsCount: Count = 0
    pagination: EventsPagination | None = None
    # The dashboard endpoint calls the list ``usageEventsDisplay``; accept it too.
    usageEvents: list[UsageEvent] = Field(default_factory=list)
    usageEventsDisplay: list[UsageEvent] = Field(default_factory=list)

    @property
    def events(self) -> list[UsageEvent]:
        return self.usageEvents or self.usageEventsDisplay


class MemberSpend(_Wire):
    userId: OptionalId = None
    name: str = ""
    email: str
    role: str = "member"
    spendCents: Cents = Decimal(0)
    overallSpendCents: Cents | None = None
    includedSpendCents: Cents | None = None
    fastPremiumRequests: Count = 0
    hardLimitOverrideDollars: Cents | None = None
    monthlyLimitDollars: Cents | None = None
    effectivePerUserLimitDollars: Cents | None = None


class SpendResponse(_Wire):
    teamMemberSpend: list[MemberSpend] = Field(default_factory=list)
    subscriptionCycleStart: EpochMs
    totalMembers: Count = 0
    totalPages: Count = 0


class DailyRow(_Wire):
    userId: OptionalId = None
    day: str | None = None
    date: EpochMs
    email: str | None = None
    isActive: bool = True
    totalLinesAdded: Count = 0
    totalLinesDeleted: Count = 0
    acceptedLinesAdded: Count = 0
    acceptedLinesDeleted: Count = 0
    totalApplies: Count = 0
    totalAccepts: Count = 0
    totalRejects: Count = 0
    totalTabsShown: Count = 0
    totalTabsAccepted: Count = 0
    composerRequests: Count = 0
    chatRequests: Count = 0
    agentRequests: Count = 0
    cmdkUsages: Count = 0
    subscriptionIncludedReqs: Count = 0
    apiKeyReqs: Count = 0
    usageBasedReqs: Count = 0
    bugbotUsages: Count = 0
    mostUsedModel: str | None = None
    clientVersion: str | None = None


class DailyPagination(_Wire):
    page: Count = 1
    totalPages: Count = 1
    hasNextPage: bool = False


class DailyUsageResponse(_Wire):
    data: list[DailyRow] = Field(default_factory=list)
    pagination: DailyPagination | None = None


class ErrorBody(_Wire):
    error: str = ""
    message: str = ""
