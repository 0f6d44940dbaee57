"""The wire schema and transform read every documented shape to the right figures."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from connectors.cursor import transform, wire
from connectors.records import UNKNOWN_USER, KindClass, UsageEvent

FIXTURES = Path(__file__).parent.parent / "fixtures" / "cursor"


def load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def events_from(name: str) -> list[UsageEvent]:
    page = wire.read_usage_events_page(load(name))
    return list(transform.to_usage_events(page.events, transform.EventKeyer()))


def read_one(raw: dict[str, object]) -> UsageEvent:
    return transform.to_usage_event(raw, "k")


def test_newest_payload_totals_match_the_documented_arithmetic() -> None:
    events = events_from("usage_events_newest.json")

    assert sum(e.charged_cents for e in events) == Decimal("98.90")
    on_demand = [e for e in events if e.kind_class is KindClass.ON_DEMAND]
    assert sum(e.charged_cents for e in on_demand) == Decimal("92.55")
    included = [e for e in events if e.kind_class is KindClass.INCLUDED]
    assert [e.charged_cents for e in included] == [Decimal("6.35")]


def test_newest_payload_fields_are_read_exactly() -> None:
    first, second, third = events_from("usage_events_newest.json")

    assert first.occurred_at == datetime(2026, 3, 2, 8, 51, 51, 208000, tzinfo=UTC)
    assert first.user_email == "tomas@acme.test"
    assert (first.input_tokens, first.output_tokens) == (18211, 1904)
    assert (first.cache_write_tokens, first.cache_read_tokens) == (40233, 122870)
    assert first.token_fee_cents == Decimal("3.1")
    assert first.model_cost_cents == Decimal("52.4")
    assert first.request_units == Decimal("3.2")
    # First-party model: no token fee field at all.
    assert second.token_fee_cents == 0
    # Discount applies to the model cost; chargedCents wins for the total.
    assert third.model_cost_cents == Decimal("36.0")
    assert third.charged_cents == Decimal("37.05")
    assert third.is_headless and third.max_mode
    assert third.service_account_id == "sa_nightly01"
    assert third.cloud_agent_id == "bc_9f1e22"


def test_legacy_payload_totals_use_total_cents_less_discount_plus_fee() -> None:
    events = events_from("usage_events_legacy.json")

    charged = [e.charged_cents for e in events]
    assert charged == [Decimal("21.36232"), Decimal("37.3303"), Decimal(0), Decimal(121)]
    assert sum(charged) == Decimal("179.69262")
    assert [e.kind for e in events] == [
        "Usage-based",
        "Usage-based",
        "Included in Business",
        "Usage-based",
    ]


def test_event_without_user_email_is_kept_under_a_placeholder() -> None:
    events = events_from("usage_events_legacy.json")

    removed = events[-1]
    assert removed.user_email == UNKNOWN_USER
    assert removed.email_missing
    assert removed.charged_cents == Decimal(121)


def test_timestamp_as_number_or_string_reads_the_same() -> None:
    forms = ["1750979000000", 1750979000000, 1750979000000.0, Decimal("1750979000000")]
    moments = {read_one({"timestamp": form}).occurred_at for form in forms}
    assert moments == {datetime(2025, 6, 26, 23, 3, 20, tzinfo=UTC)}


def test_missing_token_counts_and_missing_token_usage_count_as_zero() -> None:
    record = read_one(
        {"timestamp": "1", "isTokenBasedCall": True, "tokenUsage": {"inputTokens": 5}}
    )
    assert (record.input_tokens, record.output_tokens, record.cache_write_tokens) == (5, 0, 0)
    assert record.charged_cents == 0

    bare = read_one({"timestamp": "1"})
    assert bare.input_tokens == 0 and bare.charged_cents == 0 and bare.kind == "Unspecified"


def test_fractional_cents_keep_every_digit() -> None:
    page = wire.read_usage_events_page(
        b'{"usageEvents": [{"timestamp": "1", "chargedCents": 40.16699999999999,'
        b' "tokenUsage": {"totalCents": 1e-7, "discountPercentOff": 10}}]}'
    )
    (record,) = transform.to_usage_events(page.events, transform.EventKeyer())
    assert record.charged_cents == Decimal("40.16699999999999")
    assert record.model_cost_cents == Decimal("9E-8")


@pytest.mark.parametrize(
    ("text", "cents"),
    [("$1.21", Decimal("121.00")), ("-", Decimal(0)), ("$0.05", Decimal("5.00")), ("", Decimal(0))],
)
def test_money_strings_become_cents(text: str, cents: Decimal) -> None:
    assert read_one({"timestamp": "1", "usageBasedCosts": text}).charged_cents == cents


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ({"timestamp": "1", "usageBasedCosts": "$abc"}, "not an amount of money"),
        ({"model": "gpt-5"}, "missing 'timestamp'"),
        ({"timestamp": "soon"}, "usage event 2: timestamp 'soon' is not epoch milliseconds"),
        ({"timestamp": "1", "tokenUsage": [1, 2]}, "tokenUsage is not an object"),
        ({"timestamp": "1", "chargedCents": "lots"}, "not an amount of cents"),
    ],
)
def test_an_unreadable_event_is_refused_with_its_position(
    raw: dict[str, object], problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        list(transform.to_usage_events([{"timestamp": "2"}, raw], transform.EventKeyer()))


@pytest.mark.parametrize(
    "body", [b"[]", b'{"usageEvents": {"a": 1}}', b'{"usageEvents": [1]}', b"{nope"]
)
def test_an_events_page_of_the_wrong_shape_is_refused(body: bytes) -> None:
    with pytest.raises(ValueError):
        wire.read_usage_events_page(body)


def test_boolean_flags_given_as_strings_are_read() -> None:
    record = read_one({"timestamp": "1", "maxMode": "true", "isHeadless": "false"})
    assert record.max_mode and not record.is_headless


@pytest.mark.parametrize(
    ("raw", "label", "klass"),
    [
        ("Usage-based", "Usage-based", KindClass.ON_DEMAND),
        ("USAGE_EVENT_KIND_USAGE_BASED", "Usage-based", KindClass.ON_DEMAND),
        ("Included in Business", "Included in Business", KindClass.INCLUDED),
        ("USAGE_EVENT_KIND_INCLUDED_IN_PRO_PLUS", "Included in Pro+", KindClass.INCLUDED),
        ("Custom Subscription", "Custom Subscription", KindClass.INCLUDED),
        ("Errored, Not Charged", "Errored, Not Charged", KindClass.OTHER),
        ("USAGE_EVENT_KIND_USER_API_KEY", "User API Key", KindClass.OTHER),
        ("USAGE_EVENT_KIND_SOMETHING_NEW", "Something new", KindClass.OTHER),
        ("Inclus dans Business", "Inclus dans Business", KindClass.OTHER),
    ],
)
def test_kind_as_label_or_enum_name(raw: str, label: str, klass: KindClass) -> None:
    assert transform.classify_kind(raw) == (label, klass)


def test_unknown_fields_are_ignored_and_ids_may_be_numbers_or_strings() -> None:
    members = [
        transform.to_member(m)
        for m in wire.MembersResponse.model_validate_json(load("members.json")).teamMembers
    ]
    assert [m.provider_user_id for m in members] == [
        "user_7Qm2ZbT9xKc4NwLpR8sVd1HyEe",
        "90211",
        "user_9VrS1eLo4iXw7BnMc3QpKj8ZdU",
        None,
    ]
    assert members[1].email == "tomas@acme.test"
    assert [m.is_removed for m in members] == [False, False, True, False]


def test_spend_snapshot_splits_on_demand_and_included() -> None:
    response = wire.SpendResponse.model_validate_json(load("spend.json"))
    rows = [
        transform.to_member_spend(r, response.subscriptionCycleStart)
        for r in response.teamMemberSpend
    ]

    tomas, priya = rows
    assert tomas.cycle_start == datetime(2026, 2, 24, tzinfo=UTC)
    assert tomas.overall_cents == Decimal("5375.218804")
    assert tomas.on_demand_cents == Decimal("1375.218804")
    assert tomas.included_cents == Decimal("4000.000000")
    assert tomas.limit_dollars == Decimal(150)
    assert priya.included_cents == Decimal("1920.5")


def test_legacy_spend_counts_spend_cents_as_the_total() -> None:
    response = wire.SpendResponse.model_validate_json(load("spend_legacy.json"))
    (row,) = [
        transform.to_member_spend(r, response.subscriptionCycleStart)
        for r in response.teamMemberSpend
    ]
    assert row.overall_cents == Decimal(5375)
    assert row.on_demand_cents == 0
    assert row.provider_user_id is None


def test_daily_usage_rows_with_nulls_on_inactive_days() -> None:
    response = wire.DailyUsageResponse.model_validate_json(load("daily_usage.json"))
    active, idle = (transform.to_daily_activity(r) for r in response.data)
    assert active.day == date(2026, 3, 1)
    assert (active.included_requests, active.usage_based_requests) == (58, 4)
    assert active.most_used_model == "claude-4.5-sonnet"
    assert not idle.is_active and idle.most_used_model is None and idle.lines_added == 0


def test_natural_key_survives_revision_and_removal_of_the_email() -> None:
    original = json.loads(load("usage_events_newest.json"))["usageEvents"][0]
    revised = dict(original, chargedCents=99.0)
    forgotten = {k: v for k, v in original.items() if k != "userEmail"}

    keys = {transform.EventKeyer().key(payload) for payload in (original, revised, forgotten)}
    assert len(keys) == 1


def test_twins_in_the_same_millisecond_get_distinct_keys() -> None:
    twin = {"timestamp": "1772441511208", "model": "gpt-5", "userEmail": "a@acme.test"}
    keyer = transform.EventKeyer()
    first = keyer.key(twin)
    second = keyer.key(dict(twin, userEmail="b@acme.test"))
    assert first != second
    # A fresh read of the same window gives the same two keys in the same order.
    again = transform.EventKeyer()
    assert again.key(twin) == first
    assert again.key(twin) == second
