"""`stackspend serve --http` as a real process answers signed requests over HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bot.slack import ids
from bot.testing.fake_slack import FakeSlack, SlackUser
from bot.testing.signed_requests import (
    SIGNING_SECRET,
    signed_headers,
    slash_command_body,
    view_submission_body,
)
from connectors.cursor.sim_team import SimulatorConfig
from connectors.cursor.simulator import CursorSimulator, running_server
from ledger import migrate
from ledger.secrets import generate_secret_key

#: Each test starts a real `stackspend` process.
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


#: Safety nets only: every wait below ends on its condition (the port answers, the process
#: has exited, the log has the line), however long a loaded machine makes that take.
PATIENCE_SECONDS = 180.0


def wait_until_up(
    url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = PATIENCE_SECONDS
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited early: {log.read_text()[-2000:]}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("serve did not come up")


def stop_serving(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then wait for the process to exit (its clean-up, the coverage data of a
    measured run included, is written on the way out); SIGKILL only past the safety net,
    and to whatever of its process group is left."""
    process.terminate()
    try:
        process.wait(timeout=PATIENCE_SECONDS)
    except subprocess.TimeoutExpired:  # shutdown is not what these tests are about
        process.kill()
        process.wait()
    with suppress(ProcessLookupError):  # no worker of a pool outlives the test
        os.killpg(process.pid, signal.SIGKILL)


def wait_for_log(served: Served, line: str) -> str:
    """The log once it holds ``line`` (written by a request already answered)."""
    deadline = time.monotonic() + PATIENCE_SECONDS
    while line not in (text := served.log_text()):
        if time.monotonic() > deadline:
            raise AssertionError(f"no {line!r} in the log: {text[-2000:]}")
        time.sleep(0.05)
    return text


@dataclass
class Served:
    """A running `stackspend serve --http`: its URL, process, and stderr (a file)."""

    base: str
    slack: FakeSlack
    process: subprocess.Popen[bytes]
    log: Path

    def memory_bytes(self, field: str = "VmRSS") -> int:
        """``VmRSS`` (resident now) or ``VmHWM`` (its peak so far) from /proc."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        (line,) = [row for row in status.splitlines() if row.startswith(f"{field}:")]
        return int(line.split()[1]) * 1024

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def serving(tmp_path: Path, *, log_level: str = "INFO") -> Iterator[Served]:
    database_url = f"sqlite:///{tmp_path / 'serve.db'}"
    migrate.upgrade(database_url)
    port = free_port()
    simulator = CursorSimulator(SimulatorConfig(users=4, days=5, rate_limiting=False))
    with FakeSlack() as slack, running_server(simulator) as cursor_url:
        slack.add_user(SlackUser(id="U1", email="someone@acme.test"))
        slack.add_user(SlackUser(id="UADMIN", email="admin@acme.test", is_admin=True))
        env = {
            **os.environ,
            "STACKSPEND_DATABASE_URL": database_url,
            "STACKSPEND_SECRET_KEY": generate_secret_key(),
            "STACKSPEND_CURSOR_BASE_URL": cursor_url,
            "STACKSPEND_SLACK_API_URL": slack.base_url,
            "STACKSPEND_LOG_LEVEL": log_level,
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
        log = tmp_path / "serve.log"
        with log.open("wb") as stderr:
            process = subprocess.Popen(
                command,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,  # its own process group, children and all
            )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_up(f"{base}/healthz", process, log)
            yield Served(base, slack, process, log)
        finally:
            stop_serving(process)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, FakeSlack]]:
    with serving(tmp_path) as server:
        yield server.base, server.slack


def test_serve_http_answers_a_signed_command_and_replies_on_the_response_url(
    served: tuple[str, FakeSlack],
) -> None:
    base, slack = served
    body = slash_command_body("cursor 7d", user_id="U1", response_url=slack.response_url("http"))
    response = httpx.post(f"{base}/slack/events", content=body, headers=signed_headers(body))
    assert response.status_code == 200
    (reply,) = slack.wait_for("response_url", timeout=PATIENCE_SECONDS)
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
        timeout=PATIENCE_SECONDS,
    )
    assert result.returncode == 1
    assert "SLACK_BOT_TOKEN" in result.stderr and "SLACK_SIGNING_SECRET" in result.stderr
    assert "SLACK_APP_TOKEN (or pass --http)" in result.stderr


# --- the HTTP edge, in the real process ------------------------------------------------------

MB = 1024 * 1024


def test_an_unsigned_50_mb_post_is_refused_413_without_growing_memory_or_the_log(
    tmp_path: Path,
) -> None:
    with serving(tmp_path, log_level="DEBUG") as server:
        body = slash_command_body(
            "cursor 7d", user_id="U1", response_url=server.slack.response_url("warm")
        )
        warm = httpx.post(f"{server.base}/slack/events", content=body, headers=signed_headers(body))
        assert warm.status_code == 200
        server.slack.wait_for("response_url", timeout=PATIENCE_SECONDS)
        time.sleep(0.5)
        rss_before, peak_before = server.memory_bytes(), server.memory_bytes("VmHWM")
        log_before = server.log.stat().st_size

        # A form body Bolt would parse, fail the signature of, and log whole.
        huge = httpx.post(
            f"{server.base}/slack/events",
            content=b"text=" + b"x" * (50 * MB),
            headers={"content-type": "application/x-www-form-urlencoded"},
            timeout=120,
        )
        time.sleep(0.5)
        rss_growth = server.memory_bytes() - rss_before
        peak_growth = server.memory_bytes("VmHWM") - peak_before
        log_growth = server.log.stat().st_size - log_before

        assert huge.status_code == 413
        assert rss_growth < 32 * MB, f"RSS grew by {rss_growth / MB:.1f} MB"
        assert peak_growth < 32 * MB, f"peak RSS grew by {peak_growth / MB:.1f} MB"
        assert log_growth < 16 * 1024, f"the log grew by {log_growth} bytes"
        assert httpx.get(f"{server.base}/healthz").json() == {"ok": True}


def test_a_chunked_body_over_one_mib_is_refused_413(served: tuple[str, FakeSlack]) -> None:
    base, _ = served

    def chunks() -> Iterator[bytes]:
        for _ in range(64):
            yield b"x" * (64 * 1024)

    response = httpx.post(f"{base}/slack/events", content=chunks(), timeout=30)
    assert response.status_code == 413


def test_a_failed_signature_connect_submission_never_puts_key_or_body_in_the_log(
    tmp_path: Path,
) -> None:
    key = "opaque" + uuid.uuid4().hex + uuid.uuid4().hex
    values = {
        ids.CONNECT_KEY_BLOCK: {ids.CONNECT_KEY_INPUT: {"type": "plain_text_input", "value": key}}
    }
    body = view_submission_body(ids.CONNECT_VIEW, values, user_id="UADMIN")
    with serving(tmp_path, log_level="DEBUG") as server:
        forged = httpx.post(
            f"{server.base}/slack/events",
            content=body,
            headers=signed_headers(body, secret="rotated-secret"),
        )
        signed = httpx.post(
            f"{server.base}/slack/events", content=body, headers=signed_headers(body)
        )
        assert forged.status_code == 401
        assert signed.json()["response_action"] == "errors"
        log = wait_for_log(server, "refused a request whose signature does not match (401)")
    assert "refused a request whose signature does not match (401)" in log
    assert key not in log
    assert "view_submission" not in log and "payload=" not in log
