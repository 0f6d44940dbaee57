"""The fake Slack Web API and the signing helpers, exercised with the real slack_sdk and Bolt."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from urllib.parse import parse_qs
from urllib.request import Request, urlopen

import pytest
from slack_bolt import App
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from bot.testing.fake_slack import FakeSlack, SlackUser
from bot.testing.signed_requests import (
    SIGNING_SECRET,
    app_home_opened_body,
    block_actions_body,
    bolt_request,
    signed_headers,
    slash_command_body,
    view_submission_body,
)


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        fake.add_user(SlackUser("U1", name="alice", email="alice@acme.test", is_admin=True))
        fake.add_user(SlackUser("U2", name="bob"))
        fake.add_user(SlackUser("U3", name="gone", email="gone@acme.test", deleted=True))
        fake.add_channel("C1", "general")
        fake.add_channel("C2", "private-ish", is_member=False)
        fake.add_channel("C3", "old", is_archived=True)
        yield fake


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=fake.base_url)


def api_error(excinfo: pytest.ExceptionInfo[SlackApiError]) -> str:
    return str(excinfo.value.response["error"])


# ---------------------------------------------------------------- server basics


def test_base_url_is_local_with_trailing_slash_and_close_frees_it() -> None:
    fake = FakeSlack()
    assert fake.base_url.startswith("http://127.0.0.1:")
    assert fake.base_url.endswith("/api/")
    assert fake.port > 0
    fake.close()
    fake.close()  # idempotent


def test_auth_test_shape_and_call_recorded(fake: FakeSlack, client: WebClient) -> None:
    resp = client.auth_test()
    assert resp.status_code == 200
    assert resp.data == {
        "ok": True,
        "url": "https://acme.slack.com/",
        "team": "Acme",
        "user": "stackspend",
        "team_id": "T1",
        "user_id": "UBOT",
        "bot_id": "BBOT",
        "is_enterprise_install": False,
    }
    (call,) = fake.calls_to("auth.test")
    assert call.token == "xoxb-test"
    assert call.status == 200
    assert call.at <= time.monotonic()


def test_unknown_method_and_missing_or_revoked_token(fake: FakeSlack, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.api_call("nope.nothing")
    assert api_error(excinfo) == "unknown_method"
    with pytest.raises(SlackApiError) as excinfo:
        WebClient(base_url=fake.base_url).auth_test()
    assert api_error(excinfo) == "not_authed"
    fake.invalid_tokens.add("xoxb-revoked")
    with pytest.raises(SlackApiError) as excinfo:
        fake.client("xoxb-revoked").auth_test()
    assert api_error(excinfo) == "invalid_auth"


# ---------------------------------------------------------------- users


def test_users_info(client: WebClient) -> None:
    user = client.users_info(user="U1")["user"]
    assert user == {
        "id": "U1",
        "team_id": "T1",
        "name": "alice",
        "real_name": "alice",
        "deleted": False,
        "is_admin": True,
        "is_owner": False,
        "is_bot": False,
        "tz": "UTC",
        "profile": {"email": "alice@acme.test", "real_name": "alice", "display_name": "alice"},
    }
    assert "email" not in client.users_info(user="U2")["user"]["profile"]
    with pytest.raises(SlackApiError) as excinfo:
        client.users_info(user="U404")
    assert api_error(excinfo) == "user_not_found"


def test_users_lookup_by_email(client: WebClient) -> None:
    assert client.users_lookupByEmail(email="alice@acme.test")["user"]["id"] == "U1"
    gone = client.users_lookupByEmail(email="gone@acme.test")["user"]
    assert gone["id"] == "U3"
    assert gone["deleted"] is True
    with pytest.raises(SlackApiError) as excinfo:
        client.users_lookupByEmail(email="nobody@acme.test")
    assert api_error(excinfo) == "users_not_found"


# ---------------------------------------------------------------- views


def test_views_open_update_publish(fake: FakeSlack, client: WebClient) -> None:
    modal = {
        "type": "modal",
        "callback_id": "setup",
        "title": {"type": "plain_text", "text": "Setup"},
        "private_metadata": "C1",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Loading…"}}],
    }
    opened = client.views_open(trigger_id="t1", view=modal)["view"]
    assert opened["id"].startswith("V")
    assert opened["callback_id"] == "setup"
    assert opened["private_metadata"] == "C1"
    assert opened["blocks"][0]["type"] == "section"
    assert opened["hash"]
    call = fake.last("views.open")
    assert call.params["view"]["callback_id"] == "setup"
    assert call.params["trigger_id"] == "t1"
    assert "Loading…" in call.all_text()

    modal["blocks"] = [{"type": "section", "text": {"type": "mrkdwn", "text": "Done"}}]
    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal)["view"]
    assert updated["id"] == opened["id"]
    assert fake.views[opened["id"]]["blocks"][0]["text"]["text"] == "Done"
    with pytest.raises(SlackApiError) as excinfo:
        client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal)
    assert api_error(excinfo) == "hash_conflict"

    home = {
        "type": "home",
        "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "Spend"}}],
    }
    published = client.views_publish(user_id="U1", view=home)["view"]
    assert published["type"] == "home"
    assert fake.home_views["U1"]["blocks"][0]["type"] == "header"
    assert fake.last("views.publish").blocks[0]["type"] == "header"


def test_views_open_expired_trigger(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.views_open(trigger_id="expired", view={"type": "modal", "blocks": []})
    assert api_error(excinfo) == "expired_trigger_id"


# ---------------------------------------------------------------- chat


def test_chat_post_message_shapes_and_increasing_ts(fake: FakeSlack, client: WebClient) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*$12.34* today"}}]
    first = client.chat_postMessage(channel="C1", text="spend", blocks=blocks)
    second = client.chat_postMessage(channel="C1", text="again")
    assert first["channel"] == "C1"
    assert first["message"]["text"] == "spend"
    assert first["message"]["blocks"] == blocks
    assert float(second["ts"]) > float(first["ts"])
    assert abs(float(first["ts"]) - time.time()) < 60
    call = fake.calls_to("chat.postMessage")[0]
    assert call.params["blocks"][0]["type"] == "section"
    assert call.blocks == blocks
    assert "*$12.34* today" in call.all_text()
    # DMs and user ids are always accepted; a user id posts into the app's DM.
    assert client.chat_postMessage(channel="DU2", text="hi")["channel"] == "DU2"
    assert client.chat_postMessage(channel="U2", text="hi")["channel"] == "DU2"


def test_form_encoded_json_fields_are_decoded_and_raw_kept(
    fake: FakeSlack, client: WebClient
) -> None:
    blocks = [{"type": "divider"}]
    client.api_call(
        "chat.postMessage", params={"channel": "C1", "text": "x", "blocks": json.dumps(blocks)}
    )
    call = fake.last("chat.postMessage")
    assert call.content_type.startswith("application/x-www-form-urlencoded")
    assert call.params["blocks"] == blocks
    assert call.raw_params["blocks"] == json.dumps(blocks)
    assert call.json("blocks") == blocks


@pytest.mark.parametrize(
    ("channel", "error"),
    [("C2", "not_in_channel"), ("C3", "is_archived"), ("C999", "channel_not_found")],
)
def test_chat_post_message_channel_errors_raise(
    fake: FakeSlack, client: WebClient, channel: str, error: str
) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postMessage(channel=channel, text="hello")
    assert api_error(excinfo) == error
    assert fake.last("chat.postMessage").response == {"ok": False, "error": error}


def test_chat_post_ephemeral_and_update(client: WebClient) -> None:
    eph = client.chat_postEphemeral(channel="C1", user="U1", text="only you")
    assert eph["ok"] is True
    assert eph["message_ts"]
    posted = client.chat_postMessage(channel="C1", text="v1")
    updated = client.chat_update(channel="C1", ts=posted["ts"], text="v2", blocks=[])
    assert (updated["channel"], updated["ts"], updated["text"]) == ("C1", posted["ts"], "v2")
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postEphemeral(channel="C2", user="U1", text="x")
    assert api_error(excinfo) == "not_in_channel"


# ---------------------------------------------------------------- conversations


def test_conversations_open(fake: FakeSlack, client: WebClient) -> None:
    assert client.conversations_open(users="U1")["channel"]["id"] == "DU1"
    assert client.conversations_open(users=["U2"])["channel"]["id"] == "DU2"
    assert fake.last("conversations.open").params["users"] == "U2"
    for user, error in [
        ("U404", "user_not_found"),
        ("U3", "user_disabled"),
        ("UBOT", "cannot_dm_bot"),
    ]:
        with pytest.raises(SlackApiError) as excinfo:
            client.conversations_open(users=user)
        assert api_error(excinfo) == error


def test_conversations_info(client: WebClient) -> None:
    channel = client.conversations_info(channel="C2")["channel"]
    assert channel["id"] == "C2"
    assert channel["name"] == "private-ish"
    assert channel["is_member"] is False
    assert channel["is_archived"] is False
    with pytest.raises(SlackApiError) as excinfo:
        client.conversations_info(channel="C999")
    assert api_error(excinfo) == "channel_not_found"


# ---------------------------------------------------------------- files


def test_files_upload_v2_end_to_end(fake: FakeSlack, client: WebClient) -> None:
    content = "user,spend\nalice@acme.test,12.34\n"
    resp = client.files_upload_v2(
        channel="C1", content=content, filename="spend.csv", title="Spend", initial_comment="CSV"
    )
    assert resp["file"]["id"] == "F123"
    assert resp["file"]["title"] == "Spend"
    assert fake.uploads["F123"] == content.encode()
    assert fake.methods_called() == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]
    url_call = fake.last("files.getUploadURLExternal")
    assert url_call.params["filename"] == "spend.csv"
    assert url_call.params["length"] == str(len(content.encode()))
    complete = fake.last("files.completeUploadExternal")
    assert complete.params["files"] == [{"id": "F123", "title": "Spend"}]
    assert complete.params["channel_id"] == "C1"
    assert complete.params["initial_comment"] == "CSV"


def test_files_upload_v2_into_channel_without_bot_fails(fake: FakeSlack, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.files_upload_v2(channel="C2", content=b"\x00\x01", filename="x.bin")
    assert api_error(excinfo) == "not_in_channel"
    assert fake.uploads == {"F123": b"\x00\x01"}


def test_upload_url_accepts_multipart(fake: FakeSlack, client: WebClient) -> None:
    upload_url = client.files_getUploadURLExternal(filename="a.csv", length=3)["upload_url"]
    boundary = "XyZ"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + b"a\r\nb"
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = Request(
        upload_url,
        data=body,
        method="POST",
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    with urlopen(request, timeout=5) as response:
        assert response.status == 200
    assert fake.uploads["F123"] == b"a\r\nb"
    assert fake.last("upload").params["filename"] == "a.csv"


# ---------------------------------------------------------------- failures and retries


def test_rate_limit_is_retried_by_rate_limit_handler(fake: FakeSlack) -> None:
    client = fake.client()
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))
    fake.fail_next("chat.postMessage", status=429, retry_after=0)
    assert client.chat_postMessage(channel="C1", text="hi")["ok"] is True
    first, second = fake.calls_to("chat.postMessage")
    assert (first.status, second.status) == (429, 200)
    assert first.response == {"ok": False, "error": "ratelimited"}


def test_rate_limit_without_handler_raises_with_retry_after(
    fake: FakeSlack, client: WebClient
) -> None:
    fake.fail_next("users.lookupByEmail", status=429, retry_after=30)
    with pytest.raises(SlackApiError) as excinfo:
        client.users_lookupByEmail(email="alice@acme.test")
    assert excinfo.value.response.status_code == 429
    assert excinfo.value.response.headers["Retry-After"] == "30"
    # the failure was used up
    assert client.users_lookupByEmail(email="alice@acme.test")["user"]["id"] == "U1"


def test_fail_next_error_and_count(fake: FakeSlack, client: WebClient) -> None:
    fake.fail_next("auth.test", error="account_inactive", count=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as excinfo:
            client.auth_test()
        assert api_error(excinfo) == "account_inactive"
    assert client.auth_test()["ok"] is True


def test_reset_forgets_traffic_keeps_directory(fake: FakeSlack, client: WebClient) -> None:
    client.files_upload_v2(channel="C1", content="x", filename="x.txt")
    fake.fail_next("auth.test", error="boom")
    fake.reset()
    assert fake.calls == []
    assert fake.uploads == {}
    assert client.auth_test()["ok"] is True
    assert client.users_info(user="U1")["user"]["id"] == "U1"
    assert (
        client.files_upload_v2(channel="C1", content="y", filename="y.txt")["file"]["id"] == "F123"
    )


# ---------------------------------------------------------------- response_url


def test_response_url_post_is_recorded(fake: FakeSlack) -> None:
    url = fake.response_url("cmd-1")
    response = WebhookClient(url).send(text="done", response_type="ephemeral")
    assert response.status_code == 200
    call = fake.wait_for("response_url")[0]
    assert call.params["_key"] == "cmd-1"
    assert call.params["text"] == "done"
    assert call.params["response_type"] == "ephemeral"


def test_response_url_failure(fake: FakeSlack) -> None:
    fake.fail_next("response_url", status=404, error="expired_url")
    response = WebhookClient(fake.response_url()).send(text="late")
    assert response.status_code == 404
    assert response.body == "expired_url"


def test_wait_for_times_out_with_a_useful_message(fake: FakeSlack) -> None:
    with pytest.raises(AssertionError, match=r"chat\.postMessage"):
        fake.wait_for("chat.postMessage", timeout=0.1)


# ---------------------------------------------------------------- signing and Bolt


def test_signed_headers_verify() -> None:
    body = slash_command_body("me")
    headers = signed_headers(body)
    assert headers["content-type"] == "application/x-www-form-urlencoded"
    assert SignatureVerifier(SIGNING_SECRET).is_valid_request(body, headers)
    assert not SignatureVerifier("another-secret").is_valid_request(body, headers)
    assert not SignatureVerifier(SIGNING_SECRET).is_valid_request(body + "x", headers)
    event = app_home_opened_body()
    assert signed_headers(event)["content-type"] == "application/json"
    assert SignatureVerifier(SIGNING_SECRET).is_valid_request(event, signed_headers(event))


def test_body_shapes() -> None:
    command = {k: v[0] for k, v in parse_qs(slash_command_body("me now")).items()}
    assert command["command"] == "/spend"
    assert command["text"] == "me now"
    assert command["is_enterprise_install"] == "false"
    assert "enterprise_id" not in command
    assert parse_qs(slash_command_body("x", enterprise_id="E1"))["enterprise_id"] == ["E1"]

    action = json.loads(parse_qs(block_actions_body("approve", "42"))["payload"][0])
    assert action["type"] == "block_actions"
    assert action["actions"][0]["action_id"] == "approve"
    assert action["actions"][0]["value"] == "42"
    assert action["channel"]["id"] == "C1"

    values = {"key_block": {"key_input": {"type": "plain_text_input", "value": "sk-1"}}}
    submission = json.loads(
        parse_qs(view_submission_body("setup", values, private_metadata="C1"))["payload"][0]
    )
    assert submission["view"]["state"]["values"] == values
    assert submission["view"]["callback_id"] == "setup"
    assert submission["view"]["private_metadata"] == "C1"

    event = json.loads(app_home_opened_body("U7"))
    assert event["type"] == "event_callback"
    assert event["event"] == {
        **event["event"],
        "type": "app_home_opened",
        "user": "U7",
        "tab": "home",
    }


@pytest.fixture
def app(fake: FakeSlack) -> App:
    app = App(
        signing_secret=SIGNING_SECRET,
        token="xoxb-test",
        token_verification_enabled=False,
        client=WebClient(base_url=fake.base_url, token="xoxb-test"),
    )

    @app.command("/spend")
    def spend(ack, respond, client, command):  # type: ignore[no-untyped-def]
        ack()
        if command["text"] == "post":
            client.chat_postMessage(channel=command["channel_id"], text="posted")
            respond("done")

    @app.action("approve")
    def approve(ack, body):  # type: ignore[no-untyped-def]
        ack()

    @app.view("setup")
    def setup(ack, view):  # type: ignore[no-untyped-def]
        if not view["state"]["values"]["key_block"]["key_input"]["value"].startswith("sk-"):
            ack(response_action="errors", errors={"key_block": "not a key"})
        else:
            ack()

    @app.event("app_home_opened")
    def home(event, client):  # type: ignore[no-untyped-def]
        client.views_publish(user_id=event["user"], view={"type": "home", "blocks": []})

    return app


def test_bolt_signed_command_ok_forged_and_stale_rejected(app: App) -> None:
    body = slash_command_body("me")
    assert app.dispatch(bolt_request(body)).status == 200

    forged = signed_headers(body)
    forged["x-slack-signature"] = "v0=" + "0" * 64
    assert app.dispatch(BoltRequest(body=body, headers=forged)).status == 401  # type: ignore[arg-type]
    stale = bolt_request(body, timestamp=int(time.time()) - 6 * 60)
    assert app.dispatch(stale).status == 401
    wrong_secret = bolt_request(body, secret="not-the-secret")
    assert app.dispatch(wrong_secret).status == 401


def test_bolt_listener_reaches_fake_via_client_and_respond(fake: FakeSlack, app: App) -> None:
    body = slash_command_body("post", response_url=fake.response_url("cmd"))
    assert app.dispatch(bolt_request(body)).status == 200
    (post,) = fake.wait_for("chat.postMessage")
    assert (post.params["channel"], post.params["text"]) == ("C1", "posted")
    assert post.params["team_id"] == "T1"  # Bolt's per-request client adds team_id
    assert post.token == "xoxb-test"
    (reply,) = fake.wait_for("response_url")
    assert reply.params["text"] == "done"
    assert reply.params["_key"] == "cmd"


def test_bolt_interactivity_and_events(fake: FakeSlack, app: App) -> None:
    assert app.dispatch(bolt_request(block_actions_body("approve", "1"))).status == 200
    bad = {"key_block": {"key_input": {"type": "plain_text_input", "value": "nope"}}}
    response = app.dispatch(bolt_request(view_submission_body("setup", bad)))
    assert response.status == 200
    assert json.loads(response.body) == {
        "response_action": "errors",
        "errors": {"key_block": "not a key"},
    }
    good = {"key_block": {"key_input": {"type": "plain_text_input", "value": "sk-1"}}}
    response = app.dispatch(bolt_request(view_submission_body("setup", good)))
    assert (response.status, response.body) == (200, "")
    assert app.dispatch(bolt_request(app_home_opened_body("U2"))).status == 200
    fake.wait_for("views.publish")
    assert fake.home_views["U2"]["type"] == "home"


def test_conversations_history_returns_posted_messages_with_metadata(client: WebClient) -> None:
    metadata = {"event_type": "stackspend_delivery", "event_payload": {"key": "k1"}}
    posted = client.chat_postMessage(channel="C1", text="digest", metadata=metadata)
    client.chat_postMessage(channel="C1", text="later")
    history = client.conversations_history(channel="C1", oldest=str(float(posted["ts"]) - 1))
    texts = [m["text"] for m in history["messages"]]
    assert texts == ["later", "digest"]
    assert history["messages"][1]["metadata"]["event_payload"]["key"] == "k1"
