"""The simulator's CSV export, read back, holds exactly the charges its API serves."""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from connectors.cursor.csv_export import ExportFormatError, ExportReader
from connectors.cursor.sim_export import columns, export_bytes
from connectors.cursor.sim_team import SimulatorConfig
from connectors.cursor.simulator import CursorSimulator
from connectors.records import UNKNOWN_USER, UsageEvent

NOW = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)
DAY = timedelta(days=1)
MS = timedelta(milliseconds=1)
START = datetime(2026, 3, 2, tzinfo=UTC)


def simulator(**config: Any) -> CursorSimulator:
    settings: dict[str, Any] = {"users": 12, "days": 9, "rate_limiting": False, **config}
    return CursorSimulator(SimulatorConfig(**settings), clock=lambda: NOW)


def parse(data: bytes, **options: Any) -> tuple[list[UsageEvent], ExportReader]:
    reader = ExportReader(io.BytesIO(data), **options)
    events = [event for batch in reader.batches(size=500) for event in batch]
    assert reader.bad_count == 0, reader.bad_rows
    return events, reader


def totals(events: list[UsageEvent], by: str) -> dict[Any, Decimal]:
    sums: dict[Any, Decimal] = defaultdict(Decimal)
    for event in events:
        key = event.occurred_at.date() if by == "day" else event.user_email
        sums[key] += event.charged_cents
    return dict(sums)


def api_by_day(sim: CursorSimulator, start: datetime, end: datetime) -> dict[Any, Decimal]:
    """The API's total per UTC day, each day clipped to [start, end)."""
    found = {}
    piece = start
    while piece < end:
        midnight = piece.replace(hour=0, minute=0, second=0, microsecond=0)
        stop = min(midnight + DAY, end)
        served = sim.charged_cents(piece, stop - MS).get("total")
        if served is not None:
            found[piece.date()] = served
        piece = stop
    return found


@pytest.mark.parametrize("legacy", [False, True], ids=["current-api", "legacy-api"])
def test_per_day_and_per_user_totals_equal_what_the_api_serves_to_the_cent(legacy: bool) -> None:
    sim = simulator(legacy=legacy)
    end = sim.visible_cutoff()

    events, _ = parse(export_bytes(sim, START, end))

    assert len(events) == len(sim.wire_events(START, end - MS)) > 1000
    assert totals(events, "day") == api_by_day(sim, START, end)
    assert totals(events, "user") == sim.charged_cents(START, end - MS, by="user")
    assert UNKNOWN_USER in totals(events, "user")  # removed members' email is dropped


def test_the_window_is_half_open_and_rows_are_newest_first() -> None:
    sim = simulator()
    start, end = START + timedelta(hours=13), START + DAY + timedelta(hours=7)

    events, _ = parse(export_bytes(sim, start, end))
    oldest_first, _ = parse(export_bytes(sim, start, end, newest_first=False))

    stamps = [e.occurred_at for e in events]
    assert stamps == sorted(stamps, reverse=True) and start <= min(stamps) and max(stamps) < end
    assert [e.natural_key for e in reversed(oldest_first)] == [e.natural_key for e in events]
    assert totals(events, "day") == api_by_day(sim, start, end)


def test_the_older_variant_reads_to_the_same_events_without_agent_columns() -> None:
    sim = simulator()
    end = sim.visible_cutoff()
    data = export_bytes(sim, START, end, variant="older")

    events, reader = parse(data)
    newest, _ = parse(export_bytes(sim, START, end))

    assert "Cloud Agent ID" not in reader.columns and b"$" in data and b"\r\n" not in data
    assert totals(events, "user") == totals(newest, "user")
    assert [e.charged_cents for e in events] == [e.charged_cents for e in newest]


def test_the_personal_variant_is_refused_for_a_team_and_holds_one_members_usage() -> None:
    sim = simulator()
    end = sim.visible_cutoff()
    served = sim.charged_cents(START, end - MS, by="user")
    person = max((u for u in served if u != UNKNOWN_USER), key=served.__getitem__)
    data = export_bytes(sim, START, end, variant="personal", user=person)

    with pytest.raises(ExportFormatError) as caught:
        ExportReader(io.BytesIO(data))
    events, _ = parse(data, team=False, user_email=person)

    assert caught.value.missing == ("User",)
    assert len(events) > 10 and totals(events, "user") == {person: served[person]}


def test_every_kind_and_a_word_cost_appear_in_the_export() -> None:
    sim = simulator(users=30)
    data = export_bytes(sim, START, sim.visible_cutoff())

    for text in (b'"Included"', b'"Usage-based"', b'"Errored, No Charge"', b'"-"', b'"Yes"'):
        assert text in data
    assert data.splitlines()[0].decode() == ",".join(f'"{c}"' for c in columns("newest"))


def test_hostile_model_names_are_quoted_and_read_back_verbatim() -> None:
    sim = simulator(model_names={"gpt-5": 'gpt "5", <b>x</b>'})

    events, _ = parse(export_bytes(sim, START, sim.visible_cutoff()))

    assert 'gpt "5", <b>x</b>' in {e.model for e in events}


def test_an_unknown_variant_is_refused() -> None:
    with pytest.raises(ValueError, match="variant"):
        export_bytes(simulator(), START, NOW, variant="ancient")


def test_a_personal_export_defaults_to_the_first_members_usage() -> None:
    sim = simulator()
    end = sim.visible_cutoff()
    first = sim.team.members[0].email

    events, _ = parse(export_bytes(sim, START, end, variant="personal"), team=False)

    served = sim.charged_cents(START, end - MS, by="user").get(first, Decimal(0))
    assert sum((e.charged_cents for e in events), Decimal(0)) == served
