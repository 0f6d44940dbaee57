"""Seats and adoption in words: the digest line, escaping, and what a viewer is shown."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from digests.adoption_words import adoption_json, adoption_message, adoption_text
from digests.seat_words import idle_summary, seat_card, seat_json, seat_message, seat_text
from ledger.activity_reads import PersonUsage
from ledger.adoption import AdoptionReport, AdoptionRow
from ledger.models import Visibility
from ledger.periods import Cycle, Period
from ledger.seats import IdleSeat, SeatChangeFact, SeatReport
from ledger.visibility import Viewer

PERIOD = Period(date(2026, 11, 1), date(2026, 11, 25), "this billing cycle")
HOSTILE = "<!channel> *Eve* `x`"


def _seats(price: int | None = 4000) -> SeatReport:
    return SeatReport(
        workspace="T1", timezone="UTC", period=PERIOD,
        cycle=Cycle(date(2026, 11, 1), date(2026, 10, 1)), reference=date(2026, 11, 25),
        idle_days=14, seat_price_cents=price, seats_paid=10, seats_at_reference=9,
        active_seats=7,
        idle=(
            IdleSeat("eve@x.test", HOSTILE, None), IdleSeat("bo@x.test", "Bo", date(2026, 11, 2))
        ),
        joined=(SeatChangeFact("new@x.test", "New", date(2026, 11, 20)),),
        left=(SeatChangeFact("old@x.test", HOSTILE, date(2026, 11, 3)),),
        seat_cost_cents=None if price is None else 33333,
        usage_cost_cents=Decimal("12345.678"), as_of=None,
    )  # fmt: skip


def test_the_digest_line_counts_idle_seats_and_their_monthly_cost() -> None:
    assert idle_summary(0, 4000) is None
    assert idle_summary(1, 4000) == "1 idle seat, $40.00 a month"
    assert idle_summary(3, 4000) == "3 idle seats, $120.00 a month"
    assert idle_summary(3, None) == "3 idle seats"


def test_seat_words_escape_names_and_carry_the_figures() -> None:
    report = _seats()
    message = seat_message(report)
    text = str(message.blocks)
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    assert "2 idle seats, $80.00 a month" in text
    assert "no activity on record" in text and "last active 2026-11-02" in text
    assert "$65.26" in text  # (33,333 + 12,345.678) / 7 cents
    card = seat_card(report)
    assert "10 paid, 7 active" in card and "2 idle seats, $80.00 a month" in card
    plain = seat_text(report)
    assert "eve@x.test" in plain and "Seat price not set" not in plain
    payload = seat_json(report)
    assert payload["cost_per_active_seat_cents"] == 6526
    assert payload["idle"][0] == {"email": "eve@x.test", "name": HOSTILE, "last_active": None}


def test_without_a_price_the_words_say_where_to_find_it() -> None:
    report = _seats(price=None)
    assert "see your Cursor invoice" in str(seat_message(report).blocks)
    assert "seat-price $40" in seat_card(report)
    assert "Seat price not set" in seat_text(report)
    assert seat_json(report)["idle_cost_per_month_cents"] is None


def _adoption() -> AdoptionReport:
    def row(email: str, spend: int, days: int) -> AdoptionRow:
        return AdoptionRow(PersonUsage(email, days, 100, 50, 40, 10, 8, 6, 30, 12), Decimal(spend))

    rows = (row("ann@x.test", 5000, 4), row("bob@x.test", 100, 0), row("cy@x.test", 900, 3))
    team = AdoptionRow(PersonUsage("", 7, 300, 150, 120, 30, 24, 18, 90, 36), Decimal(6000))
    return AdoptionReport(
        workspace="T1", timezone="UTC", period=PERIOD, rows=rows, team=team,
        high_spend_low_acceptance=("ann@x.test",), heavy_use_low_cost=("cy@x.test",), as_of=None,
    )  # fmt: skip


def test_a_member_under_own_sees_their_row_team_totals_and_no_one_elses_name() -> None:
    report = _adoption()
    member = Viewer.person("cy@x.test", is_admin=False, policy=Visibility.OWN)
    text = str(adoption_message(report, viewer=member).blocks)
    assert "cy@x.test" in text and "ann@x.test" not in text and "bob@x.test" not in text
    assert "Heavy use at low cost" in text and "High spend" not in text
    assert "2 people are left out" in text
    admin = Viewer.person("z@x.test", is_admin=True, policy=Visibility.OWN)
    text = str(adoption_message(report, viewer=admin).blocks)
    assert all(e in text for e in ("ann@x.test", "bob@x.test", "cy@x.test"))
    assert "High spend, low acceptance:* ann@x.test" in text


def test_adoption_text_and_json_list_everyone() -> None:
    report = _adoption()
    plain = adoption_text(report)
    assert "(team)" in plain and "ann@x.test" in plain and "$12.50" in plain  # 5000 / 4
    payload = adoption_json(report)
    assert [r["email"] for r in payload["rows"]] == ["ann@x.test", "bob@x.test", "cy@x.test"]
    assert payload["rows"][1]["spend_per_active_day_cents"] is None
    assert payload["team"]["active_days"] == 7 and "email" not in payload["team"]


def test_long_names_never_overflow_a_slack_section() -> None:
    long = "N" * 200
    idle = tuple(IdleSeat(f"{'e' * 300}{i}@x.test", long, None) for i in range(40))
    report = replace(_seats(), idle=idle)
    for block in seat_message(report).blocks:
        if block["type"] == "section" and "text" in block:
            assert len(block["text"]["text"]) <= 3000
    text = str(seat_message(report).blocks)
    assert "more (`stackspend report seats` lists all)" in text
