"""ingest_events on its own: stored forms, new, unchanged and revised events, rollup deltas."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.dialects import sqlite
from sqlmodel import col

from connectors.records import UNKNOWN_USER, KindClass, UsageEvent
from ledger.db import session_scope
from ledger.event_rows import EVENT_COLUMNS, VALUE_COLUMNS, stored_rows
from ledger.ingest import IngestResult, ingest_events
from ledger.models import UsageEventRow
from ledger.rollups import ROLLUPS, rebuild_rollups
from ledger.types import NativeForm, SQLiteForm, datetime_from_sqlite, datetime_to_sqlite
from tests.ledger.support import NOW, make_team

PARIS = ZoneInfo("Europe/Paris")


def event(key_ms: int, **values: object) -> UsageEvent:
    fields: dict[str, object] = {
        "natural_key": f"{key_ms:013d}-{'ab' * 10}",
        "occurred_at": datetime.fromtimestamp(key_ms / 1000, UTC),
        "user_email": "ana@acme.test",
        "email_missing": False,
        "model": "gpt-5",
        "kind": "Usage-based",
        "kind_class": KindClass.ON_DEMAND,
        "max_mode": False,
        "is_chargeable": True,
        "is_headless": False,
        "is_token_based": True,
        "request_units": Decimal("1.5"),
        "input_tokens": 1000,
        "output_tokens": 200,
        "cache_read_tokens": 3000,
        "cache_write_tokens": 0,
        "model_cost_cents": Decimal("3.1234567891"),  # more places than are kept
        "token_fee_cents": Decimal("0.25"),
        "charged_cents": Decimal("3.3734567891"),
        "conversation_id": "c-1",
    }
    fields.update(values)
    return UsageEvent(**fields)  # type: ignore[arg-type]


MS = int(NOW.timestamp() * 1000) - 3 * 86_400_000


def ingest(engine: Engine, connection_id: int, events: list[UsageEvent]) -> IngestResult:
    with session_scope(engine) as session:
        return ingest_events(session, connection_id=connection_id, tz=PARIS, events=events)


def rollups(engine: Engine, connection_id: int) -> dict[tuple[object, ...], tuple[int, Decimal]]:
    """(day, user, model, kind class) -> (events, charged cents) of the non-empty rollups."""
    query = select(ROLLUPS).where(ROLLUPS.c.connection_id == connection_id)
    with session_scope(engine) as session:
        rows = session.execute(query).mappings().all()
    return {
        (r["day"].isoformat(), r["user_email"], r["model"], r["kind_class"]): (
            r["events"],
            r["charged_cents"],
        )
        for r in rows
        if r["events"]
    }


def stored_events(engine: Engine, connection_id: int) -> dict[str, UsageEventRow]:
    query = select(UsageEventRow).where(col(UsageEventRow.connection_id) == connection_id)
    with session_scope(engine) as session:
        return {row.natural_key: row for row in session.scalars(query)}


# --- stored forms -------------------------------------------------------------------------

MONEY = st.decimals(
    min_value=Decimal("-1e11"), max_value=Decimal("1e11"), places=12, allow_nan=False
)


@given(amount=MONEY)
def test_sqlite_money_is_the_amount_in_1e_8_cents_rounded_half_to_even(amount: Decimal) -> None:
    expected = int(amount.quantize(Decimal("1E-8"), rounding=ROUND_HALF_EVEN).scaleb(8))
    assert SQLiteForm.money(amount) == expected


@given(amount=MONEY)
def test_native_money_keeps_eight_places_rounded_half_to_even(amount: Decimal) -> None:
    assert NativeForm.money(amount) == amount.quantize(Decimal("1E-8"), rounding=ROUND_HALF_EVEN)


@given(moment=st.datetimes(timezones=st.timezones()))
def test_sqlite_instants_are_stored_exactly_as_sqlalchemy_stores_them(moment: datetime) -> None:
    utc = moment.astimezone(UTC)
    written_by_sqlalchemy = sqlite.DATETIME().bind_processor(sqlite.dialect())  # type: ignore[no-untyped-call]
    assert written_by_sqlalchemy is not None
    assert datetime_to_sqlite(moment) == written_by_sqlalchemy(utc.replace(tzinfo=None))
    assert datetime_from_sqlite(datetime_to_sqlite(moment)) == utc


def test_naive_instants_are_refused_on_every_backend() -> None:
    for form in (SQLiteForm(), NativeForm()):
        with pytest.raises(ValueError, match="naive datetime"):
            form.instant(datetime(2026, 11, 25, 12, 0))


def test_stored_rows_follow_the_event_columns() -> None:
    source = event(
        MS, occurred_at=datetime(2026, 11, 22, 15, 0, tzinfo=timezone(timedelta(hours=2)))
    )
    (row,) = stored_rows(NativeForm(), 7, [source])
    assert len(row) == len(EVENT_COLUMNS)
    by_column = dict(zip(EVENT_COLUMNS, row, strict=True))
    assert (by_column["connection_id"], by_column["natural_key"]) == (7, source.natural_key)
    assert by_column["source"] == "api"
    for column in VALUE_COLUMNS:
        if column == "source":  # where the row came from, not a field of the event
            continue
        value = getattr(source, column)
        if isinstance(value, Decimal):
            value = value.quantize(Decimal("1E-8"), rounding=ROUND_HALF_EVEN)
        assert by_column[column] == value, column


# --- ingest on SQLite and PostgreSQL --------------------------------------------------------


def test_events_read_back_through_the_models_as_they_were_given(engine: Engine) -> None:
    team = make_team(engine)
    paris_time = datetime(2026, 11, 22, 0, 30, 0, 123456, tzinfo=PARIS)  # 23:30 UTC the day before
    given_events = [
        event(MS, occurred_at=paris_time),
        event(MS + 1, service_account_id="sa-1", conversation_id=None, max_mode=True),
    ]
    assert ingest(engine, team.connection_id, given_events) == IngestResult(2, 2, 0)
    stored = stored_events(engine, team.connection_id)
    first = stored[given_events[0].natural_key]
    assert first.occurred_at == paris_time and first.occurred_at.tzinfo is not None
    assert first.model_cost_cents == Decimal("3.12345679")
    assert first.charged_cents == Decimal("3.37345679")
    assert first.request_units == Decimal("1.5")
    second = stored[given_events[1].natural_key]
    assert (second.service_account_id, second.conversation_id, second.max_mode) == (
        "sa-1",
        None,
        True,
    )
    # 23:30 UTC on Nov 21st is Nov 22nd in Paris, as is MS + 1 (14:30 UTC on Nov 22nd).
    assert rollups(engine, team.connection_id) == {
        ("2026-11-22", "ana@acme.test", "gpt-5", "on_demand"): (2, Decimal("6.74691358")),
    }


def test_reading_a_page_again_changes_nothing(engine: Engine) -> None:
    team = make_team(engine)
    page = [event(MS + i * 60_000, charged_cents=Decimal(i) / 3) for i in range(50)]
    ingest(engine, team.connection_id, page)
    before = rollups(engine, team.connection_id)
    assert ingest(engine, team.connection_id, page) == IngestResult(seen=50, new=0, revised=0)
    assert ingest(engine, team.connection_id, list(reversed(page))).new == 0
    assert rollups(engine, team.connection_id) == before


def test_a_revised_event_moves_its_measures_to_its_new_rollup(engine: Engine) -> None:
    team = make_team(engine)
    original = event(MS, model="gpt-5", charged_cents=Decimal("2"))
    ingest(engine, team.connection_id, [original, event(MS + 1, charged_cents=Decimal("5"))])
    revised = original._replace(model="claude-4.5-sonnet", charged_cents=Decimal("7.25"))
    assert ingest(engine, team.connection_id, [revised]) == IngestResult(1, 0, 1)
    day = original.occurred_at.astimezone(PARIS).date().isoformat()
    assert rollups(engine, team.connection_id) == {
        (day, "ana@acme.test", "gpt-5", "on_demand"): (1, Decimal("5")),
        (day, "ana@acme.test", "claude-4.5-sonnet", "on_demand"): (1, Decimal("7.25")),
    }
    assert stored_events(engine, team.connection_id)[original.natural_key].model == (
        "claude-4.5-sonnet"
    )


def test_an_event_that_loses_its_email_keeps_the_one_the_ledger_knows(engine: Engine) -> None:
    team = make_team(engine)
    known = event(MS, user_email="leaver@acme.test")
    ingest(engine, team.connection_id, [known])
    forgotten = known._replace(user_email=UNKNOWN_USER, email_missing=True)
    assert ingest(engine, team.connection_id, [forgotten]) == IngestResult(1, 0, 0)
    stored = stored_events(engine, team.connection_id)[known.natural_key]
    assert stored.user_email == "leaver@acme.test"
    # ... and a real change to such an event still lands, under the remembered email.
    costlier = forgotten._replace(charged_cents=Decimal("9"))
    assert ingest(engine, team.connection_id, [costlier]) == IngestResult(1, 0, 1)
    day = known.occurred_at.astimezone(PARIS).date().isoformat()
    assert rollups(engine, team.connection_id) == {
        (day, "leaver@acme.test", "gpt-5", "on_demand"): (1, Decimal("9")),
    }


def test_a_page_overlapping_stored_events_adds_only_the_new_ones(engine: Engine) -> None:
    team = make_team(engine)
    ingest(engine, team.connection_id, [event(MS + 10), event(MS + 30)])
    # New events on both sides of, and between, the stored ones; one repeated in the page.
    page = [event(MS), event(MS + 10), event(MS + 20), event(MS + 30), event(MS + 40)]
    result = ingest(engine, team.connection_id, [*page, event(MS + 20, model="o3")])
    assert result == IngestResult(seen=5, new=3, revised=0)
    stored = stored_events(engine, team.connection_id)
    assert len(stored) == 5
    assert stored[event(MS + 20).natural_key].model == "o3"  # the page's last copy wins
    assert sum(events for events, _ in rollups(engine, team.connection_id).values()) == 5


def test_rebuilding_rollups_in_another_timezone_regroups_every_event(engine: Engine) -> None:
    team = make_team(engine)
    late_evening_utc = datetime(2026, 11, 21, 23, 30, tzinfo=UTC)  # Nov 22 in Paris
    page = [
        event(int(late_evening_utc.timestamp() * 1000), charged_cents=Decimal("1.00000001")),
        event(int(late_evening_utc.timestamp() * 1000) + 3_600_000, charged_cents=Decimal("2")),
    ]
    ingest(engine, team.connection_id, page)
    assert set(rollups(engine, team.connection_id)) == {
        ("2026-11-22", "ana@acme.test", "gpt-5", "on_demand")
    }
    with session_scope(engine) as session:
        count = rebuild_rollups(
            session, connection_id=team.connection_id, tz=ZoneInfo("UTC"), batch_size=1
        )
    assert count == 2
    assert rollups(engine, team.connection_id) == {
        ("2026-11-21", "ana@acme.test", "gpt-5", "on_demand"): (1, Decimal("1.00000001")),
        ("2026-11-22", "ana@acme.test", "gpt-5", "on_demand"): (1, Decimal("2")),
    }
