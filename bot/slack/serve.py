"""Running the app: Socket Mode, or HTTP on waitress: `POST /slack/events`, `GET /healthz`
(the process answers), `GET /readyz` (it may take traffic: ``bot.readiness``) and
`GET /metrics` (Prometheus: ``bot.metrics_export``).

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

The request reading, :class:`ReplayGuard` and :class:`EdgeRequest` live in ``edge.py``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import waitress
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.adapter.wsgi.http_response import WsgiHttpResponse
from slack_sdk.signature import Clock, SignatureVerifier

from bot import log_context
from bot.log_safety import protect_logging
from bot.metrics_export import exposition
from bot.readiness import Check, assess
from bot.slack.edge import (
    MAX_BODY_BYTES,
    EdgeRequest,
    ReplayGuard,
    declared_length,
    fresh_timestamp,
    read_body,
)

logger = logging.getLogger(__name__)

EVENTS_PATH: Final = "/slack/events"
HEALTH_PATH: Final = "/healthz"
READY_PATH: Final = "/readyz"
METRICS_PATH: Final = "/metrics"
StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


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


def _ready(checks: Mapping[str, Check], start_response: StartResponse) -> list[bytes]:
    """200 when every readiness check passes, else 503; the JSON names each check."""
    verdict = assess(checks)
    return _json_response(start_response, verdict.status, verdict.payload())


def _metrics(scrape: Callable[[], tuple[bytes, str]], start_response: StartResponse) -> list[bytes]:
    body, content_type = scrape()
    start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


@dataclass(frozen=True)
class _Signed:
    """A request whose size, timestamp and signature passed the edge checks."""

    timestamp: int
    signature: str
    raw: bytes
    body: str


def _unauthorized(start_response: StartResponse) -> list[bytes]:
    return _json_response(start_response, "401 Unauthorized", {"error": "invalid request"})


def _too_large(start_response: StartResponse) -> list[bytes]:
    return _json_response(start_response, "413 Payload Too Large", {"error": "too large"})


def _length_refusal(length: int | None, start_response: StartResponse) -> list[bytes] | None:
    """400 for a negative Content-Length, 413 for one over the cap, else None."""
    if length is not None and length < 0:
        return _json_response(start_response, "400 Bad Request", {"error": "bad length"})
    if length is not None and length > MAX_BODY_BYTES:
        logger.info("refused a %d-byte request body (413)", length)
        return _too_large(start_response)
    return None


@dataclass(frozen=True)
class _EdgeApp:
    """The WSGI app: probes and metrics, the edge checks on Slack events, Bolt for the rest."""

    app: App
    slack: SlackRequestHandler
    guard: ReplayGuard
    verifier: SignatureVerifier
    clock: Callable[[], float]
    readiness: Mapping[str, Check]
    scrape: Callable[[], tuple[bytes, str]]

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        with log_context.request_scope():  # this request's id, none of the thread's last one
            return self._route(environ, start_response)

    def _route(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method, path = environ.get("REQUEST_METHOD"), environ.get("PATH_INFO")
        if method == "GET" and path == HEALTH_PATH:
            start_response("200 OK", [("Content-Type", "application/json")])
            return [b'{"ok": true}']
        if method == "GET" and path == READY_PATH:
            return _ready(self.readiness, start_response)
        if method == "GET" and path == METRICS_PATH:
            return _metrics(self.scrape, start_response)
        if path == EVENTS_PATH and method == "POST":
            return self._events(environ, start_response)
        return self.slack(environ, start_response)

    def _events(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        signed = self._signed(environ, start_response)
        if isinstance(signed, list):
            return signed
        return self._dispatch(environ, start_response, signed)

    def _signed(
        self, environ: dict[str, Any], start_response: StartResponse
    ) -> _Signed | list[bytes]:
        """The checked request, or the refusal already started."""
        length = declared_length(environ)
        refusal = _length_refusal(length, start_response)
        if refusal is not None:
            return refusal
        timestamp = fresh_timestamp(environ, self.clock())
        if timestamp is None:
            return _unauthorized(start_response)
        raw = read_body(environ, length)
        if raw is None:
            logger.info("refused a request body over %d bytes (413)", MAX_BODY_BYTES)
            return _too_large(start_response)
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            return _json_response(start_response, "400 Bad Request", {"error": "not utf-8"})
        signature = environ["HTTP_X_SLACK_SIGNATURE"]
        if not self.verifier.is_valid(body=raw, timestamp=str(timestamp), signature=signature):
            # Checked here, before the replay guard takes a place: requests Bolt would let
            # through unsigned (ssl_check) could otherwise push real ones out of it.
            logger.info("refused a request whose signature does not match (401)")
            return _unauthorized(start_response)
        return _Signed(timestamp=timestamp, signature=signature, raw=raw, body=body)

    def _dispatch(
        self, environ: dict[str, Any], start_response: StartResponse, signed: _Signed
    ) -> Iterable[bytes]:
        """Bolt answers a request seen for the first time; a replay gets an empty 200."""
        key = ReplayGuard.key(str(signed.timestamp), signed.signature, signed.raw)
        if not self.guard.claim(key, signed.timestamp):
            start_response("200 OK", [("Content-Length", "0")])
            return [b""]
        request = WsgiHttpRequest(environ)
        response = self.app.dispatch(
            EdgeRequest(body=signed.body, query=request.query_string, headers=request.get_headers())
        )
        if response.status == 401:
            self.guard.release(key)
        answer = WsgiHttpResponse(
            status=response.status, headers=response.headers, body=response.body
        )
        start_response(answer.status, answer.get_headers())
        return answer.get_body()


def wsgi_app(
    app: App,
    *,
    signing_secret: str,
    replays: ReplayGuard | None = None,
    clock: Callable[[], float] = time.time,
    readiness: Mapping[str, Check] | None = None,
    scrape: Callable[[], tuple[bytes, str]] = exposition,
) -> WsgiApp:
    """Bolt behind the edge checks above, plus probes for load balancers and metrics.

    ``readiness`` names the checks ``/readyz`` runs (none: ready while the process answers)."""
    protect_logging()
    return _EdgeApp(
        app=app,
        slack=SlackRequestHandler(app, path=EVENTS_PATH),
        guard=replays if replays is not None else ReplayGuard(clock=clock),
        verifier=SignatureVerifier(signing_secret, clock=_Clock(clock)),
        clock=clock,
        readiness=dict(readiness or {}),
        scrape=scrape,
    )


def serve_http(
    app: App,
    *,
    signing_secret: str,
    host: str,
    port: int,
    threads: int = 32,
    readiness: Mapping[str, Check] | None = None,
) -> None:
    """Serve until SIGTERM or Ctrl-C; the listening socket is closed on the way out, so a
    load balancer sees refusals (not time-outs) while the process finishes stopping."""
    protect_logging()
    server = waitress.create_server(
        wsgi_app(app, signing_secret=signing_secret, readiness=readiness),
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
