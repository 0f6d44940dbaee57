"""Downloading a file someone shared with the bot: from Slack's own file host only, with the
bot's token, streamed to disk under a byte cap and a total deadline.

A ``file_shared`` event only names a file; ``files.info`` gives its ``url_private_download``,
which Slack serves to a request carrying ``Authorization: Bearer <bot token>`` (the token needs
the ``files:read`` scope). The URL comes from a payload, so it is checked against the host the
bot's Web API client talks to before the token is sent anywhere: Slack's API at
``https://slack.com/api/`` serves files from ``https://files.slack.com/``, a test's fake Slack
from its own base URL. Redirects are not followed: Slack answers a request it will not serve
(a token without ``files:read``) with a redirect to its sign-in page.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import BinaryIO
from urllib.parse import urlsplit

import httpx

CHUNK = 64 * 1024
#: Connecting and each read wait at most this long; the whole download at most ``deadline``.
READ_TIMEOUT_SECONDS = 30.0
DEADLINE_SECONDS = 600.0


class DownloadError(Exception):
    """The file could not be fetched; the message says why, for the person who shared it."""


class DownloadTooLarge(DownloadError):
    """The file is bigger than the bot accepts (announced or found while reading)."""

    def __init__(self, limit_bytes: int) -> None:
        self.limit_bytes = limit_bytes
        super().__init__(f"The file is larger than the {megabytes(limit_bytes)} limit.")


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB" if size >= 1024 * 1024 else f"{size:,} bytes"


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    default = 443 if scheme == "https" else 80
    try:
        port = parts.port or default
    except ValueError:  # a port that is not a number
        port = -1
    return scheme, (parts.hostname or "").lower(), port


def is_slack_file_url(url: str, api_base_url: str) -> bool:
    """True when ``url`` is on the Web API's host or one of its subdomains, with the same
    scheme and port: ``files.slack.com`` for ``slack.com``, the fake's own address in tests."""
    scheme, host, port = _origin(url)
    api_scheme, api_host, api_port = _origin(api_base_url)
    if not host or scheme != api_scheme or port != api_port:
        return False
    return host == api_host or host.endswith("." + api_host)


def download(
    url: str,
    *,
    token: str,
    dest: BinaryIO,
    api_base_url: str,
    max_bytes: int,
    on_bytes: Callable[[int], object] | None = None,
    deadline_seconds: float = DEADLINE_SECONDS,
    transport: httpx.BaseTransport | None = None,
) -> int:
    """Stream ``url`` into ``dest``; the number of bytes written.

    Raises :class:`DownloadTooLarge` as soon as the announced length or the bytes read pass
    ``max_bytes`` (the size in the event may be wrong), :class:`DownloadError` otherwise.
    """
    if not is_slack_file_url(url, api_base_url):
        raise DownloadError("The file's download address is not on Slack's file host.")
    started = time.monotonic()
    written = 0
    timeout = httpx.Timeout(READ_TIMEOUT_SECONDS)
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=False, transport=transport) as http,
            http.stream("GET", url, headers={"Authorization": f"Bearer {token}"}) as response,
        ):
            _check_status(response)
            announced = response.headers.get("content-length")
            if announced is not None and announced.isdigit() and int(announced) > max_bytes:
                raise DownloadTooLarge(max_bytes)
            for chunk in response.iter_bytes(CHUNK):
                written += len(chunk)
                if written > max_bytes:
                    raise DownloadTooLarge(max_bytes)
                if time.monotonic() - started > deadline_seconds:
                    raise DownloadError("Slack took too long to send the file; try again.")
                dest.write(chunk)
                if on_bytes is not None:
                    on_bytes(written)
    except httpx.HTTPError as exc:
        raise DownloadError(f"Could not fetch the file from Slack ({type(exc).__name__}).") from exc
    dest.flush()
    return written


def _check_status(response: httpx.Response) -> None:
    if response.is_redirect:
        raise DownloadError(
            "Slack would not hand the file to the bot: the app needs the `files:read` scope "
            "(reinstall it from the manifest)."
        )
    if response.status_code != 200:
        raise DownloadError(f"Slack answered the download with HTTP {response.status_code}.")
