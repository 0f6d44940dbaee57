"""An offline Cursor Admin API: a plain WSGI app over a generated team.

Use it in-process with ``httpx.Client(transport=sim.transport())`` or over real HTTP with
:func:`running_server`. It reproduces the behaviour listed in reference section 10: Basic
auth with 401/403 bodies, per-key and per-route fixed-window rate limits with an optional
``Retry-After``, range caps, retention, hourly lag, each route's pagination envelope and the
field quirks of the wire format. Faults (forced statuses, malformed bodies, delays, key
revocation, a server that drips its answers, pages that never end, huge pages; see
:mod:`sim_faults`) are switched on through :class:`Faults` or, for a server in another
process, ``POST /_simulator/faults``.

Ground truth for tests (:meth:`CursorSimulator.wire_events`,
:meth:`CursorSimulator.charged_cents`) is computed from exactly the values the API emits:
``Decimal(repr(chargedCents))`` per event, or in legacy mode
``Decimal(totalCents) * (1 - discount/100) + Decimal(cursorTokenFee)``, which is all such a
payload lets a client compute. ``/teams/spend`` sums the same floats with ``math.fsum``, so a
member's Decimal sum and their ``overallSpendCents`` differ by float rounding only (< 1e-6).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from socketserver import ThreadingMixIn
from typing import Any, Literal
from urllib.parse import parse_qsl
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.types import StartResponse, WSGIEnvironment

import httpx

from connectors.cursor import sim_group_routes, sim_routes
from connectors.cursor.endpoints import (
    DAILY_USAGE,
    GROUPS,
    MEMBERS,
    SPEND,
    USAGE_EVENTS,
    USER_SPEND_LIMIT,
)
from connectors.cursor.sim_daily import daily_payload
from connectors.cursor.sim_faults import (
    Faults,
    PendingFault,
    RateLimiter,
    apply_fault_settings,
    dripped,
    endless,
    error_body,
    padded,
    reason,
)
from connectors.cursor.sim_group_routes import is_groups_path
from connectors.cursor.sim_groups import GroupBook, GroupNotFound, build_groups
from connectors.cursor.sim_limits import LimitRefused, user_spend_limit_payload
from connectors.cursor.sim_routes import BadRequest, Payload, Window, positive_int, render_event
from connectors.cursor.sim_team import (
    DAY_MS,
    DEMO_API_KEY,
    EventStore,
    SimulatorConfig,
    Team,
    build_team,
    cycle_start_at,
    utc_ms,
)
from connectors.records import UNKNOWN_USER

__all__ = [
    "DEMO_API_KEY",
    "CursorSimulator",
    "Faults",
    "SimulatorConfig",
    "running_server",
    "serve_forever",
]

#: "no-enterprise": no Admin API access at all (403 everywhere); "non-enterprise": the Admin
#: API works but the Enterprise-only routes (billing groups, user spend limits) answer 403.
KEY_KINDS = frozenset({"admin", "no-enterprise", "non-enterprise", "analytics"})
ENTERPRISE_ONLY = (GROUPS, USER_SPEND_LIMIT)
CONTROL_PREFIX = "/_simulator/"

Handler = Callable[[Team, Payload, Window], Payload]
_ROUTES: dict[str, tuple[str, Handler]] = {
    MEMBERS: ("GET", lambda team, _body, window: sim_routes.members_payload(team, window.now_ms)),
    USAGE_EVENTS: ("POST", sim_routes.events_payload),
    SPEND: ("POST", sim_routes.spend_payload),
    DAILY_USAGE: ("POST", daily_payload),
    USER_SPEND_LIMIT: ("POST", user_spend_limit_payload),
}

Response = tuple[int, list[tuple[str, str]], bytes]


class CursorSimulator:
    """The Cursor Admin API over a deterministic team; a WSGI application.

    ``clock`` (default: the system clock, UTC) anchors the generated history at construction
    and decides, on every request, what is visible (hourly lag), retained and in the current
    billing cycle; pass a callable over a mutable value to move time in tests. Rate-limit
    windows use the wall clock (``time.time()``) instead, scaled by ``minute_seconds``.
    ``calls`` records (method, path, status) of every API request served; the
    ``/_simulator/`` control routes are not recorded.
    """

    def __init__(
        self,
        config: SimulatorConfig | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.config = config or SimulatorConfig()
        self.faults = Faults()
        self.calls: list[tuple[str, str, int]] = []
        #: Every authenticated API request: which key asked for which route, window and page.
        self.requests: list[SimRequest] = []
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.RLock()
        self._keys = dict(self.config.api_keys)
        self._limiter = RateLimiter()
        self.team = build_team(self.config, self.now())
        self.groups: GroupBook = build_groups(
            self.config.seed,
            self.config.groups,
            self.config.group_share,
            len(self.team.members),
            self.team.anchor_ms - (self.config.days + 1) * DAY_MS,
        )

    # --- clock ------------------------------------------------------------------------

    def now(self) -> datetime:
        moment = self._clock()
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

    def visible_cutoff(self) -> datetime:
        return self._cutoff(self.now())

    def cycle_start(self) -> datetime:
        return cycle_start_at(self.now(), self.config.cycle_anchor_day)

    def _cutoff(self, now: datetime) -> datetime:
        return now.replace(minute=0, second=0, microsecond=0) if self.config.hourly_lag else now

    def _window(self) -> Window:
        now = self.now()
        now_ms = utc_ms(now)
        visible_end = utc_ms(self._cutoff(now)) + (0 if self.config.hourly_lag else 1)
        return Window(
            now_ms=now_ms,
            floor_ms=now_ms - self.config.retention_days * DAY_MS,
            visible_end_ms=visible_end,
            cycle_start_ms=utc_ms(cycle_start_at(now, self.config.cycle_anchor_day)),
        )

    # --- ground truth and mutations ---------------------------------------------------

    def wire_events(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Visible events in [start, end] (inclusive), in wire form, newest first."""
        with self._lock:
            window = self._window()
            lo = max(utc_ms(start), window.floor_ms)
            hi = min(utc_ms(end) + 1, window.visible_end_ms)
            events = self.team.store.span(lo, hi) if lo < hi else []
            members = self.team.members
            return [render_event(e, members[e.member], self.config) for e in reversed(events)]

    def charged_cents(
        self,
        start: datetime,
        end: datetime,
        *,
        by: Literal["total", "user", "model", "kind"] = "total",
    ) -> dict[str, Decimal]:
        """Σ of what the served events charge, as Decimal, grouped by ``by``."""
        totals: dict[str, Decimal] = {}
        for event in self.wire_events(start, end):
            key = {
                "total": "total",
                "user": event.get("userEmail", UNKNOWN_USER),
                "model": event["model"],
                "kind": event["kind"],
            }[by]
            totals[key] = totals.get(key, Decimal(0)) + wire_charge(event)
        return totals

    def revise_event(self, timestamp_ms: int, *, charged_cents: float) -> None:
        """Change the cost of the event at ``timestamp_ms`` (the first, if several share it).

        ``chargedCents`` becomes exactly ``charged_cents``; ``tokenUsage.totalCents`` (and the
        fee, if it would exceed the new charge) are adjusted so that discounted cost + fee
        still equals it. The kind stays as it was. Spend and ground truth follow at once.
        """
        if charged_cents < 0:
            raise ValueError("charged_cents must not be negative")
        with self._lock:
            event = self.team.store.find(timestamp_ms)
            if event is None:
                raise KeyError(f"no event at {timestamp_ms}")
            if event.token_based:
                if event.fee is not None and charged_cents < event.fee:
                    event.fee = charged_cents
                factor = 1 - (event.discount or 0) / 100
                event.total_cents = (charged_cents - (event.fee or 0.0)) / factor
            event.charged = charged_cents

    def remove_member(self, email: str) -> None:
        """Mark a member removed now; their later events vanish, earlier ones stay."""
        with self._lock:
            found = [m for m in self.team.members if m.email.lower() == email.lower()]
            if not found:
                raise KeyError(f"no member with email {email!r}")
            member = found[0]
            now_ms = utc_ms(self.now())
            member.is_removed, member.removed_at_ms = True, now_ms
            kept = [e for e in self.team.store.events if e.member != member.index or e.ts < now_ms]
            self.team.store = EventStore(kept, len(self.team.members))

    def move_to_group(self, email: str, group_name: str | None) -> None:
        """Move a member (now) into the live group named ``group_name`` (None: Unassigned)."""
        with self._lock:
            member = self._member(email)
            target = None if group_name is None else self.groups.by_name(group_name).id
            self.groups.move(member, target, utc_ms(self.now()))

    def delete_group(self, group_name: str) -> None:
        """Delete a live group: Cursor moves its usage to Unassigned retroactively."""
        with self._lock:
            self.groups.delete(self.groups.by_name(group_name).id, utc_ms(self.now()))

    def rename_group(self, group_name: str, new_name: str) -> None:
        with self._lock:
            group = self.groups.by_name(group_name)
            self.groups.rename(group.id, new_name, utc_ms(self.now()))

    def _member(self, email: str) -> int:
        for member in self.team.members:
            if member.email.lower() == email.lower():
                return member.index
        raise KeyError(f"no member with email {email!r}")

    def add_key(self, key: str, kind: str = "admin") -> None:
        if kind not in KEY_KINDS:
            raise ValueError(f"key kind must be one of {sorted(KEY_KINDS)}")
        with self._lock:
            self._keys[key] = kind

    # --- WSGI -------------------------------------------------------------------------

    def requests_per_route(self) -> Counter[str]:
        """How many API requests each route has served (any status), e.g. for a budget."""
        with self._lock:
            return Counter(path for _method, path, _status in self.calls)

    def transport(self) -> httpx.WSGITransport:
        return httpx.WSGITransport(app=self)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        path = str(environ.get("PATH_INFO") or "/")
        if path.startswith(CONTROL_PREFIX):
            status, headers, body = self._control(method, path, environ)
            return _respond(start_response, status, headers, body)
        delay = self.faults.delay_seconds
        if delay > 0:
            time.sleep(delay)
        status, headers, body = self._serve(method, path, environ)
        with self._lock:
            self.calls.append((method, path, status))
        chunks: Iterable[bytes] = [body]
        length: int | None = len(body)
        huge, drip = self.faults.huge_page_mb, self.faults.drip_seconds
        if huge > 0 and status == 200:
            chunks, length = padded(body, huge), None
        if drip > 0:
            chunks = dripped(chunks, drip)
        return _respond(start_response, status, headers, chunks, length)

    def _serve(self, method: str, path: str, environ: WSGIEnvironment) -> Response:
        route = _ROUTES.get(path)
        bucket = GROUPS if is_groups_path(path) else path
        if bucket != GROUPS and (route is None or route[0] != method):
            return _json(404, error_body(404))
        forced = self.faults.take_failure(bucket)
        if forced is not None:
            return self._forced(forced)
        key, kind = self._authenticate(environ)
        if key is None or kind not in ("admin", "no-enterprise", "non-enterprise"):
            return _json(401, error_body(401))
        if self.faults.revoked:
            return _json(401, error_body(401))
        if kind == "no-enterprise" or (kind == "non-enterprise" and bucket in ENTERPRISE_ONLY):
            return _json(403, error_body(403))
        limited = self._rate_limit(key, bucket)
        if limited is not None:
            return limited
        if route is None:
            return self._serve_groups(key, method, path, environ)
        try:
            body = _read_json(environ) if method == "POST" else {}
            with self._lock:
                self.requests.append(SimRequest.of(key, path, body))
                window = self._window()
                payload = route[1](self.team, body, window)
                if self.faults.endless_pages:
                    handler = route[1]
                    payload = endless(
                        path,
                        payload,
                        positive_int(body, "page", 1),
                        lambda page: handler(self.team, {**body, "page": page}, window),
                    )
        except BadRequest as exc:
            return _json(400, error_body(400, str(exc)))
        except LimitRefused as exc:
            refusal = {"outcome": "error", "message": str(exc)}
            return _json(self.config.limit_error_status, refusal)
        data = json.dumps(payload, separators=(",", ":")).encode()
        if self.faults.take_malform(path):
            data = data[: len(data) // 2]
        self.faults.record_success()
        return 200, [], data

    def _serve_groups(self, key: str, method: str, path: str, environ: WSGIEnvironment) -> Response:
        query = dict(parse_qsl(str(environ.get("QUERY_STRING") or "")))
        try:
            body = _read_json(environ) if method in ("POST", "PATCH", "DELETE") else {}
            with self._lock:
                asked = f"{path}?{environ.get('QUERY_STRING')}" if query else path
                self.requests.append(SimRequest(key, asked, None, None, None))
                status, payload = sim_group_routes.route(
                    self.team, self.groups, method, path, query, body, self._window()
                )
        except BadRequest as exc:
            return _json(400, error_body(400, str(exc)))
        except GroupNotFound:
            return _json(404, error_body(404))
        if status == 404:
            return _json(404, error_body(404))
        self.faults.record_success()
        return (status, [], b"") if payload is None else _json(status, payload)

    def _forced(self, pending: PendingFault) -> Response:
        headers = []
        if pending.retry_after is not None:
            headers.append(("Retry-After", _seconds(pending.retry_after, self.config)))
        status, _, body = _json(pending.status, error_body(pending.status))
        return status, headers, body

    def _authenticate(self, environ: WSGIEnvironment) -> tuple[str | None, str | None]:
        scheme, _, token = str(environ.get("HTTP_AUTHORIZATION", "")).strip().partition(" ")
        if scheme.lower() != "basic" or not token.strip():
            return None, None
        try:
            decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None, None
        key = decoded.partition(":")[0]
        with self._lock:
            kind = self._keys.get(key)
        return (key, kind) if kind is not None else (None, None)

    def _rate_limit(self, key: str, path: str) -> Response | None:
        limit = self.config.rate_limits.get(path)
        if not self.config.rate_limiting or limit is None:
            return None
        wait = self._limiter.admit(key, path, limit, self.config.minute_seconds)
        if wait is None:
            return None
        headers = []
        if self.config.retry_after_header:
            headers.append(("Retry-After", _seconds(wait, self.config)))
        status, _, body = _json(429, error_body(429))
        return status, headers, body

    def _control(self, method: str, path: str, environ: WSGIEnvironment) -> Response:
        if method == "GET" and path == CONTROL_PREFIX + "health":
            return _json(200, {"ok": True})
        if method != "POST" or path != CONTROL_PREFIX + "faults":
            return _json(404, error_body(404))
        try:
            apply_fault_settings(self.faults, _read_json(environ))
        except (BadRequest, KeyError, TypeError, ValueError) as exc:
            return _json(400, error_body(400, str(exc)))
        return _json(200, {"ok": True})


@dataclass(frozen=True)
class SimRequest:
    """One authenticated request as the simulator saw it (``startDate``/``endDate``/``page``
    as sent, None where the route has none)."""

    key: str
    path: str
    start: object
    end: object
    page: object
    #: The whole JSON body, as sent.
    body: Payload | None = None

    @classmethod
    def of(cls, key: str, path: str, body: Payload) -> SimRequest:
        start, end, page = body.get("startDate"), body.get("endDate"), body.get("page")
        return cls(key, path, start, end, page, body)


def wire_charge(event: dict[str, Any]) -> Decimal:
    """What one wire event charges, computed the way a Decimal client would."""
    if "chargedCents" in event:
        return Decimal(repr(event["chargedCents"]))
    fee = Decimal(repr(event.get("cursorTokenFee", 0)))
    usage = event.get("tokenUsage")
    if usage is None:
        return fee
    discount = Decimal(repr(usage.get("discountPercentOff", 0)))
    return Decimal(repr(usage["totalCents"])) * (100 - discount) / 100 + fee


def _seconds(seconds: float, config: SimulatorConfig) -> str:
    if config.minute_seconds == 60:
        return str(max(1, math.ceil(seconds)))
    return f"{seconds:.3f}"


def _respond(
    start_response: StartResponse,
    status: int,
    headers: list[tuple[str, str]],
    body: bytes | Iterable[bytes],
    length: int | None = None,
) -> Iterable[bytes]:
    """Start the response; a body given as chunks goes out as they come, without a length
    unless ``length`` says it."""
    chunks = [body] if isinstance(body, bytes) else body
    if isinstance(body, bytes):
        length = len(body)
    headers = [*headers, ("Content-Type", "application/json")]
    if length is not None:
        headers.append(("Content-Length", str(length)))
    start_response(f"{status} {reason(status)}", headers)
    return chunks


def _json(status: int, payload: Payload) -> Response:
    return status, [], json.dumps(payload, separators=(",", ":")).encode()


def _read_json(environ: WSGIEnvironment) -> Payload:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    raw = environ["wsgi.input"].read(length) if length > 0 else b""
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("Request body must be valid JSON") from exc
    if not isinstance(body, dict):
        raise BadRequest("Request body must be a JSON object")
    return body


# --- serving over real HTTP -----------------------------------------------------------


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def _make_server(sim: CursorSimulator, host: str, port: int) -> WSGIServer:
    return make_server(host, port, sim, server_class=_ThreadingServer, handler_class=_QuietHandler)


@contextmanager
def running_server(sim: CursorSimulator, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``sim`` on a threaded localhost server; yields its base URL."""
    server = _make_server(sim, host, port)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def serve_forever(sim: CursorSimulator, host: str, port: int) -> None:
    """Serve ``sim`` until interrupted (for ``stackspend simulate cursor``)."""
    server = _make_server(sim, host, port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
