"""Tolerant models of the Cursor Admin API payloads (reference sections 6 and 8).

The API has changed shape several times; these models accept every form seen:
timestamps as strings or numbers of epoch ms, ids as numbers or strings, cents
as fractional numbers or money strings (``"$1.21"``, ``"-"``), optional objects
and counters omitted, unknown fields ignored. Field names mirror the wire.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


def to_cents(value: Any) -> Decimal:
    """Cents from a JSON number, a numeric string, or a dollar string like ``"$1.21"``."""
    if type(value) is Decimal:
        return value
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


def to_count(value: Any) -> int:
    """A count from a number or numeric string; missing counts are zero."""
    if type(value) is int:
        return value
    if value is None or value == "":
        return 0
    return int(Decimal(str(value)))


def to_optional_id(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def to_epoch_ms(value: Any) -> int:
    """Epoch milliseconds from a number or a string of digits."""
    if type(value) is int:
        return value
    if not isinstance(value, bool) and isinstance(value, int | float | Decimal):
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            try:
                return int(Decimal(value.strip()))
            except InvalidOperation:
                pass
    raise ValueError(f"timestamp {value!r} is not epoch milliseconds")


Cents = Annotated[Decimal, BeforeValidator(to_cents)]
Count = Annotated[int, BeforeValidator(to_count)]
OptionalId = Annotated[str | None, BeforeValidator(to_optional_id)]
EpochMs = Annotated[int, BeforeValidator(to_epoch_ms)]


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


@dataclass(frozen=True, slots=True)
class UsageEventsPage:
    """One page of ``POST /teams/filtered-usage-events``.

    A sync reads millions of events, so they stay the plain dicts that
    ``json.loads`` makes (floats parsed straight to ``Decimal``) and
    ``transform`` reads each field tolerantly. The fields it reads:

    ======================  ===================================================
    ``timestamp``           epoch ms as a string (usual) or a number; required
    ``userEmail``           omitted for people removed from the team
    ``model``, ``kind``     ``kind`` as a label or a ``USAGE_EVENT_KIND_*`` name
    ``maxMode``, ``isChargeable``, ``isHeadless``, ``isTokenBasedCall``  booleans
    ``requestsCosts``       request units, fractional
    ``tokenUsage``          omitted when not token based; any count may be missing;
                            ``totalCents`` and ``discountPercentOff`` inside
    ``chargedCents``        newest payloads: the amount charged
    ``cursorTokenFee``      only for third-party models (older: always, maybe 0)
    ``usageBasedCosts``     dashboard form: ``"$1.21"`` or ``"-"``
    ``conversationId``, ``serviceAccountId``, ``cloudAgentId``  optional ids
    ======================  ===================================================
    """

    total: int
    num_pages: int
    page_size: int
    has_next: bool
    events: list[dict[str, Any]]


def read_usage_events_page(content: bytes | bytearray) -> UsageEventsPage:
    """Parse a page of usage events; ``ValueError`` says what is wrong with it."""
    body = json.loads(content, parse_float=Decimal)
    if not isinstance(body, dict):
        raise ValueError("the body is not a JSON object")
    # The dashboard endpoint calls the list ``usageEventsDisplay``; accept it too.
    events = body.get("usageEvents") or body.get("usageEventsDisplay") or []
    if not isinstance(events, list) or not _all_objects(events):
        raise ValueError("usageEvents is not a list of objects")
    pagination = body.get("pagination") or {}
    if not isinstance(pagination, dict):
        raise ValueError("pagination is not an object")
    return UsageEventsPage(
        total=to_count(body.get("totalUsageEventsCount")),
        num_pages=to_count(pagination.get("numPages")),
        page_size=to_count(pagination.get("pageSize")),
        has_next=bool(pagination.get("hasNextPage", False)),
        events=events,
    )


def _all_objects(items: list[Any]) -> bool:
    """Whether every item is a JSON object (dict): by their types in C first, a page being
    a thousand items, then one by one if some type is not ``dict`` itself."""
    return set(map(type, items)) <= {dict} or all(isinstance(e, dict) for e in items)


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


class SpendLimitAnswer(_Wire):
    """The answer of ``POST /teams/user-spend-limit``: ``outcome`` is ``success`` or
    ``error``, and ``message`` Cursor's own words (shown to people as they are)."""

    outcome: str = ""
    message: str = ""


class ErrorBody(_Wire):
    error: str = ""
    message: str = ""
