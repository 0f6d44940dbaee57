"""The connect modal's key check answers within Slack's three seconds, whatever Cursor does."""

from __future__ import annotations

import json

from bot import ids
from bot.settings import load_settings
from bot.wiring import bot_services
from connectors.cursor.sim_team import DEMO_API_KEY
from connectors.cursor.simulator import running_server
from ledger.secrets import generate_secret_key
from tests.bot.harness import Harness
from tests.bot.test_slack_app import submit_key


def test_a_dripping_cursor_cannot_hold_the_connect_modal_past_three_seconds(
    bot: Harness,
) -> None:
    bot.sim.faults.drip_seconds = 0.5  # a byte every half second: each read is "on time"
    with running_server(bot.sim) as base_url:
        settings = load_settings(cursor_base_url=base_url, secret_key=generate_secret_key())
        bot.services.cursor_check_access = bot_services(settings, bot.engine).cursor_check_access
        _, body = submit_key(bot, DEMO_API_KEY)  # its time: bench/bounds_bench.py
        bot.sim.faults.drip_seconds = 0
    assert "did not answer in time" in json.loads(body)["errors"][ids.CONNECT_KEY_BLOCK]
