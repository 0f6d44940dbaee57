"""Running the app: Socket Mode, or HTTP (`POST /slack/events`, `GET /healthz`) on waitress.

The HTTP edge in front of Bolt, in order, for `POST /slack/events`:

1. Size: a body over ``MAX_BODY_BYTES`` is refused with 413 before it is read: by its
   Content-Length, or, without one, after reading at most ``MAX_BODY_BYTES + 1`` bytes.
   waitress is given the same limit, so under `stackspend serve --http` it refuses such a
   request itself: by its Content-Length before reading the body, a chunked one as soon as
   1 MiB has arrived.
2. Signature headers: without ``X-Slack-Request-Timestamp`` and ``X-Slack-Signature``, or
   with a timestamp outside Slack's five-minute window, 401 before the body is read.
3. Replays: a request whose timestamp, signature and body were already taken inside the
   window is answered 200 with an empty body and not dispatched (:class:`ReplayGuard`). A
   request Bolt then refuses (401) is forgotten again, so a forgery that copies a real
   signature neither runs nor shadows the real request.
4. Parsing: bodies are parsed by :func:`parse_slack_body`, which looks for a ``payload``
   field where Bolt's parser looks for the text "payload" (so ``/spend cursor payload``
   reached no listener and got a 404), and which reads a malformed body as empty where
   Bolt's raised (a 500).

Bolt then verifies the signature on the raw body as before (401 when it fails).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any, Final
from urllib.parse import parse_qsl

import waitress
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.adapter.wsgi.http_response import WsgiHttpResponse
from slack_bolt.request import BoltRequest
from slack_bolt.request.internals import build_context
from slack_sdk.signature import Clock, SignatureVerifier

from bot.log_safety import protect_logging

logger = logging.getLogger(__name__)

EVENTS_PATH: Final = "/slack/events"
HEALTH_PATH: Final = "/healthz"
#: Slack's own requests are a few KB; the largest (a view_submission) stays far below this.
MAX_BODY_BYTES: Final = 1024 * 1024
#: Slack's replay window: a timestamp further than this from now is refused.
SIGNATURE_WINDOW_SECONDS: Final = 5 * 60
#: Replay guard entries (~150 bytes each): Slack sends far fewer requests in five minutes.
REPLAY_CAPACITY: Final = 20_000

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def parse_slack_body(raw: str, content_type: str | None) -> dict[str, Any]:
    """A Slack request body as Bolt expects it: JSON (Events API), the JSON in the
    ``payload`` field (interactivity), or the form fields (slash commands).

    Unlike Bolt's parser it looks for a ``payload`` *field*, not the text "payload", and a
    body it cannot read is empty (Bolt raised, and the request became a 500), so that the
    signature check still has the last word on it.
    """
    if not raw:
        return {}
    try:
        if content_type == "application/json" or raw.startswith("{"):
            parsed = json.loads(raw)
        else:
            fields = dict(parse_qsl(raw, keep_blank_values=True))
            parsed = json.loads(fields["payload"]) if "payload" in fields else fields
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


class EdgeRequest(BoltRequest):
    """A ``BoltRequest`` (HTTP mode) whose body is read by :func:`parse_slack_body`.

    Bolt parses any form body that merely contains the text "payload" as an interactivity
    payload and, finding no such field, as an empty body: ``/spend cursor payload`` then
    matched no listener and got a 404.
    """

    def __init__(
        self,
        *,
        body: str | dict[str, Any],
        query: str | dict[str, str] | dict[str, Any] | None = None,
        headers: dict[str, Any] | None = None,
        context: dict[str, Any] | None = None,
        mode: str = "http",
    ) -> None:
        if mode != "http" or not isinstance(body, str):
            super().__init__(body=body, query=query, headers=headers, context=context, mode=mode)
            return
        super().__init__(body="", query=query, headers=headers, context=context, mode=mode)
        self.raw_body = body
        self.body = parse_slack_body(body, self.content_type)
        self.context = build_context(self.context, self.body)

    def to_copyable(self) -> EdgeRequest:
        return EdgeRequest(
            body=self.raw_body if self.mode == "http" else self.body,
            query=self.query,
            headers=self.headers,
            context=self.context.to_copyable(),
            mode=self.mode,
        )


class ReplayGuard:
    """Signed requests already taken inside Slack's five-minute window, in this process.

    Each entry is a digest of (timestamp, signature, body) and lives until its timestamp
    leaves the window, after which the edge refuses the request as stale anyway. The set is
    bounded by ``capacity``: past it the oldest entry is dropped (that request could then be
    replayed once more). It is per process: behind several replicas a replay can reach
    another one, where the database's dedupe keys still hold for work that must run once.
    """

    def __init__(
        self,
        *,
        window_seconds: int = SIGNATURE_WINDOW_SECONDS,
        capacity: int = REPLAY_CAPACITY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.window_seconds = window_seconds
        self.capacity = capacity
        self.clock = clock
        self._seen: OrderedDict[bytes, float] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(timestamp: str, signature: str, body: bytes) -> bytes:
        digest = hashlib.sha256(f"{timestamp}:{signature}:".encode())
        digest.update(body)
        return digest.digest()

    def claim(self, key: bytes, timestamp: int) -> bool:
        """True the first time ``key`` is seen inside the window, False for a replay."""
        now = self.clock()
        with self._lock:
            while self._seen:
                oldest, expires = next(iter(self._seen.items()))
                if expires >= now and len(self._seen) < self.capacity:
                    break
                del self._seen[oldest]
            if key in self._seen:
                return False
            self._seen[key] = timestamp + self.window_seconds + 1
            return True

    def release(self, key: bytes) -> None:
        """Forget ``key`` (its request failed Bolt's signature check: not a Slack request)."""
        with self._lock:
            self._seen.pop(key, None)

    def __len__(self) -> int:
        return len(self._seen)


class _Clock(Clock):
    """The edge's clock, as slack_sdk's verifier asks for it."""

    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now

    def now(self) -> float:
        return self._now()


def _json_response(
    start_response: StartResponse, status: str, payload: dict[str, Any]
) -> list[bytes]:
    body = json.dumps(payload).encode()
    start_response(
        status,
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]


def _declared_length(environ: dict[str, Any]) -> int | None:
    raw = environ.get("CONTENT_LENGTH")
    if raw in (None, ""):
        return None
    try:
        return max(int(raw), 0)
    except ValueError:
        return -1


def _read_body(environ: dict[str, Any], length: int | None) -> bytes | None:
    """The body, or None when it is larger than ``MAX_BODY_BYTES`` (never read past that)."""
    stream = environ.get("wsgi.input")
    if stream is None or length == 0:
        return b""
    want = MAX_BODY_BYTES + 1 if length is None else length
    chunks: list[bytes] = []
    got = 0
    while got < want:
        chunk = stream.read(min(want - got, 64 * 1024))
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    body = b"".join(chunks)
    return None if len(body) > MAX_BODY_BYTES else body


def _fresh_timestamp(environ: dict[str, Any], now: float) -> int | None:
    """The request's Slack timestamp when both signature headers are there and it is fresh."""
    raw = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
    if not environ.get("HTTP_X_SLACK_SIGNATURE") or not raw.isdigit():
        logger.info("refused a request without Slack's signature headers (401)")
        return None
    timestamp = int(raw)
    if abs(now - timestamp) > SIGNATURE_WINDOW_SECONDS:
        logger.info(
            "refused a request signed %+d s from now (401): outside Slack's five minutes; "
            "if Slack's own requests get this, check this host's clock",
            timestamp - int(now),
        )
        return None
    return timestamp


def wsgi_app(
    app: App,
    *,
    signing_secret: str,
    replays: ReplayGuard | None = None,
    clock: Callable[[], float] = time.time,
) -> WsgiApp:
    """Bolt behind the edge checks above, plus a health check for load balancers."""
    protect_logging()
    slack = SlackRequestHandler(app, path=EVENTS_PATH)
    guard = replays if replays is not None else ReplayGuard(clock=clock)
    verifier = SignatureVerifier(signing_secret, clock=_Clock(clock))

    def events(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        length = _declared_length(environ)
        if length is not None and length < 0:
            return _json_response(start_response, "400 Bad Request", {"error": "bad length"})
        if length is not None and length > MAX_BODY_BYTES:
            logger.info("refused a %d-byte request body (413)", length)
            return _json_response(start_response, "413 Payload Too Large", {"error": "too large"})
        timestamp = _fresh_timestamp(environ, clock())
        if timestamp is None:
            return _json_response(start_response, "401 Unauthorized", {"error": "invalid request"})
        raw = _read_body(environ, length)
        if raw is None:
            logger.info("refused a request body over %d bytes (413)", MAX_BODY_BYTES)
            return _json_response(start_response, "413 Payload Too Large", {"error": "too large"})
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            return _json_response(start_response, "400 Bad Request", {"error": "not utf-8"})
        signature = environ["HTTP_X_SLACK_SIGNATURE"]
        if not verifier.is_valid(body=raw, timestamp=str(timestamp), signature=signature):
            # Checked here, before the replay guard takes a place: requests Bolt would let
            # through unsigned (ssl_check) could otherwise push real ones out of it.
            logger.info("refused a request whose signature does not match (401)")
            return _json_response(start_response, "401 Unauthorized", {"error": "invalid request"})
        key = ReplayGuard.key(str(timestamp), signature, raw)
        if not guard.claim(key, timestamp):
            start_response("200 OK", [("Content-Length", "0")])
            return [b""]
        request = WsgiHttpRequest(environ)
        response = app.dispatch(
            EdgeRequest(body=body, query=request.query_string, headers=request.get_headers())
        )
        if response.status == 401:
            guard.release(key)
        answer = WsgiHttpResponse(
            status=response.status, headers=response.headers, body=response.body
        )
        start_response(answer.status, answer.get_headers())
        return answer.get_body()

    def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method, path = environ.get("REQUEST_METHOD"), environ.get("PATH_INFO")
        if path == HEALTH_PATH and method == "GET":
            start_response("200 OK", [("Content-Type", "application/json")])
            return [b'{"ok": true}']
        if path == EVENTS_PATH and method == "POST":
            return events(environ, start_response)
        return slack(environ, start_response)

    return application


def serve_http(app: App, *, signing_secret: str, host: str, port: int, threads: int = 32) -> None:
    """Serve until SIGTERM or Ctrl-C; the listening socket is closed on the way out, so a
    load balancer sees refusals (not time-outs) while the process finishes stopping."""
    protect_logging()
    server = waitress.create_server(
        wsgi_app(app, signing_secret=signing_secret),
        host=host,
        port=port,
        threads=threads,
        ident="stackspend",
        # waitress refuses a body of this size or more (>=), so one byte over ours.
        max_request_body_size=MAX_BODY_BYTES + 1,
    )
    logger.info("serving Slack requests on http://%s:%s%s", host, port, EVENTS_PATH)
    try:
        server.run()  # returns after SIGTERM or Ctrl-C, requests in progress finished
    finally:
        server.close()


def socket_mode_handler(app: App, *, app_token: str) -> SocketModeHandler:
    """Bolt's Socket Mode handler, its client's logger (the app's) under the log policy."""
    handler = SocketModeHandler(app, app_token)
    protect_logging()
    return handler


def serve_socket_mode(app: App, *, app_token: str) -> None:
    logger.info("connecting to Slack in Socket Mode")
    socket_mode_handler(app, app_token=app_token).start()  # type: ignore[no-untyped-call]
