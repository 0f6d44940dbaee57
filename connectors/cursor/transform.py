"""Pure transforms from Cursor wire models to provider-neutral records.

Cost rules (reference section 7): spend is ``chargedCents`` where the event has
it; older payloads without it are ``tokenUsage.totalCents`` less its discount,
plus ``cursorTokenFee``. On-demand vs included follows the event ``kind``.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from connectors.cursor import wire
from connectors.cursor.windows import from_ms
from connectors.records import (
    UNKNOWN_USER,
    DailyActivity,
    KindClass,
    MemberSnapshot,
    MemberSpend,
    UsageEvent,
)

_HUNDRED = Decimal(100)
_ZERO = Decimal(0)

#: ``USAGE_EVENT_KIND_*`` enum names (dashboard form) and their Admin API labels.
_KIND_LABELS = {
    "USAGE_BASED": "Usage-based",
    "USER_API_KEY": "User API Key",
    "INCLUDED_IN_PRO": "Included in Pro",
    "INCLUDED_IN_PRO_PLUS": "Included in Pro+",
    "INCLUDED_IN_ULTRA": "Included in Ultra",
    "INCLUDED_IN_BUSINESS": "Included in Business",
    "ERRORED_NOT_CHARGED": "Errored, Not Charged",
    "ABORTED_NOT_CHARGED": "Aborted, Not Charged",
    "CUSTOM_SUBSCRIPTION": "Custom Subscription",
    "UNSPECIFIED": "Unspecified",
}
_ENUM_PREFIX = "USAGE_EVENT_KIND_"


@functools.lru_cache(maxsize=256)
def classify_kind(kind: str) -> tuple[str, KindClass]:
    """(label, class) of a raw ``kind``; few distinct values, so cached."""
    label = kind_label(kind)
    return label, kind_class(label)


def kind_label(kind: str) -> str:
    """The Admin API label for a kind given as a label or as an enum name."""
    text = kind.strip()
    if text.startswith(_ENUM_PREFIX):
        name = text.removeprefix(_ENUM_PREFIX)
        return _KIND_LABELS.get(name, name.replace("_", " ").capitalize())
    return text or "Unspecified"


def kind_class(label: str) -> KindClass:
    """On-demand for usage-based events, included for plan allowances, else other."""
    lowered = label.lower()
    if lowered.startswith("usage-based") or lowered == "usage based":
        return KindClass.ON_DEMAND
    if lowered.startswith("included") or lowered == "custom subscription":
        return KindClass.INCLUDED
    return KindClass.OTHER


RawEvent = Mapping[str, Any]
#: Builds a ``UsageEvent`` from a tuple of all its fields in order, without the named
#: tuple's keyword-handling ``__new__`` (a Python function): the same value, cheaper.
_new_event: Any = tuple.__new__
_NO_USAGE: Mapping[str, Any] = {}


def _flag(raw: RawEvent, name: str) -> bool:
    value = raw.get(name, False)
    if value is True or value is False:
        return value
    if value is None:
        return False
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def _token_usage(raw: RawEvent) -> Mapping[str, Any] | None:
    usage = raw.get("tokenUsage")
    if usage is None or isinstance(usage, Mapping):
        return usage
    raise ValueError("tokenUsage is not an object")


def event_costs(
    raw: RawEvent, usage: Mapping[str, Any] | None = None
) -> tuple[Decimal, Decimal, Decimal]:
    """(model cost after discount, Cursor token fee, charged) in cents."""
    fee_value = raw.get("cursorTokenFee")
    fee = wire.to_cents(fee_value) if fee_value is not None else _ZERO
    if usage is None:
        usage = _token_usage(raw)
    model_cost = _ZERO
    if usage is not None:
        model_cost = wire.to_cents(usage.get("totalCents"))
        discount = usage.get("discountPercentOff")
        if discount:
            model_cost = model_cost * (_HUNDRED - wire.to_cents(discount)) / _HUNDRED
    charged_value = raw.get("chargedCents")
    if charged_value is not None:
        charged = wire.to_cents(charged_value)
    elif usage is not None:
        charged = model_cost + fee
    elif raw.get("usageBasedCosts") is not None:
        charged = wire.to_cents(raw["usageBasedCosts"])
    else:
        charged = _ZERO
    if usage is None:
        model_cost = charged - fee
    return model_cost, fee, charged


def _optional_text(raw: RawEvent, name: str) -> str | None:
    value = raw.get(name)
    return None if value is None or value == "" else str(value)


class EventKeyer:
    """Gives each event a natural key that survives re-reads.

    The API has no event id. The key is built from what does not change when an
    event is revised or its owner is removed: the millisecond, the model and the
    attribution ids. Events identical on all of those get an ordinal in arrival
    order. Such twins share a timestamp, so they always fall in the same window
    and, events being served newest first, sit next to each other: only the
    counts of the most recent timestamps are kept.
    """

    def __init__(self, remembered_timestamps: int = 4096) -> None:
        self._seen: dict[int, dict[str, int]] = {}
        self._limit = remembered_timestamps

    def key(self, raw: RawEvent, timestamp: int | None = None) -> str:
        if timestamp is None:
            timestamp = wire.to_epoch_ms(raw["timestamp"])
        get = raw.get
        base = (
            f"{timestamp}|{get('model') or ''}|{get('conversationId') or ''}|"
            f"{get('serviceAccountId') or ''}|{get('cloudAgentId') or ''}"
        )
        counts = self._seen.get(timestamp)
        if counts is None:
            if len(self._seen) >= 2 * self._limit:
                recent = list(self._seen.items())[-self._limit :]
                self._seen = dict(recent)
            counts = self._seen[timestamp] = {}
        ordinal = counts.get(base, 0)
        counts[base] = ordinal + 1
        if ordinal:
            base = f"{base}|{ordinal}"
        # Time first: keys of neighbouring events sort together, so a page's inserts touch
        # few index pages; the hash tells apart events of the same millisecond.
        return f"{timestamp:013d}-{hashlib.blake2b(base.encode(), digest_size=10).hexdigest()}"


def to_usage_event(raw: RawEvent, natural_key: str, timestamp: int | None = None) -> UsageEvent:
    """A neutral record from one wire event; ``ValueError`` if it cannot be read.

    A first sync runs this a million times, so the usual wire types (booleans, ints,
    ``Decimal`` from ``json.loads``, strings) are taken as they are, inline, and only other
    forms go through the tolerant readers of ``wire``; the result is the same either way.
    """
    get = raw.get
    if timestamp is None:
        timestamp = wire.to_epoch_ms(raw["timestamp"])
    token_usage = get("tokenUsage")
    if token_usage is not None and type(token_usage) is not dict:
        token_usage = _token_usage(raw)
    model_cost, fee, charged = _costs(get, token_usage)
    usage = token_usage or _NO_USAGE
    kind = get("kind")
    label, klass = classify_kind(kind if type(kind) is str and kind else str(kind or ""))
    email = get("userEmail")
    if email:
        user_email = _lowered.get(email) if type(email) is str else None
        if user_email is None:
            user_email = _lower(email)
    else:
        user_email = UNKNOWN_USER
    model = get("model")
    requests = get("requestsCosts")
    event: UsageEvent = _new_event(
        UsageEvent,
        (
            natural_key,
            from_ms(timestamp),
            user_email,
            not email,
            model if type(model) is str and model else str(model or "unknown"),
            label,
            klass,
            _flag(raw, "maxMode"),
            _flag(raw, "isChargeable"),
            _flag(raw, "isHeadless"),
            _flag(raw, "isTokenBasedCall"),
            _cents(requests) if requests is not None else _ZERO,
            _count(usage.get("inputTokens")),
            _count(usage.get("outputTokens")),
            _count(usage.get("cacheReadTokens")),
            _count(usage.get("cacheWriteTokens")),
            model_cost,
            fee,
            charged,
            _text(get("conversationId")),
            _text(get("serviceAccountId")),
            _text(get("cloudAgentId")),
        ),
    )
    return event


def _costs(get: Any, usage: Mapping[str, Any] | None) -> tuple[Decimal, Decimal, Decimal]:
    """``event_costs`` for a validated ``tokenUsage``, with the wire's usual types inline."""
    fee_value = get("cursorTokenFee")
    fee = _ZERO if fee_value is None else _cents(fee_value)
    model_cost = _ZERO
    if usage is not None:
        model_cost = _cents(usage.get("totalCents"))
        discount = usage.get("discountPercentOff")
        if discount:
            model_cost = model_cost * (_HUNDRED - _cents(discount)) / _HUNDRED
    charged_value = get("chargedCents")
    if charged_value is not None:
        charged = _cents(charged_value)
    elif usage is not None:
        charged = model_cost + fee
    elif get("usageBasedCosts") is not None:
        charged = wire.to_cents(get("usageBasedCosts"))
    else:
        charged = _ZERO
    if usage is None:
        model_cost = charged - fee
    return model_cost, fee, charged


def _cents(value: Any) -> Decimal:
    return value if type(value) is Decimal else wire.to_cents(value)


def _count(value: Any) -> int:
    return value if type(value) is int else wire.to_count(value)


def _text(value: Any) -> str | None:
    if type(value) is str:
        return value or None
    return None if value is None or value == "" else str(value)


#: Lower-cased emails seen lately: a team has few people and each sends many events.
_lowered: dict[str, str] = {}


def _lower(email: Any) -> str:
    lowered = str(email).lower()
    if type(email) is str:
        if len(_lowered) >= 4096:
            _lowered.clear()
        _lowered[email] = lowered
    return lowered


def to_usage_events(events: Iterable[RawEvent], keyer: EventKeyer) -> Iterator[UsageEvent]:
    """Neutral records for a page of wire events; ``ValueError`` names the bad event."""
    key = keyer.key
    for position, raw in enumerate(events):
        try:
            value = raw["timestamp"]
            timestamp = int(value) if type(value) is str and value.isdecimal() else None
            if timestamp is None:
                timestamp = wire.to_epoch_ms(value)
            yield to_usage_event(raw, key(raw, timestamp), timestamp)
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            problem = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
            raise ValueError(f"usage event {position + 1}: {problem}") from None


def to_member(member: wire.Member) -> MemberSnapshot:
    return MemberSnapshot(
        provider_user_id=member.id,
        email=member.email.lower(),
        name=member.name or member.email,
        role=member.role,
        is_removed=member.isRemoved or member.role == "removed",
    )


def to_member_spend(row: wire.MemberSpend, cycle_start_ms: int) -> MemberSpend:
    # Older payloads: ``spendCents`` was the total and there was no split.
    overall = row.overallSpendCents if row.overallSpendCents is not None else row.spendCents
    on_demand = row.spendCents if row.overallSpendCents is not None else _ZERO
    included = row.includedSpendCents if row.includedSpendCents is not None else overall - on_demand
    limit = row.effectivePerUserLimitDollars
    if limit is None:
        limit = row.monthlyLimitDollars
    return MemberSpend(
        provider_user_id=row.userId,
        email=row.email.lower(),
        name=row.name or row.email,
        role=row.role,
        cycle_start=from_ms(cycle_start_ms),
        overall_cents=overall,
        on_demand_cents=on_demand,
        included_cents=included,
        premium_requests=row.fastPremiumRequests,
        limit_dollars=limit,
        monthly_limit_dollars=row.monthlyLimitDollars,
        limit_override_dollars=row.hardLimitOverrideDollars,
    )


def to_daily_activity(row: wire.DailyRow) -> DailyActivity:
    day = date.fromisoformat(row.day) if row.day else from_ms(row.date).date()
    return DailyActivity(
        day=day,
        email=(row.email or UNKNOWN_USER).lower(),
        provider_user_id=row.userId,
        is_active=row.isActive,
        lines_added=row.totalLinesAdded,
        lines_deleted=row.totalLinesDeleted,
        accepted_lines_added=row.acceptedLinesAdded,
        accepted_lines_deleted=row.acceptedLinesDeleted,
        applies=row.totalApplies,
        accepts=row.totalAccepts,
        rejects=row.totalRejects,
        tabs_shown=row.totalTabsShown,
        tabs_accepted=row.totalTabsAccepted,
        composer_requests=row.composerRequests,
        chat_requests=row.chatRequests,
        agent_requests=row.agentRequests,
        cmdk_usages=row.cmdkUsages,
        included_requests=row.subscriptionIncludedReqs,
        usage_based_requests=row.usageBasedReqs,
        api_key_requests=row.apiKeyReqs,
        bugbot_usages=row.bugbotUsages,
        most_used_model=row.mostUsedModel,
        client_version=row.clientVersion,
    )
