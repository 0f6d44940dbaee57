"""A Bolt app wired to a real ledger, the Cursor simulator and the fake Slack Web API."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import App
from slack_bolt.response import BoltResponse
from sqlalchemy import Engine

from bot.assembly import assemble, core_services
from bot.services import BotServices
from bot.settings import Settings
from bot.slack.app import create_app
from bot.slack.client import slack_client
from bot.testing.fake_slack import Call, FakeSlack, SlackUser
from bot.testing.signed_requests import SIGNING_SECRET, bolt_request, slash_command_body
from bot.usecases.connect import connect_cursor
from bot.usecases.syncs import sync_one
from connectors.cursor.access import CursorAccess
from connectors.cursor.client import ClientOptions
from connectors.cursor.sim_team import DEMO_API_KEY, SimulatorConfig
from connectors.cursor.simulator import CursorSimulator
from ledger.accounts import find_connection, find_workspace
from ledger.db import session_scope
from ledger.models import SyncTrigger
from ledger.secrets import generate_secret_key
from tests.ledger.support import Clock

ADMIN = "UADMIN"
MEMBER = "UMEMBER"
STRANGER = "USTRANGER"


@dataclass
class Harness:
    engine: Engine
    slack: FakeSlack
    sim: CursorSimulator
    clock: Clock
    services: BotServices
    app: App
    executor: ThreadPoolExecutor
    emails: list[str] = field(default_factory=list)
    _urls: int = 0

    def close(self) -> None:
        """Let listeners still running after their ack finish before the fakes go away."""
        self.executor.shutdown(wait=True)
        self.services.workers.shutdown(wait=True)
        self.services.imports.shutdown(wait=True)

    def command(
        self, text: str, *, user: str = ADMIN, team: str = "T1", channel: str = "C1"
    ) -> tuple[BoltResponse, str]:
        """Dispatch a signed `/spend` and return (ack response, response_url key)."""
        self._urls += 1
        key = f"r{self._urls}"
        body = slash_command_body(
            text,
            user_id=user,
            team_id=team,
            channel_id=channel,
            response_url=self.slack.response_url(key),
            trigger_id=f"trigger-{key}",
        )
        return self.app.dispatch(bolt_request(body)), key

    def replies(self, key: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [c for c in self.slack.calls_to("response_url") if c.params.get("_key") == key]
            if len(found) >= count:
                return found
            time.sleep(0.01)
        raise AssertionError(f"no {count} replies on {key}: {self.slack.methods_called()}")

    def reply_text(self, key: str) -> str:
        return self.replies(key)[0].all_text()

    def connect_and_sync(self, team: str = "T1") -> None:
        access = self.services.cursor_access()
        connect_cursor(
            self.engine,
            access=access,
            box=self.services.box,
            team_id=team,
            api_key=DEMO_API_KEY,
            connected_by=ADMIN,
            now=self.clock.now,
        )
        with session_scope(self.engine) as session:
            workspace = find_workspace(session, team)
            connection = find_connection(session, workspace)
            assert connection is not None and connection.id is not None
            connection_id = connection.id
        outcome = sync_one(
            self.engine,
            connection_id=connection_id,
            access=self.services.cursor_access(),
            box=self.services.box,
            now=self.clock.now,
            trigger=SyncTrigger.MANUAL,
        )
        assert outcome.ok, outcome.error


def sim_access(sim: CursorSimulator, **options: Any) -> CursorAccess:
    opts = ClientOptions(base_url="http://cursor.test", rate_limits={}, **options)
    return CursorAccess(opts, sim.transport())


def build_harness(engine: Engine, slack: FakeSlack, **sim_config: Any) -> Harness:
    clock = Clock()
    settings: dict[str, Any] = {"users": 8, "days": 20, "rate_limiting": False, **sim_config}
    sim = CursorSimulator(SimulatorConfig(**settings), clock=clock)
    emails = [m.email for m in sim.team.members if not m.is_removed]
    slack.add_user(SlackUser(id=ADMIN, email=emails[0], is_admin=True, name="Ada Admin"))
    slack.add_user(SlackUser(id=MEMBER, email=emails[1], name="Max Member"))
    slack.add_user(SlackUser(id=STRANGER, email="nobody@elsewhere.test", name="Sam Stranger"))
    slack.add_user(SlackUser(id="UB", team_id="T2", email=emails[2], is_admin=True))
    slack.add_channel("C1", "general")
    core = core_services(
        test_settings(),
        engine,
        cursor=lambda: sim_access(sim),
        cursor_check=lambda: sim_access(sim, timeout_seconds=2.0, max_attempts=1),
        clock=lambda: clock.now,
    )
    services = assemble(test_settings(), core, slack=slack_client("xoxb-test", slack.base_url))
    executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="test-listener")
    app = create_app(
        services.services,
        services.slack,
        signing_secret=SIGNING_SECRET,
        token_verification_enabled=False,
        listener_executor=executor,
    )
    return Harness(engine, slack, sim, clock, services.services, app, executor, emails)


def test_settings(**values: Any) -> Settings:
    """Settings from these values alone (no environment, no ``.env``)."""
    values.setdefault("secret_key", generate_secret_key())
    return Settings(_env_file=None, **values)
