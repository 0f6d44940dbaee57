"""One exchange with the Cursor Admin API, read in full within a deadline and a size cap.

An attempt (headers and the whole body) must finish within its time limit, however slowly
the server drips its bytes (``deadline.py`` caps every socket operation at the time left,
and the body is checked between chunks). A body is streamed and reading stops past the
size cap, before it is all in memory (a larger ``Content-Length`` is refused before
reading anything).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Final

import httpx

from connectors.cursor.deadline import request_deadline
from connectors.cursor.retries import Retryable, too_slow
from connectors.errors import ResponseTooLargeError

MIB: Final = 1024 * 1024


def size_text(size: int) -> str:
    """A byte count as people read it: ``32 MiB``, ``1.5 MiB``, ``512 KiB``, ``900 bytes``."""
    if size >= MIB:
        return f"{size / MIB:.1f}".removesuffix(".0") + " MiB"
    if size >= 1024:
        return f"{size / 1024:.1f}".removesuffix(".0") + " KiB"
    return f"{size:,} bytes"


@dataclass(frozen=True, slots=True)
class Answer:
    """A response read in full (within the caps)."""

    status: int
    headers: httpx.Headers
    content: bytearray


def exchange(
    http: httpx.Client,
    method: str,
    route: str,
    body: dict[str, Any] | None,
    *,
    limit: float,
    timeout_seconds: float,
    max_response_bytes: int,
) -> Answer:
    """One request, read in full within ``limit`` seconds and the size cap."""
    deadline = time.monotonic() + limit
    timeout = httpx.Timeout(max(0.001, min(timeout_seconds, limit)))
    try:
        with (
            request_deadline(deadline),
            http.stream(method, route, json=body, timeout=timeout) as response,
        ):
            content = read_body(route, response, deadline, limit, max_response_bytes)
            return Answer(response.status_code, response.headers, content)
    except httpx.TimeoutException as exc:
        if time.monotonic() >= deadline - 0.01:
            raise too_slow(limit) from None
        unsent = isinstance(exc, httpx.ConnectTimeout)
        raise Retryable("timed out", status=None, retry_after=None, unsent=unsent) from None
    except httpx.TransportError as exc:
        reason = f"connection failed ({type(exc).__name__})"
        unsent = isinstance(exc, httpx.ConnectError)
        raise Retryable(reason, status=None, retry_after=None, unsent=unsent) from None


def read_body(
    route: str, response: httpx.Response, deadline: float, limit: float, cap: int
) -> bytearray:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > cap:
        raise ResponseTooLargeError(
            f"Cursor's response to {route} exceeded {size_text(cap)} "
            f"(it announced {size_text(int(declared))}); nothing was read or stored, "
            "the next sync will resume where this one stopped."
        )
    content = bytearray()
    for chunk in response.iter_bytes():
        content += chunk
        if len(content) > cap:
            raise ResponseTooLargeError(
                f"Cursor's response to {route} exceeded {size_text(cap)}; reading stopped "
                "there and nothing from it was stored, "
                "the next sync will resume where this one stopped."
            )
        if time.monotonic() > deadline:
            raise too_slow(limit)
    return content
