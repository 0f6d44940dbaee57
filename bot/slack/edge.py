"""Reading a request at the HTTP edge: its length, its body within the size cap, its Slack
timestamp, its parsed body (:class:`EdgeRequest`), and the guard against replays.

``serve.py`` puts these together in front of Bolt, in the order its docstring describes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Final
from urllib.parse import parse_qsl

from slack_bolt.request import BoltRequest
from slack_bolt.request.internals import build_context

#: The edge's refusals keep the logger name they had when they were logged from serve.py.
logger = logging.getLogger("bot.slack.serve")

#: Slack's own requests are a few KB; the largest (a view_submission) stays far below this.
MAX_BODY_BYTES: Final = 1024 * 1024
#: Slack's replay window: a timestamp further than this from now is refused.
SIGNATURE_WINDOW_SECONDS: Final = 5 * 60
#: Replay guard entries (~150 bytes each): Slack sends far fewer requests in five minutes.
REPLAY_CAPACITY: Final = 20_000


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


def declared_length(environ: dict[str, Any]) -> int | None:
    raw = environ.get("CONTENT_LENGTH")
    if raw in (None, ""):
        return None
    try:
        return max(int(raw), 0)
    except ValueError:
        return -1


def read_body(environ: dict[str, Any], length: int | None) -> bytes | None:
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


def fresh_timestamp(environ: dict[str, Any], now: float) -> int | None:
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
