"""`stackspend report seats` and `stackspend report adoption`, text and JSON."""

from __future__ import annotations

import json

import pytest

from tests.bot.cli_support import run

SEAT_FIELDS = {
    "provider", "workspace", "timezone", "period", "start", "end", "reference_day",
    "cycle_start", "as_of", "idle_days", "seat_price_cents", "seats_paid",
    "seats_on_reference_day", "active_seats", "idle_seats", "idle", "joined", "left",
    "seat_cost_cents", "usage_cost_cents", "cost_per_active_seat_cents",
    "usage_per_active_seat_cents", "idle_cost_per_month_cents", "days_before_history",
    "history_note",
}  # fmt: skip
ADOPTION_ROW_FIELDS = {
    "email", "active_days", "lines_added", "accepted_lines", "requests", "agent_requests",
    "applies", "accepts", "tabs_shown", "tabs_accepted", "spend_cents",
    "spend_per_active_day_cents",
}  # fmt: skip


def test_seats_json_is_the_documented_contract(synced: dict[str, str]) -> None:
    code, out, err = run(
        synced, "report", "seats", "-w", "T1", "--seat-price", "$40", "--idle-days", "3",
        "--format", "json",
    )  # fmt: skip
    assert code == 0, err
    payload = json.loads(out)
    assert set(payload) == SEAT_FIELDS
    assert payload["seat_price_cents"] == 4000 and payload["idle_days"] == 3
    assert payload["seats_paid"] >= payload["active_seats"] > 0
    assert payload["seat_cost_cents"] > 0
    expected = round(
        (payload["usage_cost_cents"] + payload["seat_cost_cents"]) / payload["active_seats"]
    )
    assert abs(payload["cost_per_active_seat_cents"] - expected) <= 1
    assert payload["idle_cost_per_month_cents"] == 4000 * payload["idle_seats"]


def test_seats_text_without_a_price_says_how_to_set_one(synced: dict[str, str]) -> None:
    code, out, _ = run(synced, "report", "seats", "-w", "T1", "--period", "7d")
    assert code == 0
    assert out.startswith("Cursor seats, last 7 days")
    assert "seats paid" in out and "Seat price not set" in out and "Cursor invoice" in out


def test_adoption_json_rows_add_up_to_the_team(synced: dict[str, str]) -> None:
    code, out, err = run(synced, "report", "adoption", "-w", "T1", "--format", "json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["by"] == "user" and payload["rows"]
    assert set(payload["rows"][0]) == ADOPTION_ROW_FIELDS
    for field in ("active_days", "accepted_lines", "requests"):
        assert payload["team"][field] == sum(row[field] for row in payload["rows"])
    assert payload["team"]["active_days"] > 0
    code, out, _ = run(synced, "report", "adoption", "-w", "T1")
    assert code == 0 and out.startswith("Cursor adoption and spend") and "(team)" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["seats", "--seat-price", "forty"], "monthly price of one seat"),
        (["seats", "--seat-price", "0.004"], "monthly price of one seat"),
        (["seats", "--seat-price", "$1e308"], "monthly price of one seat"),
        (["seats", "--seat-price", "nan"], "monthly price of one seat"),
        (["seats", "--seat-price", "-40"], "monthly price of one seat"),
        (["seats", "--idle-days", "0"], "--idle-days"),
        (["seats", "--period", "fortnight"], "Unknown period 'fortnight'"),
        (["adoption", "--by", "group"], "billing groups are not available"),
    ],
)
def test_bad_seat_report_input_exits_non_zero(
    synced: dict[str, str], args: list[str], message: str
) -> None:
    code, out, err = run(synced, "report", *args[:1], "-w", "T1", *args[1:])
    assert code != 0 and out == ""
    assert message in err


def test_the_digest_json_gains_the_idle_seats(synced: dict[str, str]) -> None:
    code, out, err = run(synced, "digest", "preview", "-w", "T1", "--format", "json")
    assert code == 0, err
    payload = json.loads(out)
    assert isinstance(payload["idle_seats"], int)
    assert payload["idle_seat_cost_per_month_cents"] is None  # no seat price set


@pytest.mark.parametrize("kind", ["seats", "adoption"])
def test_a_seat_or_adoption_period_reaching_before_the_history_says_so(
    synced: dict[str, str], kind: str
) -> None:
    """As the spend report does: the days before the history are named, never silently left
    out of a smaller number."""
    code, out, err = run(synced, "report", "cursor", "-w", "T1", "-p", "30d", "-f", "json")
    assert code == 0, err
    spend = json.loads(out)
    assert spend["days_before_history"] > 0
    code, out, err = run(synced, "report", kind, "-w", "T1", "-p", "30d", "-f", "json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["days_before_history"] == spend["days_before_history"]
    assert payload["history_note"] == spend["history_note"]
    code, out, _ = run(synced, "report", kind, "-w", "T1", "-p", "30d")
    assert code == 0 and f"Note: {spend['history_note']}." in out
    code, out, _ = run(synced, "report", kind, "-w", "T1", "-p", "today", "-f", "json")
    assert code == 0
    assert (json.loads(out)["days_before_history"], json.loads(out)["history_note"]) == (0, None)
