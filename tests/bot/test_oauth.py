"""Slack distribution (OAuth mode), through the WSGI edge, Bolt and the fake Slack's
``oauth.v2.access``: installs, tenancy per workspace, uninstalls, revocations, rotation."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select, text

from bot.testing.fake_slack import FakeSlack
from bot.testing.fake_slack_oauth import Grant
from bot.usecases.digest_preview import enabled_digests
from bot.usecases.syncs import syncable_connections
from ledger.accounts import find_workspace
from ledger.db import session_scope
from ledger.models import Cadence, DigestSchedule, Workspace
from ledger.slack_tables import slack_store_metadata
from tests.bot.oauth_support import OAuthBot, build_oauth_bot

ACME = Grant(team_id="T1", team_name="Acme", user_id="UADMIN")
GLOBEX = Grant(team_id="T2", team_name="Globex", user_id="UADMIN")


@pytest.fixture
def oauth_bot(engine: Engine, slack: FakeSlack) -> Iterator[OAuthBot]:
    bot = build_oauth_bot(engine, slack)
    yield bot
    bot.close()


@pytest.fixture
def purging_bot(sqlite_engine: Engine, slack: FakeSlack) -> Iterator[OAuthBot]:
    bot = build_oauth_bot(sqlite_engine, slack, uninstall_data="purge")
    yield bot
    bot.close()


def _bots(engine: Engine) -> list[dict[str, object]]:
    table = slack_store_metadata().tables["slack_bots"]
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(select(table)).mappings()]


def eventually(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Event listeners run after Slack's acknowledgement: wait for their effect."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.02)


def _gone(engine: Engine, team: str) -> bool:
    query = text("SELECT count(*) FROM workspace WHERE slack_team_id = :team")
    with engine.connect() as connection:
        return bool(connection.execute(query, {"team": team}).scalar_one() == 0)


def _workspace(engine: Engine, team: str) -> Workspace:
    with session_scope(engine) as session:
        return find_workspace(session, team)


def _add_digest(engine: Engine, team: str) -> None:
    from datetime import time as time_of_day

    workspace = _workspace(engine, team)
    assert workspace.id is not None
    with session_scope(engine) as session:
        session.add(
            DigestSchedule(
                workspace_id=workspace.id,
                channel_id="C1",
                cadence=Cadence.DAILY,
                local_time=time_of_day(9),
                created_by="UADMIN",
            )
        )


# --- the install flow ---------------------------------------------------------------------


def test_the_install_page_sets_the_state_cookie_and_links_to_slack(oauth_bot: OAuthBot) -> None:
    page = oauth_bot.http.get("/slack/install")
    assert page.status_code == 200
    assert "slack.com/oauth/v2/authorize" in page.text and "client_id=1111.2222" in page.text
    assert "commands" in page.text and "chat%3Awrite" in page.text.replace(":", "%3A")
    assert "slack-app-oauth-state" in page.headers["set-cookie"]


def test_the_redirect_exchanges_the_code_at_the_configured_slack_and_stores_the_install(
    oauth_bot: OAuthBot, slack: FakeSlack, engine: Engine
) -> None:
    done = oauth_bot.install(ACME)

    assert done.status_code == 200, done.text
    (exchange,) = slack.calls_to("oauth.v2.access")
    assert exchange.params["code"].startswith("code-")
    (bot,) = _bots(engine)
    assert bot["team_id"] == "T1" and bot["client_id"] == "1111.2222"
    assert bot["bot_token"] in slack.oauth.tokens_of("T1")
    assert _workspace(engine, "T1").uninstalled_at is None


def test_a_redirect_without_the_state_cookie_or_with_a_forged_state_is_refused(
    oauth_bot: OAuthBot, slack: FakeSlack, engine: Engine
) -> None:
    code = slack.oauth.grant(ACME)
    no_cookie = oauth_bot.http.get("/slack/oauth_redirect", params={"code": code, "state": "x"})
    oauth_bot.http.get("/slack/install")  # a real cookie, but another state in the URL
    forged = oauth_bot.http.get("/slack/oauth_redirect", params={"code": code, "state": "forged"})

    assert no_cookie.status_code == 400 and forged.status_code == 400
    assert slack.calls_to("oauth.v2.access") == [] and _bots(engine) == []


# --- tenancy: two workspaces ----------------------------------------------------------------


def test_two_installed_workspaces_each_see_only_their_own_spend_with_their_own_token(
    oauth_bot: OAuthBot, slack: FakeSlack, engine: Engine
) -> None:
    oauth_bot.install(ACME)
    oauth_bot.install(GLOBEX)
    oauth_bot.connect_and_sync("T1", users=3)
    oauth_bot.connect_and_sync("T2", users=9)

    acme = oauth_bot.command("cursor by user", team="T1", key="acme")
    globex = oauth_bot.command("cursor by user", team="T2", key="globex")

    acme_people, globex_people = _people(engine, "T1"), _people(engine, "T2")
    assert acme_people and globex_people and not acme_people & globex_people
    assert any(person in acme for person in acme_people)
    assert not any(person in acme for person in globex_people)
    assert any(person in globex for person in globex_people)
    assert not any(person in globex for person in acme_people)
    # Each request's Slack calls (the admin check) used its own workspace's token.
    info = slack.calls_to("users.info")
    assert {call.token for call in info} <= set(slack.oauth.tokens_of("T1")) | set(
        slack.oauth.tokens_of("T2")
    )
    assert {slack.oauth.grant_of(call.token).team_id for call in info} == {"T1", "T2"}  # type: ignore[union-attr]


def _connection_ids(engine: Engine, team: str) -> list[int]:
    query = text(
        "SELECT connection.id FROM connection JOIN workspace ON workspace.id = "
        "connection.workspace_id WHERE workspace.slack_team_id = :team"
    )
    with engine.connect() as connection:
        return list(connection.execute(query, {"team": team}).scalars())


def _people(engine: Engine, team: str) -> set[str]:
    """The Cursor users (email local parts) whose events a workspace holds."""
    query = text(
        "SELECT DISTINCT usage_event.user_email FROM usage_event JOIN connection ON "
        "connection.id = usage_event.connection_id JOIN workspace ON workspace.id = "
        "connection.workspace_id WHERE workspace.slack_team_id = :team"
    )
    with engine.connect() as connection:
        return {
            email.split("@")[0] for email in connection.execute(query, {"team": team}).scalars()
        }


def test_the_digest_sender_posts_with_each_workspaces_own_token(
    oauth_bot: OAuthBot, slack: FakeSlack, engine: Engine
) -> None:
    oauth_bot.install(ACME)
    oauth_bot.install(GLOBEX)
    for team in ("T1", "T2"):
        client = oauth_bot.bot.sender.client_for(_workspace(engine, team))
        client.chat_postMessage(channel="C1", text=f"hello {team}")
    posts = slack.calls_to("chat.postMessage")
    assert [slack.oauth.grant_of(call.token).team_id for call in posts] == ["T1", "T2"]  # type: ignore[union-attr]
    assert oauth_bot.bot.notifier.client_for(_workspace(engine, "T2")).token in (
        slack.oauth.tokens_of("T2")
    )


def test_an_org_wide_grid_install_serves_each_team_of_the_org_as_its_own_workspace(
    oauth_bot: OAuthBot, slack: FakeSlack, engine: Engine
) -> None:
    org = Grant(
        team_id=None,
        enterprise_id="E1",
        enterprise_name="Initech",
        is_enterprise_install=True,
        user_id="UADMIN",
    )
    assert oauth_bot.install(org).status_code == 200
    (bot,) = _bots(engine)
    assert bot["team_id"] is None and bot["enterprise_id"] == "E1"

    for team in ("T7", "T8"):
        answer = oauth_bot.command(
            "cursor", team=team, key=team, enterprise_id="E1", is_enterprise_install=True
        )
        assert "connect" in answer.lower()
    query = text("SELECT slack_team_id, enterprise_id FROM workspace ORDER BY slack_team_id")
    with engine.connect() as connection:
        teams = [tuple(row) for row in connection.execute(query)]
    assert teams == [("T7", "E1"), ("T8", "E1")]
    client = oauth_bot.bot.sender.client_for(_workspace(engine, "T8"))
    assert client.token in slack.oauth.tokens_of(None)


# --- uninstall and revocation ----------------------------------------------------------------


def test_an_uninstall_deletes_that_workspaces_tokens_and_stops_its_jobs_keeping_its_data(
    oauth_bot: OAuthBot, slack: FakeSlack, engine: Engine
) -> None:
    oauth_bot.install(ACME)
    oauth_bot.install(GLOBEX)
    acme_connection = oauth_bot.connect_and_sync("T1", users=3)
    globex_connection = oauth_bot.connect_and_sync("T2", users=4)
    _add_digest(engine, "T1")
    _add_digest(engine, "T2")
    assert set(syncable_connections(engine)) == {acme_connection, globex_connection}

    slack.oauth.revoke(team_id="T1")
    answer = oauth_bot.event({"type": "app_uninstalled"}, team_id="T1")

    assert answer.status_code == 200
    # The tokens go last, after the workspace's jobs have stopped.
    eventually(lambda: [bot["team_id"] for bot in _bots(engine)] == ["T2"])
    assert _workspace(engine, "T1").uninstalled_at is not None
    assert set(syncable_connections(engine)) == {globex_connection}
    assert [schedule.workspace_id for schedule, _tz in enabled_digests(engine)] == [
        _workspace(engine, "T2").id
    ]
    scheduler = oauth_bot.bot.scheduler
    assert scheduler is not None
    assert scheduler.next_sync_at(acme_connection) is None
    assert scheduler.next_sync_at(globex_connection) is not None
    assert _workspace(engine, "T1").uninstalled_at is not None
    assert _connection_ids(engine, "T1") == [acme_connection]  # kept (the default)


def test_an_uninstall_with_purge_deletes_the_workspaces_rows(
    purging_bot: OAuthBot, slack: FakeSlack, sqlite_engine: Engine
) -> None:
    purging_bot.install(ACME)
    purging_bot.install(GLOBEX)
    purging_bot.connect_and_sync("T1", users=3)
    globex_connection = purging_bot.connect_and_sync("T2", users=4)

    purging_bot.event({"type": "app_uninstalled"}, team_id="T1")
    eventually(
        lambda: len(_connection_ids(sqlite_engine, "T2")) == 1 and _gone(sqlite_engine, "T1")
    )

    with sqlite_engine.connect() as connection:
        teams = connection.execute(text("SELECT slack_team_id FROM workspace")).scalars().all()
        events = (
            connection.execute(text("SELECT DISTINCT connection_id FROM usage_event"))
            .scalars()
            .all()
        )
    assert teams == ["T2"] and events == [globex_connection]


def test_a_reinstall_starts_the_workspaces_jobs_again(
    oauth_bot: OAuthBot, slack: FakeSlack, engine: Engine
) -> None:
    oauth_bot.install(ACME)
    connection = oauth_bot.connect_and_sync("T1", users=3)
    oauth_bot.event({"type": "app_uninstalled"}, team_id="T1")
    eventually(lambda: syncable_connections(engine) == {} and _bots(engine) == [])

    oauth_bot.install(ACME)

    assert set(syncable_connections(engine)) == {connection}
    assert _workspace(engine, "T1").uninstalled_at is None


def test_tokens_revoked_deletes_the_bot_token(
    oauth_bot: OAuthBot, slack: FakeSlack, engine: Engine
) -> None:
    oauth_bot.install(ACME)
    oauth_bot.install(GLOBEX)
    oauth_bot.event({"type": "tokens_revoked", "tokens": {"bot": ["UBOT"]}}, team_id="T2")
    eventually(lambda: _workspace(engine, "T2").uninstalled_at is not None)
    assert [bot["team_id"] for bot in _bots(engine)] == ["T1"]


def test_a_command_from_a_workspace_without_an_install_is_not_answered_with_another_token(
    oauth_bot: OAuthBot, slack: FakeSlack
) -> None:
    oauth_bot.install(ACME)
    oauth_bot.command("help", team="T9", key="stranger")
    assert all(call.token is None for call in slack.calls if call.method == "users.info")


# --- token rotation --------------------------------------------------------------------------


def test_an_expiring_token_is_refreshed_once_before_a_background_send(
    oauth_bot: OAuthBot, slack: FakeSlack, engine: Engine
) -> None:
    slack.oauth.rotation = True
    slack.oauth.expires_in = 60  # inside the two-hour refresh margin from the start
    oauth_bot.install(ACME)
    slack.oauth.expires_in = 43200  # what a refresh gets: twelve hours
    (first,) = slack.oauth.tokens_of("T1")
    workspace = _workspace(engine, "T1")

    clients = []
    barrier = threading.Barrier(4)

    def send() -> None:
        barrier.wait()
        clients.append(oauth_bot.bot.sender.client_for(workspace))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    refreshes = [
        c
        for c in slack.calls_to("oauth.v2.access")
        if c.params.get("grant_type") == "refresh_token"
    ]
    assert len(refreshes) == 1 and refreshes[0].response["ok"] is True
    (refreshed,) = {client.token for client in clients}
    assert refreshed != first and refreshed in slack.oauth.tokens_of("T1")
    (bot,) = _bots(engine)
    assert bot["bot_token"] == refreshed
    assert isinstance(bot["bot_token_expires_at"], datetime)


def test_a_token_far_from_expiry_is_used_as_it_is(
    oauth_bot: OAuthBot, slack: FakeSlack, engine: Engine
) -> None:
    slack.oauth.rotation = True
    oauth_bot.install(ACME)
    client = oauth_bot.bot.sender.client_for(_workspace(engine, "T1"))
    assert client.token in slack.oauth.tokens_of("T1")
    assert all(c.params.get("grant_type") != "refresh_token" for c in slack.calls)
    assert time.time() < datetime.now(UTC).timestamp() + 1


# --- logs --------------------------------------------------------------------------------------


def test_no_log_line_carries_a_token_a_code_the_client_secret_or_a_state(
    sqlite_engine: Engine, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from bot.testing.fake_slack_oauth import CLIENT_SECRET

    caplog.set_level(logging.DEBUG)
    bot = build_oauth_bot(sqlite_engine, slack)
    try:
        slack.oauth.rotation = True
        slack.oauth.expires_in = 60
        page = bot.http.get("/slack/install")
        state = page.headers["set-cookie"].split("=", 1)[1].split(";")[0]
        code = slack.oauth.grant(ACME)
        bot.http.get("/slack/oauth_redirect", params={"code": code, "state": state})
        slack.oauth.expires_in = 43200
        bot.bot.sender.client_for(_workspace(sqlite_engine, "T1"))
        bot.event({"type": "app_uninstalled"}, team_id="T1")
        eventually(lambda: _workspace(sqlite_engine, "T1").uninstalled_at is not None)
    finally:
        bot.close()
    secrets = [CLIENT_SECRET, code, state, *slack.oauth.tokens]
    secrets += [c.response["refresh_token"] for c in slack.calls_to("oauth.v2.access")]
    logged = "\n".join(record.getMessage() + (record.exc_text or "") for record in caplog.records)
    assert "installed in T1" in logged
    assert [secret for secret in secrets if secret in logged] == []


def test_a_failed_code_exchange_logs_the_failure_but_neither_the_code_nor_the_state(
    sqlite_engine: Engine, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    """Bolt's OAuth flow logs the code it failed to exchange; the log policy withholds it."""
    import logging

    caplog.set_level(logging.DEBUG)
    bot = build_oauth_bot(sqlite_engine, slack)
    try:
        page = bot.http.get("/slack/install")
        state = page.headers["set-cookie"].split("=", 1)[1].split(";")[0]
        code = "code-that-slack-never-granted-8f3a2c"
        done = bot.http.get("/slack/oauth_redirect", params={"code": code, "state": state})
    finally:
        bot.close()
    assert done.status_code >= 400 and _bots(sqlite_engine) == []
    logged = "\n".join(record.getMessage() + (record.exc_text or "") for record in caplog.records)
    assert "oauth.v2.access" in logged  # the failure itself is told
    assert code not in logged and state not in logged


def test_expired_install_states_are_deleted_as_new_ones_are_issued(
    oauth_bot: OAuthBot, engine: Engine
) -> None:
    """Anyone may open the install page; its states must not pile up in the database."""
    from ledger.slack_tables import OAUTH_STATES_TABLE

    for _ in range(3):
        oauth_bot.http.get("/slack/install")
    with engine.begin() as connection:
        assert connection.execute(text(f"SELECT count(*) FROM {OAUTH_STATES_TABLE}")).scalar() == 3
        connection.execute(
            text(f"UPDATE {OAUTH_STATES_TABLE} SET expire_at = :past"),
            {"past": datetime(2020, 1, 1)},
        )
    oauth_bot.http.get("/slack/install")
    with engine.connect() as connection:
        assert connection.execute(text(f"SELECT count(*) FROM {OAUTH_STATES_TABLE}")).scalar() == 1
