"""An OAuth-mode bot on a real ledger and the fake Slack, driven over its WSGI edge."""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from slack_bolt import App
from sqlalchemy import Engine

from bot.assembly import Assembly, assemble, core_services
from bot.slack.app import create_app
from bot.slack.serve import wsgi_app
from bot.testing.fake_slack import Call, FakeSlack, SlackUser
from bot.testing.fake_slack_oauth import CLIENT_ID, CLIENT_SECRET, Grant
from bot.testing.signed_requests import SIGNING_SECRET, event_body, signed_headers
from bot.usecases.connect import connect_cursor
from bot.usecases.syncs import sync_one
from connectors.cursor.sim_team import DEMO_API_KEY, SimulatorConfig
from connectors.cursor.simulator import CursorSimulator
from ledger.accounts import find_connection, get_or_create_workspace
from ledger.db import session_scope
from ledger.models import SyncTrigger
from tests.bot.harness import ADMIN, sim_access, test_settings
from tests.ledger.support import Clock

_STATE = re.compile(r"state=([A-Za-z0-9-]+)")


@dataclass
class OAuthBot:
    engine: Engine
    slack: FakeSlack
    clock: Clock
    bot: Assembly
    app: App
    http: httpx.Client
    executor: ThreadPoolExecutor

    def close(self) -> None:
        self.http.close()
        self.executor.shutdown(wait=True)
        self.bot.services.workers.shutdown(wait=True)

    def install(self, grant: Grant) -> httpx.Response:
        """The browser's round trip: install page (state cookie), then the redirect back."""
        page = self.http.get("/slack/install")
        assert page.status_code == 200, page.text
        found = _STATE.search(page.text)
        assert found is not None, page.text
        code = self.slack.oauth.grant(grant)
        return self.http.get("/slack/oauth_redirect", params={"code": code, "state": found[1]})

    def event(self, event: dict[str, Any], **where: Any) -> httpx.Response:
        body = event_body(event, **where)
        return self.http.post("/slack/events", content=body, headers=signed_headers(body))

    def command(self, text: str, *, team: str, key: str, **extra: Any) -> str:
        """A signed `/spend` from ``team``; the text of its reply on the response_url."""
        from bot.testing.signed_requests import slash_command_body

        body = slash_command_body(
            text,
            user_id=ADMIN,
            team_id=team,
            response_url=self.slack.response_url(key),
            trigger_id=f"trigger-{key}",
            **extra,
        )
        answer = self.http.post("/slack/events", content=body, headers=signed_headers(body))
        assert answer.status_code == 200, answer.text
        if answer.content:  # answered in the acknowledgement itself
            return answer.text
        return self.reply(key).all_text()

    def reply(self, key: str, timeout: float = 10.0) -> Call:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for call in self.slack.calls_to("response_url"):
                if call.params.get("_key") == key:
                    return call
            time.sleep(0.01)
        raise AssertionError(f"no reply on {key}: {self.slack.methods_called()}")

    def connect_and_sync(self, team: str, *, users: int, enterprise_id: str | None = None) -> int:
        """Connect ``team`` to its own simulated Cursor team and sync it; the connection id."""
        sim = CursorSimulator(
            SimulatorConfig(users=users, days=12, rate_limiting=False, seed=users),
            clock=self.clock,
        )
        with session_scope(self.engine) as session:
            get_or_create_workspace(session, team_id=team, enterprise_id=enterprise_id)
        connect_cursor(
            self.engine,
            access=sim_access(sim),
            box=self.bot.services.box,
            team_id=team,
            enterprise_id=enterprise_id,
            api_key=DEMO_API_KEY,
            connected_by=ADMIN,
            now=self.clock.now,
        )
        with session_scope(self.engine) as session:
            from ledger.accounts import find_workspace

            connection = find_connection(session, find_workspace(session, team))
            assert connection is not None and connection.id is not None
            connection_id = connection.id
        outcome = sync_one(
            self.engine,
            connection_id=connection_id,
            access=sim_access(sim),
            box=self.bot.services.box,
            now=self.clock.now,
            trigger=SyncTrigger.MANUAL,
        )
        assert outcome.ok, outcome.error
        return connection_id


def build_oauth_bot(engine: Engine, slack: FakeSlack, **values: Any) -> OAuthBot:
    slack.add_user(SlackUser(id=ADMIN, email="ada@acme.test", is_admin=True, name="Ada Admin"))
    slack.add_channel("C1", "general")
    slack.oauth.strict = True
    settings = test_settings(
        slack_client_id=CLIENT_ID,
        slack_client_secret=CLIENT_SECRET,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=slack.base_url,
        **values,
    )
    clock = Clock()
    core = core_services(settings, engine, clock=lambda: clock.now)
    bot = assemble(settings, core, with_scheduler=True)
    executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="test-listener")
    app = create_app(
        bot.services,
        bot.slack,
        signing_secret=SIGNING_SECRET,
        listener_executor=executor,
        oauth=bot.oauth,
        uninstall_purges=settings.uninstall_data == "purge",
    )
    http = httpx.Client(
        transport=httpx.WSGITransport(app=wsgi_app(app, signing_secret=SIGNING_SECRET)),
        base_url="https://stackspend.test",
        timeout=timedelta(seconds=30).total_seconds(),
    )
    return OAuthBot(engine, slack, clock, bot, app, http, executor)
