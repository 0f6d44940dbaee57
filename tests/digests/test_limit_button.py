"""The "Set spend limit" button: on admins' copies of alerts about one person only."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from digests.alerts import SET_LIMIT, alert_view, alerts_message
from tests.digests.test_alert_words import WEEK, Facts

ANOMALY = Facts(
    kind="anomaly_user", subject="Alice@Acme.test", period_start=date(2026, 11, 24), id=7
)


def _action_ids(message_blocks: list[dict[str, Any]]) -> list[str]:
    return [
        str(element["action_id"])
        for block in message_blocks
        if block["type"] == "actions"
        for element in block["elements"]
    ]


@pytest.mark.parametrize(
    "facts",
    [
        ANOMALY,
        replace(WEEK, subject="bob@acme.test"),
        replace(WEEK, kind="forecast", subject="c@x.io"),
    ],
)
def test_an_admins_copy_of_an_alert_about_one_person_offers_to_set_their_limit(
    facts: Facts,
) -> None:
    view = alert_view(facts, "UTC")
    assert view.limit_subject == facts.subject.lower()
    admins = alerts_message([view], "UTC", limit_button=True)
    assert SET_LIMIT in _action_ids(admins.blocks)
    button = next(
        element
        for block in admins.blocks
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == SET_LIMIT
    )
    assert button["value"] == str(facts.id)  # the alert, never the email: resolved server-side
    assert SET_LIMIT not in _action_ids(alerts_message([view], "UTC").blocks)


@pytest.mark.parametrize(
    "facts",
    [
        WEEK,  # the team's budget
        replace(ANOMALY, kind="anomaly_team", subject="team"),
        Facts(kind="health", subject="…0000"),
        replace(ANOMALY, status="acknowledged", acted_by="U1"),  # acted on: no buttons at all
    ],
)
def test_no_limit_button_where_there_is_no_one_person_or_nothing_to_act_on(facts: Facts) -> None:
    message = alerts_message([alert_view(facts, "UTC")], "UTC", limit_button=True)
    assert SET_LIMIT not in _action_ids(message.blocks)
