"""The shortcuts of the ingest hot path give what the plain conversions give."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from ledger.db import session_scope
from ledger.ingest import IngestResult, ingest_events
from ledger.rollups import LocalDays
from ledger.types import datetime_to_sqlite
from tests.ledger.support import make_team
from tests.ledger.test_ingest import MS, PARIS, event, ingest, rollups, stored_events

#: Zones with DST at midnight, half- and quarter-hour offsets, a 30-minute DST shift and a
#: day skipped (Apia, end of 2011).
ZONES = (
    "Europe/Paris",
    "America/Sao_Paulo",
    "America/Havana",
    "Asia/Kathmandu",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
    "Pacific/Apia",
    "America/St_Johns",
    "UTC",
)

instants = st.datetimes(
    min_value=datetime(1969, 12, 1), max_value=datetime(2110, 1, 1), timezones=st.just(UTC)
)


@given(st.lists(instants, min_size=1, max_size=40), st.sampled_from(ZONES))
def test_local_days_are_the_dates_astimezone_gives(moments: list[datetime], zone: str) -> None:
    tz = ZoneInfo(zone)
    days = LocalDays(tz)
    for moment in moments * 2:  # the second time from what was remembered
        assert days.day(moment) == moment.astimezone(tz).date()


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(ZONES), st.integers(min_value=2009, max_value=2030))
def test_every_instant_around_a_zones_transitions_gets_its_own_date(zone: str, year: int) -> None:
    tz = ZoneInfo(zone)
    days = LocalDays(tz)
    start = datetime(year, 1, 1, tzinfo=UTC)
    offsets = [(start + timedelta(hours=h)).astimezone(tz).utcoffset() for h in range(8784)]
    changes = [h for h in range(1, len(offsets)) if offsets[h] != offsets[h - 1]]
    for hour in changes:
        around = start + timedelta(hours=hour - 2)
        for step in range(0, 4 * 3600, 61):
            moment = around + timedelta(seconds=step, microseconds=step % 7 * 999)
            assert days.day(moment) == moment.astimezone(tz).date()
            assert days.day(moment) == moment.astimezone(tz).date()


@given(instants)
def test_instant_text_is_isoformat_at_every_hour(moment: datetime) -> None:
    expected = moment.isoformat(" ", "microseconds")[:26]
    assert datetime_to_sqlite(moment) == expected
    assert datetime_to_sqlite(moment) == expected  # from the remembered hour
    later = moment + timedelta(minutes=59)
    assert datetime_to_sqlite(later) == later.isoformat(" ", "microseconds")[:26]


@given(st.datetimes(timezones=st.just(UTC)), st.sampled_from(ZONES))
def test_instants_anywhere_in_datetimes_range_are_handled(moment: datetime, zone: str) -> None:
    assert datetime_to_sqlite(moment) == moment.isoformat(" ", "microseconds")[:26]
    try:
        expected = moment.astimezone(ZoneInfo(zone)).date()
    except OverflowError:
        return  # no local date exists
    assert LocalDays(ZoneInfo(zone)).day(moment) == expected


def test_the_last_microsecond_of_an_hour_stays_in_it() -> None:
    for year in (1970, 2026, 2105):
        moment = datetime(year, 6, 30, 23, 59, 59, 999_999, tzinfo=UTC)
        assert datetime_to_sqlite(moment) == f"{year}-06-30 23:59:59.999999"
        assert (
            LocalDays(ZoneInfo("Asia/Kathmandu")).day(moment)
            == moment.astimezone(ZoneInfo("Asia/Kathmandu")).date()
        )


# --- rows by COPY on PostgreSQL, by executemany on SQLite -----------------------------------

AWKWARD = "a\tb\nc\\d \"e\" 'f' \\N é ∑ 😀"


def test_text_copy_would_mangle_reaches_the_ledger_intact(engine: Engine) -> None:
    team = make_team(engine)
    awkward = event(
        MS,
        model=AWKWARD,
        user_email="x\\n@acme.test",
        kind="\\.",
        conversation_id=None,
        cloud_agent_id="\r\n",
    )
    plain = event(MS + 1, natural_key=f"{MS + 1:013d}-{'cd' * 10}")
    assert ingest(engine, team.connection_id, [awkward, plain]) == IngestResult(2, 2, 0)
    stored = stored_events(engine, team.connection_id)[awkward.natural_key]
    assert (stored.model, stored.user_email, stored.kind) == (AWKWARD, "x\\n@acme.test", "\\.")
    assert (stored.conversation_id, stored.cloud_agent_id) == (None, "\r\n")
    assert stored.charged_cents == Decimal("3.37345679")
    # Read again: nothing changes, and the rollups (a staged upsert on PostgreSQL) count once.
    assert ingest(engine, team.connection_id, [awkward, plain]) == IngestResult(2, 0, 0)
    assert rollups(engine, team.connection_id)[
        (
            awkward.occurred_at.astimezone(PARIS).date().isoformat(),
            "x\\n@acme.test",
            AWKWARD,
            "on_demand",
        )
    ] == (1, Decimal("3.37345679"))


def test_two_batches_in_one_transaction_add_their_rollups_once_each(engine: Engine) -> None:
    team = make_team(engine)
    first = [event(MS + i, natural_key=f"{MS + i:013d}-{'ef' * 10}") for i in range(3)]
    second = [event(MS + 10 + i, natural_key=f"{MS + 10 + i:013d}-{'ef' * 10}") for i in range(2)]
    with session_scope(engine) as session:
        for batch in (first, second):
            ingest_events(session, connection_id=team.connection_id, tz=PARIS, events=batch)
    day = first[0].occurred_at.astimezone(PARIS).date().isoformat()
    assert rollups(engine, team.connection_id)[(day, "ana@acme.test", "gpt-5", "on_demand")] == (
        5,
        Decimal("3.37345679") * 5,
    )
