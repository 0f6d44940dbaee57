"""Provider-neutral records: what every connector yields and the ledger stores.

Nothing here knows about HTTP, a database or Slack. Money is in US cents as
``Decimal`` (fractional cents exist); instants are timezone-aware UTC datetimes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

#: Attributed to events that arrive without a user email (the provider forgets
#: the email of people removed from the team). Such events are kept, never dropped.
UNKNOWN_USER = "(removed user)"


class KindClass(enum.StrEnum):
    """How an event is paid for: on top of the plan, inside it, or not at all."""

    ON_DEMAND = "on_demand"
    INCLUDED = "included"
    OTHER = "other"


class UsageEvent(NamedTuple):
    """One billable (or not) request, as the provider reported it.

    ``natural_key`` is stable across re-reads of the same event, so that a
    revised version replaces the earlier one instead of adding to it. A named
    tuple rather than a dataclass: millions of these are built during a sync.
    """

    natural_key: str
    occurred_at: datetime
    user_email: str
    email_missing: bool
    model: str
    kind: str
    kind_class: KindClass
    max_mode: bool
    is_chargeable: bool
    is_headless: bool
    is_token_based: bool
    request_units: Decimal
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    model_cost_cents: Decimal
    token_fee_cents: Decimal
    charged_cents: Decimal
    conversation_id: str | None = None
    service_account_id: str | None = None
    cloud_agent_id: str | None = None


@dataclass(frozen=True, slots=True)
class MemberSnapshot:
    """A team member as the provider lists them right now."""

    provider_user_id: str | None
    email: str
    name: str
    role: str
    is_removed: bool


@dataclass(frozen=True, slots=True)
class MemberSpend:
    """One member's spend in the current billing cycle, as the provider totals it."""

    provider_user_id: str | None
    email: str
    name: str
    role: str
    cycle_start: datetime
    overall_cents: Decimal
    on_demand_cents: Decimal
    included_cents: Decimal
    premium_requests: int
    limit_dollars: Decimal | None
    #: The person's own monthly limit (``monthlyLimitDollars``; None: none of their own).
    monthly_limit_dollars: Decimal | None = None
    #: A hard-limit override in dollars (``hardLimitOverrideDollars``; 0 or None: none).
    limit_override_dollars: Decimal | None = None


@dataclass(frozen=True, slots=True)
class DailyActivity:
    """What one member did on one UTC day (lines, accepts, requests by surface)."""

    day: date
    email: str
    provider_user_id: str | None
    is_active: bool
    lines_added: int
    lines_deleted: int
    accepted_lines_added: int
    accepted_lines_deleted: int
    applies: int
    accepts: int
    rejects: int
    tabs_shown: int
    tabs_accepted: int
    composer_requests: int
    chat_requests: int
    agent_requests: int
    cmdk_usages: int
    included_requests: int
    usage_based_requests: int
    api_key_requests: int
    bugbot_usages: int
    most_used_model: str | None
    client_version: str | None
