"""`stackspend serve --http` as a real process answers signed requests over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from connectors.cursor.sim_team import SimulatorConfig
from connectors.cursor.simulator import CursorSimulator, running_server
from ledger import migrate
from ledger.secrets import generate_secret_key
from tests.fakes.signing import SIGNING_SECRET, signed_headers, slash_command_body
from tests.fakes.slack import FakeSlack, SlackUser


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited early: {process.communicate()[1].decode()[-2000:]}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("serve did not come up")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, FakeSlack]]:
    database_url = f"sqlite:///{tmp_path / 'serve.db'}"
    migrate.upgrade(database_url)
    port = free_port()
    simulator = CursorSimulator(SimulatorConfig(users=4, days=5, rate_limiting=False))
    with FakeSlack() as slack, running_server(simulator) as cursor_url:
        slack.add_user(SlackUser(id="U1", email="someone@acme.test"))
        env = {
            **os.environ,
            "STACKSPEND_DATABASE_URL": database_url,
            "STACKSPEND_SECRET_KEY": generate_secret_key(),
            "STACKSPEND_CURSOR_BASE_URL": cursor_url,
            "STACKSPEND_SLACK_API_URL": slack.base_url,
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        }
        command = [
            sys.executable,
            "-m",
            "bot.cli",
            "serve",
            "--http",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ]
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_up(f"{base}/healthz", process)
            yield base, slack
        finally:
            process.terminate()
            process.communicate(timeout=10)


def test_serve_http_answers_a_signed_command_and_replies_on_the_response_url(
    served: tuple[str, FakeSlack],
) -> None:
    base, slack = served
    body = slash_command_body("cursor 7d", user_id="U1", response_url=slack.response_url("http"))
    response = httpx.post(f"{base}/slack/events", content=body, headers=signed_headers(body))
    assert response.status_code == 200
    (reply,) = slack.wait_for("response_url", timeout=10)
    assert "no cursor connection yet" in reply.all_text()


def test_serve_http_rejects_a_forged_request_and_serves_health(
    served: tuple[str, FakeSlack],
) -> None:
    base, _ = served
    body = slash_command_body("cursor")
    forged = httpx.post(
        f"{base}/slack/events", content=body, headers=signed_headers(body, secret="x")
    )
    assert forged.status_code == 401
    assert httpx.get(f"{base}/healthz").json() == {"ok": True}
    assert httpx.get(f"{base}/nope").status_code == 404


def test_serve_names_missing_settings(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "STACKSPEND_"))}
    env["STACKSPEND_DATABASE_URL"] = f"sqlite:///{tmp_path / 'x.db'}"
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "SLACK_BOT_TOKEN" in result.stderr and "SLACK_SIGNING_SECRET" in result.stderr
    assert "SLACK_APP_TOKEN (or pass --http)" in result.stderr
