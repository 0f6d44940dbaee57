"""Alembic migrations: upgrade, no drift, downgrade, locking, on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, time
from pathlib import Path

import pytest
from sqlalchemy import Engine, MetaData, create_engine, inspect, pool, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, SQLModel, col, select

from ledger import migrate, schema
from ledger.db import make_engine, normalise_url
from ledger.models import Alert, Budget, DigestSchedule
from ledger.slack_tables import SLACK_TABLES

POSTGRES_URL = os.environ.get(
    "STACKSPEND_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
LEDGER_TABLES = set(SQLModel.metadata.tables) | SLACK_TABLES


@pytest.fixture
def empty_sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.db'}"


@pytest.fixture
def empty_postgres_url() -> Iterator[str]:
    """A URL whose search_path is a fresh schema, dropped afterwards."""
    admin = create_engine(
        normalise_url(POSTGRES_URL), poolclass=pool.NullPool, connect_args={"connect_timeout": 3}
    )
    try:
        with admin.connect():
            pass
    except OperationalError as exc:
        shown = make_url(POSTGRES_URL).render_as_string(hide_password=True)
        pytest.skip(
            f"PostgreSQL does not answer at {shown} (set STACKSPEND_TEST_POSTGRES_URL): "
            f"{type(exc.orig).__name__}"
        )
    schema = f"test_mig_{uuid.uuid4().hex[:12]}"
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = make_url(normalise_url(POSTGRES_URL)).update_query_dict(
        {"options": f"-csearch_path={schema}"}
    )
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest) -> str:
    """An empty, never migrated database: a SQLite file, then PostgreSQL."""
    url: str = request.getfixturevalue(f"empty_{request.param}_url")
    return url


@pytest.fixture
def empty_engine(empty_url: str) -> Iterator[Engine]:
    """An engine on the empty database (the shared ``engine`` fixture is migrated)."""
    engine = make_engine(empty_url)
    yield engine
    engine.dispose()


def table_names(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def test_upgrade_creates_every_table_without_drift(empty_url: str, empty_engine: Engine) -> None:
    migrate.upgrade(empty_url)

    assert table_names(empty_engine) == LEDGER_TABLES | {"alembic_version"}
    assert migrate.current_revision(empty_engine) == migrate.head_revision()
    assert migrate.check_no_drift(empty_url) == []


def test_upgrade_twice_changes_nothing(empty_url: str, empty_engine: Engine) -> None:
    migrate.upgrade(empty_url)
    migrate.upgrade(empty_url)

    assert migrate.current_revision(empty_engine) == migrate.head_revision()
    assert migrate.check_no_drift(empty_url) == []


def test_downgrade_to_base_leaves_only_the_version_table(
    empty_url: str, empty_engine: Engine
) -> None:
    migrate.upgrade(empty_url)
    migrate.downgrade(empty_url, "base")

    assert table_names(empty_engine) == {"alembic_version"}
    assert migrate.current_revision(empty_engine) is None


def test_is_up_to_date_only_after_upgrade(empty_url: str, empty_engine: Engine) -> None:
    assert not schema.is_up_to_date(empty_engine)

    migrate.upgrade(empty_url)

    assert schema.is_up_to_date(empty_engine)


def test_drift_is_reported_for_an_empty_database(empty_url: str) -> None:
    diff = migrate.check_no_drift(empty_url)

    added = {entry[1].name for entry in diff if entry[0] == "add_table"}
    assert added == LEDGER_TABLES


@pytest.mark.slow
def test_concurrent_upgrades_do_not_race(empty_url: str, empty_engine: Engine) -> None:
    script = "import sys; from ledger.migrate import upgrade; upgrade(sys.argv[1])"
    with ExitStack() as stack:
        processes = [
            stack.enter_context(
                subprocess.Popen(
                    [sys.executable, "-c", script, empty_url],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
            for _ in range(3)
        ]
        errors = [process.communicate(timeout=60)[1] for process in processes]

    assert [process.returncode for process in processes] == [0, 0, 0], errors
    assert schema.is_up_to_date(empty_engine)


def test_scripts_are_found_from_any_working_directory(
    empty_sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    migrate.upgrade(empty_sqlite_url)

    engine = make_engine(empty_sqlite_url)
    assert migrate.current_revision(engine) == migrate.head_revision()
    engine.dispose()
    assert list(elsewhere.iterdir()) == []


def test_programmatic_upgrade_leaves_app_logging_alone(empty_sqlite_url: str) -> None:
    app_logger = logging.getLogger("stackspend.test.app")
    root_handlers = list(logging.getLogger().handlers)

    migrate.upgrade(empty_sqlite_url)

    assert not app_logger.disabled
    assert logging.getLogger().handlers == root_handlers


def test_url_defaults_to_the_environment_then_sqlite(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(migrate.DATABASE_URL_ENV, raising=False)
    assert migrate.resolve_url() == "sqlite:///stackspend.db"

    monkeypatch.setenv(migrate.DATABASE_URL_ENV, "postgres://u@db/x")
    assert migrate.resolve_url() == "postgresql+psycopg://u@db/x"
    assert migrate.resolve_url("sqlite:///given.db") == "sqlite:///given.db"


def test_config_escapes_percent_signs_in_the_url() -> None:
    url = "postgresql+psycopg://u:p%40ss@db/x?options=-csearch_path%3Dledger"

    config = migrate.alembic_config(url)

    assert config.get_main_option("sqlalchemy.url") == url
    assert Path(config.get_main_option("script_location") or "").is_dir()


def test_each_revision_upgrades_and_downgrades_in_turn(
    empty_url: str, empty_engine: Engine
) -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrate.alembic_config(empty_url))
    revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
    for revision in revisions:
        migrate.upgrade(empty_url, revision)
        assert migrate.current_revision(empty_engine) == revision
    for previous in reversed(["base", *revisions[:-1]]):
        migrate.downgrade(empty_url, previous)
        expected = None if previous == "base" else previous
        assert migrate.current_revision(empty_engine) == expected


def test_the_light_schema_check_finds_the_same_head_as_alembic() -> None:
    assert schema.script_heads() == {migrate.head_revision()}


# --- 0006: comma-separated lists become JSON lists -----------------------------------------

#: thresholds, notify_user_ids as text; the lists they become; the text they come back as.
BUDGET_LISTS = [
    ("50,80,100", "U1,U2", [50, 80, 100], ["U1", "U2"], "50,80,100", "U1,U2"),
    ("", "", [], [], "", ""),
    (" 90 , 75,75,, ", " U2 ,U1,U2 ", [75, 90], ["U2", "U1"], "75,90", "U2,U1"),
]
#: sections as text; the list; the text again.
SECTION_LISTS = [
    ("all", ["all"], "all"),
    ("summary, top ,notes", ["summary", "top", "notes"], "summary,top,notes"),
    ("", [], ""),
]


def _revision_before(revision: str) -> str:
    from alembic.script import ScriptDirectory

    found = ScriptDirectory.from_config(migrate.alembic_config("sqlite://")).get_revision(revision)
    assert found is not None and isinstance(found.down_revision, str)
    return found.down_revision


def _insert_comma_lists(engine: Engine) -> None:
    tables = MetaData()
    tables.reflect(engine, only=["workspace", "budget", "digest_schedule", "alert"])
    when = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    with engine.begin() as connection:
        workspace_id = connection.execute(
            tables.tables["workspace"]
            .insert()
            .values(slack_team_id="T1", name="", timezone="UTC", visibility="own", created_at=when)
            .returning(tables.tables["workspace"].c.id)
        ).scalar_one()
        common = {"workspace_id": workspace_id, "created_by": "U0", "created_at": when}
        for index, (thresholds, notify, *_) in enumerate(BUDGET_LISTS):
            connection.execute(
                tables.tables["budget"].insert(),
                {
                    **common,
                    "id": index + 1,
                    "provider": "cursor",
                    "amount_cents": 1000,
                    "period": "cycle",
                    "thresholds": thresholds,
                    "notify_user_ids": notify,
                    "dm_subject": False,
                    "enabled": True,
                },
            )
        for index, (sections, *_) in enumerate(SECTION_LISTS):
            connection.execute(
                tables.tables["digest_schedule"].insert(),
                {
                    **common,
                    "id": index + 1,
                    "channel_id": "C1",
                    "local_time": time(9),
                    "cadence": "daily",
                    "sections": sections,
                    "top_n": 5,
                    "chart": True,
                    "enabled": True,
                    "status": "ok",
                },
            )
        connection.execute(
            tables.tables["alert"].insert(),
            {
                "workspace_id": workspace_id,
                "budget_id": 1,
                "kind": "threshold",
                "dedupe_key": "k",
                "subject": "team",
                "status": "open",
                "created_at": when,
                "notify_count": 0,
            },
        )


def test_comma_lists_become_json_lists_and_come_back(empty_url: str, empty_engine: Engine) -> None:
    before = _revision_before("0006")
    migrate.upgrade(empty_url, before)
    _insert_comma_lists(empty_engine)

    migrate.upgrade(empty_url, "0006")

    with Session(empty_engine) as session:
        budgets = session.exec(select(Budget).order_by(col(Budget.id))).all()
        assert [(b.thresholds, b.notify_user_ids) for b in budgets] == [
            (thresholds, notify) for _, _, thresholds, notify, _, _ in BUDGET_LISTS
        ]
        schedules = session.exec(select(DigestSchedule).order_by(col(DigestSchedule.id))).all()
        assert [s.sections for s in schedules] == [sections for _, sections, _ in SECTION_LISTS]
        assert [a.budget_id for a in session.exec(select(Alert)).all()] == [1]

    migrate.downgrade(empty_url, before)

    with empty_engine.connect() as connection:
        budget_text = connection.execute(
            text("SELECT thresholds, notify_user_ids FROM budget ORDER BY id")
        ).all()
        section_text = connection.execute(
            text("SELECT sections FROM digest_schedule ORDER BY id")
        ).all()
        alerts = connection.execute(text("SELECT budget_id FROM alert")).all()
    assert [tuple(row) for row in budget_text] == [
        (thresholds, notify) for *_, thresholds, notify in BUDGET_LISTS
    ]
    assert [row[0] for row in section_text] == [sections for *_, sections in SECTION_LISTS]
    assert [row[0] for row in alerts] == [1]


def _alert_rows_before_0005(engine: Engine) -> None:
    """A workspace, a weekly budget, and a threshold and a health alert written by 0004."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from sqlalchemy import bindparam, text

    from ledger.types import Money

    now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC).isoformat()
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO workspace (id, slack_team_id, name, timezone, visibility, created_at)"
                " VALUES (1, 'T1', 'Acme', 'UTC', 'own', :now)"
            ),
            {"now": now},
        )
        connection.execute(
            text(
                "INSERT INTO budget (id, workspace_id, provider, subject_email, amount_cents,"
                " period, thresholds, notify_user_ids, dm_subject, created_by, created_at,"
                " enabled) VALUES (7, 1, 'cursor', NULL, 10000, 'week', '50', '', false, 'U1',"
                " :now, true)"
            ),
            {"now": now},
        )
        alert = (
            "INSERT INTO alert (workspace_id, budget_id, kind, dedupe_key, subject, period_start,"
            " threshold, title, detail, amount_cents, limit_cents, status, created_at,"
            " notify_count) VALUES (1, :budget, :kind, :key, :subject, :start, :pct, 'Words',"
            " 'More words', :amount, :limit, 'open', :now, 0)"
        )
        money = (bindparam("amount", type_=Money()), bindparam("limit", type_=Money()))
        connection.execute(
            text(alert).bindparams(*money),
            [
                {
                    "budget": 7,
                    "kind": "threshold",
                    "key": "threshold:7:2026-11-23:50",
                    "subject": "team",
                    "start": "2026-11-23",
                    "pct": 50,
                    "amount": Decimal(6000),
                    "limit": Decimal(10000),
                    "now": now,
                },
                {
                    "budget": None,
                    "kind": "health",
                    "key": "health:1:revoked:2026-11-25",
                    "subject": "Cursor …0000",
                    "start": None,
                    "pct": None,
                    "amount": None,
                    "limit": None,
                    "now": now,
                },
            ],
        )


def test_0005_keeps_alert_facts_and_drops_their_words_with_rows_in_place(
    empty_url: str, empty_engine: Engine
) -> None:
    from sqlmodel import Session, col, select

    from digests.alert_words import detail, title
    from ledger.models import Alert

    migrate.upgrade(empty_url, "0004")
    _alert_rows_before_0005(empty_engine)

    migrate.upgrade(empty_url, "0005")

    columns = {column["name"] for column in inspect(empty_engine).get_columns("alert")}
    assert {"title", "detail"}.isdisjoint(columns)
    assert {"provider", "period", "cause", "rate_weekday_cents", "baseline_cents"} <= columns
    with Session(empty_engine) as session:
        threshold, health = session.exec(select(Alert).order_by(col(Alert.id))).all()
    assert (threshold.provider, threshold.period, threshold.threshold) == ("cursor", "week", 50)
    assert title(threshold, "UTC") == "The team reached 50% of its Cursor budget for the week"
    assert "$60.00 of $100.00 (60%)" in detail(threshold, "UTC")
    assert (health.subject, health.cause) == ("…0000", "revoked")
    assert title(health, "UTC") == "Cursor key revoked: syncing has stopped"
    assert "`/spend cursor connect`" in detail(health, "UTC")

    migrate.downgrade(empty_url, "0004")
    columns = {column["name"] for column in inspect(empty_engine).get_columns("alert")}
    assert {"title", "detail"} <= columns and "cause" not in columns
    with empty_engine.connect() as connection:
        from sqlalchemy import text

        subjects = connection.execute(text("SELECT subject FROM alert ORDER BY id")).scalars()
        assert list(subjects) == ["team", "Cursor …0000"]
