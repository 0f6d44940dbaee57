"""Billing groups in words: refusals and the reconciliation lines."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from digests.group_words import PLAN_REFUSAL, group_error_text, groups_json, reconciliation_lines
from digests.slack_reports import report_message
from ledger.group_errors import GroupsUnavailable, Unavailable, UnknownGroup
from ledger.group_facts import GroupFacts, Reconciled
from ledger.periods import Cycle, Period
from ledger.queries import Breakdown, Report, Row, Totals

READ = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)


def report(facts: GroupFacts | None) -> Report:
    return Report(
        provider="cursor", workspace="T1", timezone="UTC",
        period=Period(date(2026, 11, 1), date(2026, 11, 25), "this billing cycle"),
        by=Breakdown.GROUP, user=None, as_of=READ, history_start=None,
        cycle=Cycle(date(2026, 11, 1), date(2026, 10, 1)),
        totals=Totals(cents=Decimal(300)), rows=[Row("Platform", Decimal(300), 3, 0, 0)],
        groups=facts,
    )  # fmt: skip


def test_refusals_say_why_and_what_to_do() -> None:
    assert group_error_text(GroupsUnavailable(Unavailable.PLAN), "`x`") == PLAN_REFUSAL
    text = group_error_text(GroupsUnavailable(Unavailable.NOT_READ, "HTTP 503"), "`sync`")
    assert "not been read" in text and "HTTP 503" in text and "`sync`" in text
    text = group_error_text(UnknownGroup("Nope", ("Data", "Platform")), "`sync`")
    assert '"Nope"' in text and '"Data", "Platform"' in text
    assert "no groups yet" in group_error_text(UnknownGroup("Nope"), "`sync`")


def test_reconciliation_lines_and_json_name_each_group_that_differs() -> None:
    differing = [Reconciled(f"G{i}", Decimal(1000 + i), Decimal(900), READ) for i in range(12)]
    facts = GroupFacts(reconciliation=differing, read_at=READ)
    lines = reconciliation_lines(report(facts))
    assert len(lines) == 13 and "$10.00 here, $9.00 in Cursor ($1.00)" in lines[1]
    payload = groups_json(facts)
    assert payload["group"] is None and len(payload["reconciliation"]) == 12
    assert payload["reconciliation"][0]["difference_cents"] == 100.0
    message = report_message(report(facts))
    text = " ".join(str(block) for block in message.blocks)
    assert "… and 4 more groups" in text  # one context note, at most nine groups in it
    assert reconciliation_lines(report(None)) == []
    assert groups_json(None) == {"group": None, "reconciliation": []}
