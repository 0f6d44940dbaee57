"""`/readyz` says whether a replica may take traffic: database, migrations, scheduler."""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from sqlalchemy import Engine

from bot.readiness import assess, serve_checks
from bot.slack.serve import wsgi_app
from bot.testing.fake_slack import FakeSlack
from bot.testing.signed_requests import SIGNING_SECRET
from ledger import migrate
from ledger.db import make_engine
from tests.bot.harness import Harness, build_harness
from tests.bot.local_http import Forwarder, serving_wsgi


def test_every_check_runs_and_each_failure_is_named() -> None:
    def broken() -> bool:
        raise RuntimeError("postgresql://user:password@db/x is down")

    verdict = assess({"database": broken, "migrations": lambda: False, "scheduler": lambda: True})
    assert verdict.status.startswith("503")
    assert verdict.payload() == {
        "ready": False,
        "checks": {"database": "failed", "migrations": "failed", "scheduler": "ok"},
        "failed": ["database", "migrations"],
    }
    assert "password" not in str(verdict.payload())
    assert assess({"scheduler": lambda: True}).status == "200 OK"


@pytest.fixture
def harness(sqlite_engine: Engine) -> Iterator[Harness]:
    with FakeSlack() as slack:
        built = build_harness(sqlite_engine, slack)
        yield built
        built.close()


def test_readyz_names_a_stopped_scheduler_and_an_unmigrated_database_healthz_stays_up(
    harness: Harness, tmp_path_factory: pytest.TempPathFactory
) -> None:
    empty = make_engine(f"sqlite:///{tmp_path_factory.mktemp('db') / 'empty.db'}")
    running = [False]
    app = wsgi_app(
        harness.app,
        signing_secret=SIGNING_SECRET,
        readiness=serve_checks(empty, lambda: running[0]),
    )
    with serving_wsgi(app) as base:
        ready = httpx.get(f"{base}/readyz")
        assert ready.status_code == 503
        assert ready.json()["failed"] == ["migrations", "scheduler"]
        assert httpx.get(f"{base}/healthz").status_code == 200
        running[0] = True
        app_ready = wsgi_app(
            harness.app,
            signing_secret=SIGNING_SECRET,
            readiness=serve_checks(harness.engine, lambda: running[0]),
        )
    with serving_wsgi(app_ready) as base:
        ready = httpx.get(f"{base}/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json() == {
            "ready": True,
            "checks": {"database": "ok", "migrations": "ok", "scheduler": "ok"},
            "failed": [],
        }
    empty.dispose()


def through(forwarder: Forwarder, url: str) -> str:
    """``url`` with its host and port replaced by the forwarder's."""
    parts = urlsplit(url)
    credentials = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return urlunsplit(parts._replace(netloc=f"{credentials}127.0.0.1:{forwarder.port}"))


def wait_for_status(url: str, status: int, timeout: float = 30.0) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        response = httpx.get(url, timeout=10)
        if response.status_code == status or time.monotonic() > deadline:
            return response
        time.sleep(0.1)


@pytest.mark.postgres
def test_readyz_fails_while_the_database_is_down_and_recovers(
    harness: Harness, postgres_schema_url: str
) -> None:
    migrate.upgrade(postgres_schema_url)
    server = urlsplit(postgres_schema_url)
    forwarder = Forwarder((server.hostname or "127.0.0.1", server.port or 5432))
    forwarder.start()
    engine = make_engine(through(forwarder, postgres_schema_url))
    app = wsgi_app(
        harness.app,
        signing_secret=SIGNING_SECRET,
        readiness=serve_checks(engine, lambda: True),
    )
    try:
        with serving_wsgi(app) as base:
            assert httpx.get(f"{base}/readyz").status_code == 200

            forwarder.stop()  # the database goes away
            down = httpx.get(f"{base}/readyz", timeout=30)
            assert down.status_code == 503
            assert down.json()["failed"] == ["database", "migrations"]
            assert down.json()["checks"]["scheduler"] == "ok"
            assert httpx.get(f"{base}/healthz").status_code == 200  # the process is alive

            forwarder.start()  # and comes back on the same address
            back = wait_for_status(f"{base}/readyz", 200)
            assert back.status_code == 200, back.text
    finally:
        forwarder.stop()
        engine.dispose()
