"""No log line carries a request body, a modal value or a Cursor key, at DEBUG, over HTTP
and in Socket Mode (bot.log_safety, applied by create_app and configure_logging)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import socket
import struct
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from sqlalchemy import Engine

from bot import log_context
from bot.log_context import ContextFilter
from bot.log_format import JSON_FIELDS, formatter
from bot.log_safety import (
    MAX_MESSAGE_CHARS,
    LogSafetyFilter,
    protect_logging,
    safe_message,
)
from bot.slack import ids
from bot.slack.serve import socket_mode_handler, wsgi_app
from bot.testing.fake_slack import FakeSlack
from bot.testing.signed_requests import (
    SIGNING_SECRET,
    bolt_request,
    signed_headers,
    view_submission_body,
)
from tests.bot.harness import ADMIN, Harness, build_harness

#: Keys no pattern would recognise, and one shaped like Cursor's.
KEYS = [
    "opaque" + uuid.uuid4().hex + uuid.uuid4().hex,
    "crsr_" + uuid.uuid4().hex + uuid.uuid4().hex,
]


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def debug_bot(
    sqlite_engine: Engine, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> Iterator[Harness]:
    """The app built in a process logging at DEBUG (Bolt copies the root level then)."""
    caplog.set_level(logging.DEBUG)
    harness = build_harness(sqlite_engine, slack)
    yield harness
    harness.close()


def connect_values(key: str) -> dict[str, dict[str, dict[str, Any]]]:
    return {
        ids.CONNECT_KEY_BLOCK: {ids.CONNECT_KEY_INPUT: {"type": "plain_text_input", "value": key}}
    }


def connect_submission(key: str) -> str:
    return view_submission_body(
        ids.CONNECT_VIEW,
        connect_values(key),
        user_id=ADMIN,
        private_metadata=json.dumps({"channel_id": "C1"}),
    )


def logged(caplog: pytest.LogCaptureFixture) -> str:
    return caplog.text + "\n".join(record.getMessage() for record in caplog.records)


@pytest.mark.parametrize("key", KEYS, ids=["opaque", "cursor-shaped"])
def test_a_connect_submission_failing_the_signature_check_logs_neither_key_nor_body(
    debug_bot: Harness, caplog: pytest.LogCaptureFixture, key: str
) -> None:
    body = connect_submission(key)
    # Straight to Bolt (its own check logs the failure), then through the HTTP edge.
    assert debug_bot.app.dispatch(bolt_request(body, secret="rotated-secret")).status == 401
    edge = httpx.Client(
        transport=httpx.WSGITransport(app=wsgi_app(debug_bot.app, signing_secret=SIGNING_SECRET)),
        base_url="http://edge.test",
    )
    for headers in (
        signed_headers(body, secret="rotated-secret"),
        signed_headers(body, timestamp=int(time.time()) - 400),  # clock skew
    ):
        assert edge.post("/slack/events", content=body, headers=headers).status_code == 401
    text = logged(caplog)
    assert "Invalid request signature detected" in text  # the failure is still reported
    assert key not in text
    assert "view_submission" not in text and "payload=" not in text and body[:40] not in text


@pytest.mark.parametrize("key", KEYS, ids=["opaque", "cursor-shaped"])
def test_a_connect_submission_over_http_at_debug_never_logs_its_key(
    debug_bot: Harness, caplog: pytest.LogCaptureFixture, key: str
) -> None:
    body = connect_submission(key)
    edge = httpx.Client(
        transport=httpx.WSGITransport(app=wsgi_app(debug_bot.app, signing_secret=SIGNING_SECRET)),
        base_url="http://edge.test",
    )
    response = edge.post("/slack/events", content=body, headers=signed_headers(body))
    assert response.json()["response_action"] == "errors"  # Cursor refused the key
    assert key not in logged(caplog)


# --- Socket Mode, over a real (tiny) WebSocket server -----------------------------------------

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class OneEnvelopeServer:
    """A WebSocket server on localhost that plays Slack's Socket Mode end for one envelope:
    it sends ``envelope`` once the client has pinged, and keeps the text frames it receives."""

    def __init__(self, envelope: str) -> None:
        self.envelope = envelope
        self.received: list[str] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/link/?ticket=test"

    def _run(self) -> None:
        conn, _ = self.listener.accept()
        conn.settimeout(10)
        with conn:
            request = b""
            while b"\r\n\r\n" not in request:
                request += conn.recv(1024)
            headers = dict(
                line.split(": ", 1) for line in request.decode().split("\r\n")[1:] if ": " in line
            )
            accept = base64.b64encode(
                hashlib.sha1((headers["Sec-WebSocket-Key"] + GUID).encode()).digest()
            ).decode()
            conn.sendall(
                (
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
                ).encode()
            )
            sent = False
            while not self.done.is_set():
                try:
                    opcode, data = self._read_frame(conn)
                except (TimeoutError, OSError):
                    return
                if opcode == 0x9:  # ping: answer, then it is our turn to talk
                    conn.sendall(self._frame(0xA, data))
                    if not sent:
                        conn.sendall(self._frame(0x1, self.envelope.encode()))
                        sent = True
                elif opcode == 0x1:
                    self.received.append(data.decode())
                elif opcode == 0x8:
                    return

    @staticmethod
    def _frame(opcode: int, data: bytes) -> bytes:
        head = bytes([0x80 | opcode])
        if len(data) < 126:
            return head + bytes([len(data)]) + data
        if len(data) < 65536:
            return head + bytes([126]) + struct.pack("!H", len(data)) + data
        return head + bytes([127]) + struct.pack("!Q", len(data)) + data

    @staticmethod
    def _read_frame(conn: socket.socket) -> tuple[int, bytes]:
        def exact(n: int) -> bytes:
            out = b""
            while len(out) < n:
                chunk = conn.recv(n - len(out))
                if not chunk:
                    raise OSError("closed")
                out += chunk
            return out

        first, second = exact(2)
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", exact(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", exact(8))
        mask = exact(4) if second & 0x80 else b"\0\0\0\0"
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(exact(length)))
        return first & 0x0F, data

    def wait_for_reply(self, timeout: float = 15.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for text in self.received:
                message = json.loads(text)
                if message.get("envelope_id") == "env-1":
                    return dict(message)
            time.sleep(0.02)
        raise AssertionError(f"no acknowledgement; frames: {self.received}")

    def close(self) -> None:
        self.done.set()
        self.listener.close()


@pytest.mark.parametrize("key", KEYS, ids=["opaque", "cursor-shaped"])
def test_a_connect_submission_in_socket_mode_at_debug_never_logs_its_key(
    debug_bot: Harness, caplog: pytest.LogCaptureFixture, key: str
) -> None:
    payload = json.loads(parse_qs(connect_submission(key))["payload"][0])
    envelope = json.dumps(
        {
            "envelope_id": "env-1",
            "type": "interactive",
            "accepts_response_payload": True,
            "payload": payload,
        }
    )
    server = OneEnvelopeServer(envelope)
    handler = socket_mode_handler(debug_bot.app, app_token="xapp-1-test")
    handler.client.wss_uri = server.url
    try:
        handler.connect()  # type: ignore[no-untyped-call]
        reply = server.wait_for_reply()
    finally:
        handler.close()  # type: ignore[no-untyped-call]
        server.close()
    assert reply["payload"]["response_action"] == "errors"  # the envelope was handled
    assert "A new session has been established" in caplog.text  # the client did log
    assert key not in logged(caplog)
    assert "view_submission" not in logged(caplog)


# --- the policy itself -----------------------------------------------------------------------


def test_third_party_debug_lines_are_dropped_whatever_the_level(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    logger = logging.getLogger("slack_sdk.socket_mode.builtin.client.test_probe")
    logger.setLevel(logging.DEBUG)
    protect_logging()
    assert logger.getEffectiveLevel() >= logging.INFO
    logger.setLevel(logging.DEBUG)  # lowered again after the policy: the filter still holds
    logger.debug("on_message invoked: (message: secret envelope)")
    assert "secret envelope" not in caplog.text


def test_a_third_party_line_keeps_its_words_up_to_the_body() -> None:
    line = "Invalid request signature detected (signature: v0=ab, timestamp: 1, body: a=b&c=d)"
    assert safe_message(line, third_party=True) == (
        "Invalid request signature detected (signature: v0=ab, timestamp: 1, body: [withheld]"
    )
    line = "Unhandled request ({'type': 'block_suggestion', 'value': 'typed text'})"
    assert "typed text" not in safe_message(line, third_party=True)


def test_our_lines_are_kept_but_keys_are_redacted_and_length_is_capped() -> None:
    key = "crsr_" + "a" * 40
    assert safe_message(f"connected with {key}", third_party=False) == ("connected with [redacted]")
    assert safe_message("sync of connection 3: 12 events", third_party=False) == (
        "sync of connection 3: 12 events"
    )
    huge = safe_message("x" * 1_000_000, third_party=False)
    assert len(huge) < MAX_MESSAGE_CHARS + 100 and huge.endswith("characters withheld]")


def test_a_record_with_bad_arguments_is_left_for_the_handler_to_report() -> None:
    record = logging.LogRecord("bot.x", logging.INFO, __file__, 1, "%d", ("nan",), None)
    assert LogSafetyFilter().filter(record)
    assert record.args == ("nan",)


def test_a_logged_traceback_carries_no_key_and_no_database_row_detail() -> None:
    """Exception text is formatted after a filter runs: the filter formats and cleans it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(LogSafetyFilter())
    log = logging.getLogger("stackspend.test.traceback")
    log.addHandler(handler)
    key = "crsr_" + "7" * 64
    try:
        raise RuntimeError(
            f"duplicate key with {key}\nDETAIL:  Key (email)=(someone@example.com) already exists."
        )
    except RuntimeError:
        log.exception("the sync failed")
    finally:
        log.removeHandler(handler)
    text = stream.getvalue()
    assert "the sync failed" in text and "RuntimeError" in text
    assert key not in text and "someone@example.com" not in text


# --- JSON lines (STACKSPEND_LOG_FORMAT=json) --------------------------------------------------


@pytest.fixture
def json_lines(caplog: pytest.LogCaptureFixture) -> Iterator[io.StringIO]:
    """A root handler writing JSON lines, as ``configure_logging(level, "json")`` sets one up."""
    caplog.set_level(logging.INFO)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter("json"))
    handler.addFilter(ContextFilter())
    handler.addFilter(LogSafetyFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    with log_context.detached():
        yield stream
    root.removeHandler(handler)


def parsed(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


@pytest.mark.parametrize("key", KEYS, ids=["opaque", "cursor-shaped"])
def test_json_lines_of_a_connect_submission_at_debug_carry_no_key_body_or_modal_value(
    debug_bot: Harness, json_lines: io.StringIO, key: str
) -> None:
    body = connect_submission(key)
    edge = httpx.Client(
        transport=httpx.WSGITransport(app=wsgi_app(debug_bot.app, signing_secret=SIGNING_SECRET)),
        base_url="http://edge.test",
    )
    assert edge.post("/slack/events", content=body, headers=signed_headers(body)).status_code == 200
    assert debug_bot.app.dispatch(bolt_request(body, secret="rotated-secret")).status == 401
    text = json_lines.getvalue()
    lines = parsed(json_lines)
    assert lines, "nothing was logged"
    assert any("Invalid request signature" in line["message"] for line in lines)
    assert key not in text and "view_submission" not in text and body[:40] not in text
    for line in lines:
        assert set(line) <= JSON_FIELDS
        assert {"time", "level", "logger", "message"} <= set(line)


def test_json_lines_drop_fields_a_library_attaches_and_clean_tracebacks(
    json_lines: io.StringIO,
) -> None:
    key = "crsr_" + "9" * 64
    logging.getLogger("slack_bolt.test_probe").warning(
        "request failed", extra={"body": f"payload with {key}", "values": "modal text"}
    )
    error = RuntimeError(f"duplicate key {key}\nDETAIL:  Key (email)=(someone@example.com).")
    try:
        raise error
    except RuntimeError:
        logging.getLogger("ledger.sync").exception("the sync failed")
    text = json_lines.getvalue()
    first, second = parsed(json_lines)
    assert first["message"] == "request failed" and "body" not in first
    assert second["message"] == "the sync failed" and "RuntimeError" in second["exc_info"]
    assert key not in text and "modal text" not in text and "someone@example.com" not in text


def test_json_lines_carry_the_ids_of_the_work_in_hand(json_lines: io.StringIO) -> None:
    with log_context.request_scope("req-1"):
        log_context.bind_request(team_id="T1", user_id="U1")
        logging.getLogger("bot.test").info("answered")
    with log_context.job_scope("sync:7", connection_id=7):
        logging.getLogger("bot.test").info("synced")
    logging.getLogger("bot.test").info("idle")
    answered, synced, idle = parsed(json_lines)
    assert (answered["team_id"], answered["user_id"], answered["request_id"]) == (
        "T1",
        "U1",
        "req-1",
    )
    assert (synced["job_id"], synced["connection_id"]) == ("sync:7", "7")
    assert "team_id" not in synced and "request_id" not in synced
    assert not set(idle) & set(log_context.FIELDS)
