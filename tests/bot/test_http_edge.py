"""The HTTP edge in front of Bolt (bot.slack.serve.wsgi_app): size cap, signature pre-check,
replays answered once, and form bodies parsed by their fields. Requests go through the WSGI
app in-process to the real Bolt app of the harness (real ledger, fake Slack)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse

from bot.slack import ids
from bot.slack.edge import MAX_BODY_BYTES, EdgeRequest, ReplayGuard
from bot.slack.serve import wsgi_app
from bot.testing.signed_requests import (
    SIGNING_SECRET,
    block_actions_body,
    signed_headers,
    slash_command_body,
    view_submission_body,
)
from tests.bot.harness import ADMIN, Harness


class Dispatches:
    """Counts what reaches Bolt's dispatch."""

    def __init__(self, bot: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
        self.requests: list[BoltRequest] = []
        real = bot.app.dispatch

        def counted(req: BoltRequest) -> BoltResponse:
            self.requests.append(req)
            return real(req)

        monkeypatch.setattr(bot.app, "dispatch", counted)


@pytest.fixture
def dispatches(bot: Harness, monkeypatch: pytest.MonkeyPatch) -> Dispatches:
    return Dispatches(bot, monkeypatch)


@pytest.fixture
def edge(bot: Harness, dispatches: Dispatches) -> Iterator[httpx.Client]:
    with httpx.Client(
        transport=httpx.WSGITransport(app=wsgi_app(bot.app, signing_secret=SIGNING_SECRET)),
        base_url="http://edge.test",
    ) as client:
        yield client


class CountingStream:
    """A ``wsgi.input`` of ``size`` bytes that counts what is read from it."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.read_bytes = 0

    def read(self, n: int = -1) -> bytes:
        left = self.size - self.read_bytes
        n = left if n < 0 else min(n, left)
        self.read_bytes += n
        return b"x" * n


def call(app: Any, environ: dict[str, Any]) -> tuple[str, bytes]:
    seen: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        seen.append(status)

    body = b"".join(app(environ, start_response))
    return seen[0], body


def post_environ(stream: Any, headers: dict[str, str], length: int | None) -> dict[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/slack/events",
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.input": stream,
    }
    if length is not None:
        environ["CONTENT_LENGTH"] = str(length)
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        environ[key if key == "CONTENT_TYPE" else "HTTP_" + key] = value
    return environ


def command_body(bot: Harness, text: str, key: str) -> str:
    return slash_command_body(text, user_id=ADMIN, response_url=bot.slack.response_url(key))


def replies(bot: Harness, key: str) -> list[Any]:
    return [c for c in bot.slack.calls_to("response_url") if c.params.get("_key") == key]


# --- size ------------------------------------------------------------------------------------


def test_a_body_over_one_mib_is_refused_413_by_its_length_without_being_read(
    bot: Harness, dispatches: Dispatches
) -> None:
    stream = CountingStream(50 * 1024 * 1024)
    headers = signed_headers("x")  # the headers do not matter: size is checked first
    status, _ = call(
        wsgi_app(bot.app, signing_secret=SIGNING_SECRET),
        post_environ(stream, headers, stream.size),
    )
    assert status.startswith("413")
    assert stream.read_bytes == 0
    assert dispatches.requests == []


def test_a_body_without_a_length_is_read_no_further_than_one_mib_and_refused_413(
    bot: Harness, dispatches: Dispatches
) -> None:
    stream = CountingStream(50 * 1024 * 1024)
    status, _ = call(
        wsgi_app(bot.app, signing_secret=SIGNING_SECRET),
        post_environ(stream, signed_headers("x"), None),
    )
    assert status.startswith("413")
    assert stream.read_bytes == MAX_BODY_BYTES + 1
    assert dispatches.requests == []


def test_a_body_of_exactly_one_mib_is_still_let_through(
    bot: Harness, edge: httpx.Client, dispatches: Dispatches
) -> None:
    body = command_body(bot, "help", "big")
    body += "&pad=" + "x" * (MAX_BODY_BYTES - len(body) - len("&pad="))
    assert len(body) == MAX_BODY_BYTES
    response = edge.post("/slack/events", content=body, headers=signed_headers(body))
    assert response.status_code == 200
    assert len(dispatches.requests) == 1


# --- signature headers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "drop", ["x-slack-request-timestamp", "x-slack-signature", "both"], ids=str
)
def test_a_request_without_signature_headers_is_refused_401_before_its_body_is_read(
    bot: Harness, dispatches: Dispatches, drop: str
) -> None:
    body = slash_command_body("help").encode()
    headers = signed_headers(body.decode())
    for name in ("x-slack-request-timestamp", "x-slack-signature"):
        if drop in (name, "both"):
            del headers[name]
    stream = CountingStream(len(body))
    status, answer = call(
        wsgi_app(bot.app, signing_secret=SIGNING_SECRET),
        post_environ(stream, headers, len(body)),
    )
    assert status.startswith("401")
    assert json.loads(answer) == {"error": "invalid request"}
    assert stream.read_bytes == 0
    assert dispatches.requests == []


@pytest.mark.parametrize("skew", [-301, 301, None], ids=["old", "future", "not-a-number"])
def test_a_request_signed_outside_the_five_minute_window_is_refused_401_before_its_body_is_read(
    bot: Harness, dispatches: Dispatches, skew: int | None
) -> None:
    body = slash_command_body("help")
    headers = signed_headers(body, timestamp=int(time.time()) + (skew or 0))
    if skew is None:
        headers["x-slack-request-timestamp"] = "soon"
    stream = CountingStream(len(body))
    status, _ = call(
        wsgi_app(bot.app, signing_secret=SIGNING_SECRET),
        post_environ(stream, headers, len(body)),
    )
    assert status.startswith("401")
    assert stream.read_bytes == 0
    assert dispatches.requests == []


def test_a_forged_signature_with_fresh_headers_is_still_refused_401_by_bolt(
    bot: Harness, edge: httpx.Client
) -> None:
    body = command_body(bot, "help", "forged")
    response = edge.post("/slack/events", content=body, headers=signed_headers(body, secret="x"))
    assert response.status_code == 401
    time.sleep(0.2)
    assert replies(bot, "forged") == []


# --- replays ---------------------------------------------------------------------------------


def test_a_signed_request_replayed_inside_the_window_is_dispatched_once(
    bot: Harness, edge: httpx.Client, dispatches: Dispatches
) -> None:
    body = command_body(bot, "cursor 7d", "replayed")
    headers = signed_headers(body)
    first = edge.post("/slack/events", content=body, headers=headers)
    again = edge.post("/slack/events", content=body, headers=headers)
    assert first.status_code == 200
    assert again.status_code == 200 and again.content == b""
    assert len(dispatches.requests) == 1
    bot.replies("replayed")
    time.sleep(0.3)
    assert len(replies(bot, "replayed")) == 1


def test_unsigned_requests_cannot_push_a_real_one_out_of_the_replay_guard(
    bot: Harness, dispatches: Dispatches
) -> None:
    """Bolt answers an `ssl_check` body without checking its signature: the edge checks it
    first, so a flood of them never takes a place in the guard."""
    guard = ReplayGuard(capacity=5)
    app = wsgi_app(bot.app, signing_secret=SIGNING_SECRET, replays=guard)
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://e") as edge:
        body = command_body(bot, "help", "real")
        headers = signed_headers(body)
        assert edge.post("/slack/events", content=body, headers=headers).status_code == 200
        for n in range(20):
            flood = f"ssl_check=1&token=x{n}"
            forged = {**signed_headers(flood), "X-Slack-Signature": "v0=" + "0" * 64}
            assert edge.post("/slack/events", content=flood, headers=forged).status_code == 401
        assert len(guard) == 1
        again = edge.post("/slack/events", content=body, headers=headers)
    assert again.status_code == 200 and again.content == b""
    assert len(dispatches.requests) == 1


def test_the_same_request_signed_again_by_slack_is_a_new_request(
    bot: Harness, edge: httpx.Client, dispatches: Dispatches
) -> None:
    body = command_body(bot, "help", "twice")
    now = int(time.time())
    for timestamp in (now - 1, now):
        response = edge.post(
            "/slack/events", content=body, headers=signed_headers(body, timestamp=timestamp)
        )
        assert response.status_code == 200
    assert len(dispatches.requests) == 2


def test_a_forgery_copying_a_real_signature_neither_runs_nor_blocks_the_real_request(
    bot: Harness, edge: httpx.Client, dispatches: Dispatches
) -> None:
    body = command_body(bot, "cursor 7d", "genuine")
    headers = signed_headers(body)
    forged = edge.post("/slack/events", content=body + "&x=1", headers=headers)
    assert forged.status_code == 401
    genuine = edge.post("/slack/events", content=body, headers=headers)
    assert genuine.status_code == 200
    assert len(bot.replies("genuine")) == 1
    assert len(dispatches.requests) == 1  # the forgery was refused at the edge


def test_a_request_refused_by_bolt_is_forgotten_by_the_replay_guard() -> None:
    guard = ReplayGuard(clock=lambda: 1_000.0)
    key = ReplayGuard.key("1000", "v0=abc", b"body")
    assert guard.claim(key, 1000)
    guard.release(key)
    assert guard.claim(key, 1000)


def test_the_replay_guard_forgets_requests_once_they_leave_the_window_and_stays_bounded() -> None:
    now = [1_000.0]
    guard = ReplayGuard(capacity=3, clock=lambda: now[0])
    keys = [ReplayGuard.key("1000", f"v0={i}", b"") for i in range(5)]
    assert guard.claim(keys[0], 1000)
    assert not guard.claim(keys[0], 1000)
    for key in keys[1:]:
        assert guard.claim(key, 1000)
    assert len(guard) == 3  # bounded: the oldest went first
    now[0] = 1000 + 301 + 1
    assert guard.claim(ReplayGuard.key("1302", "v0=new", b""), 1302)
    assert len(guard) == 1  # expired entries are gone


# --- parsing ---------------------------------------------------------------------------------


def answer_text(bot: Harness, response: httpx.Response, key: str) -> str:
    """What the user sees: the acknowledgement's text, or the reply on the response URL."""
    if response.content:
        return str(response.json().get("text", ""))
    return bot.reply_text(key)


@pytest.mark.parametrize(
    "text", ["cursor payload", "payload", "cursor payload=1", "cursor 7d payload={}", "cursor 7d"]
)
def test_spend_text_containing_payload_is_answered_by_the_command_listener(
    bot: Harness, edge: httpx.Client, dispatches: Dispatches, text: str
) -> None:
    key = "k" + str(len(text))
    body = command_body(bot, text, key)
    response = edge.post("/slack/events", content=body, headers=signed_headers(body))
    assert response.status_code == 200
    (request,) = dispatches.requests
    assert request.body["command"] == "/spend" and request.body["text"] == text
    assert request.context["team_id"] == "T1" and request.context["user_id"] == ADMIN
    assert "/spend" in answer_text(bot, response, key)


def test_interactivity_payloads_still_parse_as_payloads_at_the_edge(
    bot: Harness, edge: httpx.Client
) -> None:
    values = {
        ids.CONNECT_KEY_BLOCK: {
            ids.CONNECT_KEY_INPUT: {"type": "plain_text_input", "value": "two words"}
        }
    }
    body = view_submission_body(
        ids.CONNECT_VIEW, values, user_id=ADMIN, private_metadata=json.dumps({"channel_id": "C1"})
    )
    response = edge.post("/slack/events", content=body, headers=signed_headers(body))
    assert response.status_code == 200
    assert response.json()["response_action"] == "errors"
    click = block_actions_body("quick_me_cycle", "cursor", user_id=ADMIN)
    assert edge.post("/slack/events", content=click, headers=signed_headers(click)).is_success


@pytest.mark.parametrize("body", ["payload=not-json", "payload=%5B1%5D", "{not json", "[1, 2]"])
@pytest.mark.parametrize("signed", [True, False], ids=["signed", "forged"])
def test_a_malformed_body_is_never_answered_with_a_5xx(
    edge: httpx.Client, body: str, signed: bool
) -> None:
    headers = signed_headers(body, secret="test-signing-secret" if signed else "x")
    response = edge.post("/slack/events", content=body, headers=headers)
    assert response.status_code == (404 if signed else 401)


def test_an_edge_request_copied_for_a_lazy_listener_keeps_its_fields() -> None:
    body = slash_command_body("cursor payload")
    request = EdgeRequest(body=body, headers=signed_headers(body))
    copied = request.to_copyable()
    assert isinstance(copied, EdgeRequest)
    assert copied.body["text"] == "cursor payload" and copied.context["team_id"] == "T1"


def test_health_answers_and_unknown_paths_are_404(edge: httpx.Client) -> None:
    assert edge.get("/healthz").json() == {"ok": True}
    assert edge.get("/nope").status_code == 404
    assert edge.post("/elsewhere", content=b"x").status_code == 404


def test_bolt_alone_still_has_the_payload_quirk(bot: Harness) -> None:
    """Why the edge parses form bodies itself: Bolt's own parser empties this command."""
    body = slash_command_body("cursor payload")
    assert BoltRequest(body=body, headers=signed_headers(body)).body == {}  # type: ignore[arg-type]
