"""Downloads go to Slack's file host only, with the bot's token, under a byte cap."""

from __future__ import annotations

import io

import httpx
import pytest

from bot.slack.file_download import DownloadError, DownloadTooLarge, download, is_slack_file_url

SLACK = "https://slack.com/api/"


@pytest.mark.parametrize(
    ("url", "api", "allowed"),
    [
        ("https://files.slack.com/files-pri/T1-F1/download/a.csv", SLACK, True),
        ("https://slack.com/files-pri/T1-F1/download/a.csv", SLACK, True),
        ("http://files.slack.com/files-pri/T1-F1/download/a.csv", SLACK, False),
        ("https://files.slack.com.evil.test/a.csv", SLACK, False),
        ("https://evilslack.com/a.csv", SLACK, False),
        ("https://files.slack.com:8443/a.csv", SLACK, False),
        (
            "http://127.0.0.1:5000/files-pri/T1-F1/download/a.csv",
            "http://127.0.0.1:5000/api/",
            True,
        ),
        (
            "http://127.0.0.1:5001/files-pri/T1-F1/download/a.csv",
            "http://127.0.0.1:5000/api/",
            False,
        ),
        ("file:///etc/passwd", SLACK, False),
        ("https://files.slack.com:bad/a.csv", SLACK, False),
    ],
)
def test_only_slacks_own_file_host_is_allowed(url: str, api: str, allowed: bool) -> None:
    assert is_slack_file_url(url, api) is allowed


def serve(content: bytes, status: int = 200) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == "Bearer xoxb-1"
        return httpx.Response(status, content=content)

    return httpx.MockTransport(handler)


def test_a_download_streams_into_the_file_and_counts_bytes() -> None:
    dest = io.BytesIO()
    seen: list[int] = []
    got = download(
        "https://files.slack.com/f.csv",
        token="xoxb-1",
        dest=dest,
        api_base_url=SLACK,
        max_bytes=1000,
        on_bytes=seen.append,
        transport=serve(b"a,b\r\n1,2\r\n"),
    )
    assert got == 10 and dest.getvalue() == b"a,b\r\n1,2\r\n" and seen[-1] == 10


def test_an_announced_length_over_the_cap_stops_before_reading() -> None:
    with pytest.raises(DownloadTooLarge):
        download(
            "https://files.slack.com/f.csv",
            token="xoxb-1",
            dest=io.BytesIO(),
            api_base_url=SLACK,
            max_bytes=5,
            transport=serve(b"0123456789"),
        )


def test_an_error_status_is_a_download_error() -> None:
    with pytest.raises(DownloadError, match="HTTP 404"):
        download(
            "https://files.slack.com/f.csv",
            token="xoxb-1",
            dest=io.BytesIO(),
            api_base_url=SLACK,
            max_bytes=5,
            transport=serve(b"", status=404),
        )
