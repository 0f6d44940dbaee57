"""Running the app: Socket Mode, or HTTP (`POST /slack/events`, `GET /healthz`) on waitress."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

import waitress
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"

StartResponse = Callable[..., Any]


def wsgi_app(app: App) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    """Bolt's WSGI handler for Slack, plus a health check for load balancers."""
    slack = SlackRequestHandler(app, path=EVENTS_PATH)

    def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH and environ.get("REQUEST_METHOD") == "GET":
            start_response("200 OK", [("Content-Type", "application/json")])
            return [b'{"ok": true}']
        return slack(environ, start_response)

    return application


def serve_http(app: App, *, host: str, port: int, threads: int = 32) -> None:
    logger.info("serving Slack requests on http://%s:%s%s", host, port, EVENTS_PATH)
    waitress.serve(wsgi_app(app), host=host, port=port, threads=threads, ident="stackspend")


def serve_socket_mode(app: App, *, app_token: str) -> None:
    logger.info("connecting to Slack in Socket Mode")
    SocketModeHandler(app, app_token).start()  # type: ignore[no-untyped-call]
