"""The connect modal's key check answers within Slack's three seconds, whatever Cursor does."""

from __future__ import annotations

import json

from bot.slack import ids
from connectors.cursor.access import CursorAccess
from connectors.cursor.sim_team import DEMO_API_KEY
from connectors.cursor.simulator import running_server
from tests.bot.harness import Harness
from tests.bot.test_slack_app import submit_key


def test_a_dripping_cursor_cannot_hold_the_connect_modal_past_three_seconds(
    bot: Harness,
) -> None:
    bot.sim.faults.drip_seconds = 0.5  # a byte every half second: each read is "on time"
    with running_server(bot.sim) as base_url:
        bot.services.cursor_check_access = lambda: CursorAccess.for_key_check(base_url)
        _, body = submit_key(bot, DEMO_API_KEY)  # its time: bench/bounds_bench.py
        bot.sim.faults.drip_seconds = 0
    assert "did not answer in time" in json.loads(body)["errors"][ids.CONNECT_KEY_BLOCK]
