"""When personal lines are due (pure), and how `/spend me daily|weekly|off` parses."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.jobs.personal_due import (
    DEFAULT_LOCAL_TIME,
    last_occurrence,
    line_key,
    next_occurrence,
    period_ending_before,
)
from bot.slack.grammar import Invalid, PersonalLine, PersonalLineOff, SpendQuery, parse
from ledger.personal_models import LineCadence

DAILY, WEEKLY = LineCadence.DAILY, LineCadence.WEEKLY
UTC_ZONE = ZoneInfo("UTC")


def due_times(
    cadence: LineCadence, person: str, ledger: str, start: datetime, days: int, at: time
) -> dict[str, datetime]:
    """Every line's key and the first minute it was due, minute by minute."""
    seen: dict[str, datetime] = {}
    moment = start
    while moment < start + timedelta(days=days):
        line = last_occurrence(cadence, at, ZoneInfo(person), ZoneInfo(ledger), moment)
        if line is not None:
            seen.setdefault(line.first.isoformat(), moment)
        moment += timedelta(minutes=5)
    return seen


@pytest.mark.parametrize(
    ("start", "expected_utc_hours"),
    [
        (datetime(2026, 3, 6, tzinfo=UTC), [14, 14, 13, 13]),  # spring forward on Sun Mar 8
        (datetime(2026, 10, 30, tzinfo=UTC), [13, 13, 14, 14]),  # fall back on Sun Nov 1
    ],
)
def test_new_york_lines_are_at_nine_local_on_both_dst_change_days(
    start: datetime, expected_utc_hours: list[int]
) -> None:
    seen = due_times(DAILY, "America/New_York", "America/New_York", start, 5, time(9, 0))
    firsts = sorted(seen.values())[1:5]  # the first is whatever was due at the start
    assert [moment.hour for moment in firsts] == expected_utc_hours
    local = [moment.astimezone(ZoneInfo("America/New_York")) for moment in firsts]
    assert {moment.time() for moment in local} == {time(9, 0)}
    assert len({moment.date() for moment in local}) == 4  # one a day


def test_a_time_skipped_by_the_spring_change_moves_an_hour_on() -> None:
    seen = due_times(
        DAILY, "America/New_York", "UTC", datetime(2026, 3, 7, tzinfo=UTC), 3, time(2, 30)
    )
    on_the_day = seen["2026-03-07"].astimezone(ZoneInfo("America/New_York"))
    assert (on_the_day.date(), on_the_day.time()) == (date(2026, 3, 8), time(3, 30))


def test_either_side_of_the_date_line_each_gets_one_line_per_own_day() -> None:
    start = datetime(2026, 11, 20, tzinfo=UTC)
    for person in ("Pacific/Kiritimati", "Pacific/Pago_Pago", "Pacific/Auckland"):
        seen = due_times(DAILY, person, person, start, 4, DEFAULT_LOCAL_TIME)
        local = [moment.astimezone(ZoneInfo(person)) for moment in seen.values()]
        assert [m.time() for m in local][1:] == [DEFAULT_LOCAL_TIME] * (len(local) - 1)
        for period, moment in list(zip(seen, local, strict=True))[1:]:
            assert moment.date() == date.fromisoformat(period) + timedelta(days=1)


def test_a_line_waits_until_its_day_has_ended_in_the_ledgers_timezone() -> None:
    kiritimati, utc = ZoneInfo("Pacific/Kiritimati"), UTC_ZONE
    nine = datetime(2026, 11, 26, 9, 0, tzinfo=kiritimati)  # Nov 25 19:00 UTC
    line = last_occurrence(DAILY, time(9, 0), kiritimati, utc, nine)
    assert line is not None and line.first == date(2026, 11, 24)  # Nov 25 is still going in UTC
    after = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)
    line = last_occurrence(DAILY, time(9, 0), kiritimati, utc, after)
    assert line is not None and line.first == date(2026, 11, 25) and line.due_at == after


def test_weekly_lines_cover_monday_to_sunday_and_are_due_on_monday() -> None:
    assert period_ending_before(WEEKLY, date(2026, 11, 25)) == (
        date(2026, 11, 16),
        date(2026, 11, 22),
    )
    assert period_ending_before(DAILY, date(2026, 11, 25)) == (
        date(2026, 11, 24),
        date(2026, 11, 24),
    )
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    line = next_occurrence(WEEKLY, time(8, 0), UTC_ZONE, UTC_ZONE, now)
    assert (line.first, line.last) == (date(2026, 11, 23), date(2026, 11, 29))
    assert line.due_at == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    seen = due_times(WEEKLY, "Europe/Paris", "UTC", now, 15, time(8, 0))
    assert list(seen) == ["2026-11-16", "2026-11-23", "2026-11-30"]


def test_next_occurrence_is_today_when_the_time_has_not_come() -> None:
    early = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
    line = next_occurrence(DAILY, time(9, 0), UTC_ZONE, UTC_ZONE, early)
    assert line.first == date(2026, 11, 24) and line.due_at == early.replace(hour=9)


def test_keys_name_the_person_the_cadence_and_the_period() -> None:
    key = line_key(3, "U1", WEEKLY, date(2026, 11, 23))
    assert key == "personal:3:U1:weekly:2026-11-23"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("me daily", PersonalLine("daily")),
        ("me WEEKLY", PersonalLine("weekly")),
        ("me daily 08:30", PersonalLine("daily", time(8, 30))),
        ("me weekly 7pm", PersonalLine("weekly", time(19, 0))),
        ("me daily 12:15am", PersonalLine("daily", time(0, 15))),
        ("me off", PersonalLineOff()),
        ("me stop", PersonalLineOff()),
        ("me 7d", SpendQuery(period="7d", by="day", me=True)),
    ],
)
def test_personal_line_commands_parse(text: str, expected: object) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("me daily 25:00", "isn't a time of day"),
        ("me daily 9:75", "isn't a time of day"),
        ("me daily <!channel>", "isn't a time of day"),
        ("me daily 09:00 extra", "takes nothing more"),
        ("me off now", "takes nothing more"),
    ],
)
def test_bad_personal_line_commands_say_what_to_do(text: str, said: str) -> None:
    result = parse(text)
    assert isinstance(result, Invalid)
    assert said in result.message
    assert "/spend me daily" in result.usage
    assert "<!channel>" not in result.message


def test_only_real_timezones_are_kept() -> None:
    from bot.usecases.personal_people import valid_zone

    assert valid_zone("Pacific/Kiritimati") == "Pacific/Kiritimati"
    assert valid_zone("Mars/Olympus_Mons") is None
    assert valid_zone("../../etc/passwd") is None
    assert valid_zone("") is None and valid_zone(None) is None


@pytest.mark.parametrize(
    ("text", "suggestion"),
    [("me dialy", "me daily"), ("me weekley 9:00", "me weekly 9:00"), ("me of", "me off")],
)
def test_typos_of_the_personal_words_are_corrected(text: str, suggestion: str) -> None:
    result = parse(text)
    assert isinstance(result, Invalid) and result.suggestion == suggestion


def test_typos_nearer_a_period_keep_the_querys_advice() -> None:
    result = parse("me wek")
    assert isinstance(result, Invalid) and result.suggestion == "cursor me week"


def test_a_time_the_autumn_change_repeats_is_taken_the_first_time() -> None:
    start = datetime(2026, 10, 31, 12, 0, tzinfo=UTC)
    seen = due_times(DAILY, "America/New_York", "UTC", start, 2, time(1, 30))
    assert seen["2026-10-31"] == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT, once
