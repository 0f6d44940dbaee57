"""Slack figures: acknowledgement latency under load, and time to the full reply.

The app is served over real HTTP (waitress, as `stackspend serve --http` runs it) with a
ledger holding a year of rollups for 1,000 users (the same builder as ledger_bench). A
fake Slack Web API on localhost receives the replies. While a sync of another workspace
runs against a slow Cursor simulator, rounds of 20 concurrent signed `/spend` commands
are posted; each command's HTTP answer time is the ack latency (target p99 < 300 ms), and
the time until its reply reaches the response URL is the full-reply time (target p95 < 1 s).
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import waitress.server
from sqlalchemy import Engine

from bench.ledger_bench import NOW, TEAM_ID, build_ledger, line
from bot.assembly import assemble, core_services
from bot.settings import Settings
from bot.slack.app import create_app
from bot.slack.client import slack_client
from bot.slack.serve import wsgi_app
from bot.testing.fake_slack import FakeSlack, SlackUser
from bot.testing.signed_requests import signed_headers, slash_command_body
from bot.usecases.connect import connect_cursor
from bot.usecases.report_cache import ReportCache
from bot.usecases.syncs import sync_one
from connectors.cursor.access import CursorAccess
from connectors.cursor.client import ClientOptions
from connectors.cursor.sim_team import DEMO_API_KEY, SimulatorConfig
from connectors.cursor.simulator import CursorSimulator
from ledger import migrate
from ledger.db import make_engine
from ledger.models import SyncTrigger
from ledger.secrets import SecretBox, generate_secret_key

CONCURRENT = 20
#: What a morning burst asks: the same few questions, in different orders.
QUESTIONS = (
    "cursor cycle by user",
    "cursor 30d by model",
    "cursor 7d by day",
    "cursor last-cycle by user top 20",
    "me month",
)
ROUNDS = 5
ACK_TARGET_MS = 300.0
REPLY_TARGET_MS = 1000.0


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


@dataclass
class Burst:
    acks: list[float]
    replies: list[float]
    still_syncing: bool
    hits: int
    misses: int


def burst(engine: Engine, key: str, slack: FakeSlack, *, cache: bool, team: str) -> Burst:
    """Rounds of concurrent commands over HTTP while another workspace syncs."""
    simulator = CursorSimulator(SimulatorConfig(users=100, days=20, rate_limiting=False))
    simulator.faults.delay_seconds = 0.05  # a slow Cursor: the sync runs throughout

    def access() -> CursorAccess:
        options = ClientOptions(base_url="http://cursor.test", rate_limits={})
        return CursorAccess(options, simulator.transport())

    settings = Settings(_env_file=None, secret_key=key)
    core = core_services(
        settings,
        engine,
        cursor=access,
        cursor_check=access,
        clock=lambda: NOW,
        reports=ReportCache() if cache else ReportCache(size=0),
    )
    bot = assemble(settings, core, slack=slack_client("xoxb-bench", slack.base_url))
    box = bot.services.box
    connected = connect_cursor(
        engine,
        access=access(),
        box=box,
        team_id=team,
        api_key=DEMO_API_KEY,
        connected_by="UADMIN",
        now=NOW,
    )
    app = create_app(
        bot.services, bot.slack, signing_secret="bench-secret", token_verification_enabled=False
    )
    server = waitress.server.create_server(
        wsgi_app(app, signing_secret="bench-secret"), host="127.0.0.1", port=0, threads=32
    )
    threading.Thread(target=server.run, daemon=True).start()
    base = f"http://127.0.0.1:{server.effective_port}/slack/events"
    syncing = threading.Thread(
        target=sync_one,
        args=(engine,),
        kwargs={
            "connection_id": connected.connection_id,
            "access": access(),
            "box": box,
            "now": NOW,
            "trigger": SyncTrigger.MANUAL,
        },
        daemon=True,
    )
    syncing.start()
    acks: list[float] = []
    replies: list[float] = []
    slack.reset()
    with httpx.Client(timeout=10) as http, ThreadPoolExecutor(CONCURRENT) as pool:
        for round_number in range(ROUNDS):
            keys = [f"{team}-{round_number}-{i}" for i in range(CONCURRENT)]

            def post(key: str) -> tuple[str, float, float]:
                body = slash_command_body(
                    QUESTIONS[int(key.rsplit("-", 1)[1]) % len(QUESTIONS)],
                    user_id="UADMIN",
                    team_id=TEAM_ID,
                    response_url=slack.response_url(key),
                )
                sent = time.perf_counter()
                response = http.post(
                    base, content=body, headers=signed_headers(body, secret="bench-secret")
                )
                assert response.status_code == 200, response.text
                return key, sent, time.perf_counter() - sent

            results = list(pool.map(post, keys))
            acks += [ack for _, _, ack in results]
            slack.wait_for("response_url", count=CONCURRENT * (round_number + 1), timeout=60)
            arrived = {c.params["_key"]: c.at for c in slack.calls_to("response_url")}
            replies += [arrived[key] - sent for key, sent, _ in results]
    still_syncing = syncing.is_alive()
    syncing.join(timeout=120)
    server.close()
    bot.services.workers.shutdown(wait=True)
    return Burst(
        acks, replies, still_syncing, bot.services.reports.hits, bot.services.reports.misses
    )


def report(label: str, run: Burst) -> None:
    ack_p50, ack_p99 = percentile(run.acks, 0.5) * 1000, percentile(run.acks, 0.99) * 1000
    reply_p50 = percentile(run.replies, 0.5) * 1000
    reply_p95 = percentile(run.replies, 0.95) * 1000
    syncing = "a sync ran throughout" if run.still_syncing else "the sync ended before the end"
    line(
        f"ack latency p99 ({label})",
        f"{ack_p99:,.0f} ms",
        f"< {ACK_TARGET_MS:.0f} ms",
        f"p50 {ack_p50:.0f} ms; {len(run.acks)} commands, {CONCURRENT} at a time; {syncing}",
    )
    line(
        f"full reply p95 ({label})",
        f"{reply_p95:,.0f} ms",
        f"< {REPLY_TARGET_MS:.0f} ms",
        f"p50 {reply_p50:.0f} ms, mean {statistics.mean(run.replies) * 1000:.0f} ms; "
        f"report cache hits {run.hits}, misses {run.misses}",
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as folder, FakeSlack(team_id=TEAM_ID) as slack:
        url = f"sqlite:///{folder}/slack-bench.db"
        migrate.upgrade(url)
        engine = make_engine(url)
        key = generate_secret_key()
        box = SecretBox([key])
        started = time.perf_counter()
        rows = build_ledger(engine, box)
        elapsed = time.perf_counter() - started
        print(
            f"ledger: {rows:,} rollup rows (1,000 users x 365 days) in {elapsed:.1f} s; "
            f"questions: {', '.join(QUESTIONS)}"
        )
        slack.add_user(
            SlackUser(id="UADMIN", team_id=TEAM_ID, email="user0001@acme.test", is_admin=True)
        )
        report("cached", burst(engine, key, slack, cache=True, team="TSYNC1"))
        report("no cache", burst(engine, key, slack, cache=False, team="TSYNC2"))
        engine.dispose()
