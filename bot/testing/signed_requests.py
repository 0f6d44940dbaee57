"""Correctly signed Bolt requests, with bodies shaped exactly as Slack sends them.

- slash command: URL-encoded form fields
- interactivity (block_actions, view_submission): one form field ``payload=<url-encoded JSON>``
- Events API: raw JSON

The signature covers the exact body string that is dispatched (``v0:{ts}:{body}``).
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

from slack_bolt.request import BoltRequest
from slack_sdk.signature import SignatureVerifier

SIGNING_SECRET = "test-signing-secret"
API_APP_ID = "A1"
# Default response_url: refuses connections at once (port 9 on loopback), so a forgotten
# ``response_url=fake.response_url()`` fails fast instead of reaching out to Slack.
DEFAULT_RESPONSE_URL = "http://127.0.0.1:9/commands/T1/1/unset"

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def _payload_body(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})


def _user(user_id: str, team_id: str) -> dict[str, Any]:
    return {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": team_id}


def slash_command_body(
    text: str,
    *,
    user_id: str = "U1",
    team_id: str = "T1",
    channel_id: str = "C1",
    command: str = "/spend",
    response_url: str = DEFAULT_RESPONSE_URL,
    trigger_id: str = "t1",
    enterprise_id: str | None = None,
    is_enterprise_install: bool = False,
) -> str:
    """A slash-command body (form-encoded, every field a string, as Slack sends it).

    Bolt quirk: its parser treats any form body containing the substring "payload" as an
    interactivity payload, so command text containing "payload" parses as an empty body.
    """
    fields: dict[str, str] = {
        "token": "verification-token-unused",
        "team_id": team_id,
        "team_domain": "acme",
    }
    if enterprise_id is not None:
        fields["enterprise_id"] = enterprise_id
        fields["enterprise_name"] = "Acme Org"
    fields.update(
        {
            "channel_id": channel_id,
            "channel_name": "general" if channel_id.startswith("C") else "directmessage",
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": API_APP_ID,
            "is_enterprise_install": "true" if is_enterprise_install else "false",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
    )
    return urlencode(fields)


def block_actions_body(
    action_id: str,
    value: str = "",
    *,
    user_id: str = "U1",
    team_id: str = "T1",
    response_url: str | None = None,
    message: dict[str, Any] | None = None,
    channel_id: str | None = "C1",
    block_id: str = "b1",
) -> str:
    """A ``block_actions`` body (``payload=<json>``) for a button click.

    With ``channel_id=None`` the click comes from a view (App Home): the container is a view
    and the payload carries ``view`` instead of ``channel``/``message``.
    """
    action = {
        "type": "button",
        "action_id": action_id,
        "block_id": block_id,
        "text": {"type": "plain_text", "text": action_id, "emoji": True},
        "value": value,
        "action_ts": f"{int(time.time())}.000200",
    }
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": _user(user_id, team_id),
        "api_app_id": API_APP_ID,
        "token": "verification-token-unused",
        "trigger_id": "t1",
        "team": {"id": team_id, "domain": "acme"},
        "enterprise": None,
        "is_enterprise_install": False,
        "state": {"values": {}},
        "actions": [action],
    }
    if channel_id is not None:
        message_ts = (message or {}).get("ts", "1700000001.000100")
        payload["container"] = {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": message is None,
        }
        payload["channel"] = {"id": channel_id, "name": "general"}
        if message is not None:
            payload["message"] = message
    else:
        payload["container"] = {"type": "view", "view_id": "VHOME"}
        payload["view"] = {
            "id": "VHOME",
            "team_id": team_id,
            "type": "home",
            "blocks": [],
            "private_metadata": "",
            "callback_id": "",
            "state": {"values": {}},
            "hash": "1700000000.home",
            "app_id": API_APP_ID,
            "bot_id": "BBOT",
        }
    if response_url is not None:
        payload["response_url"] = response_url
    return _payload_body(payload)


def view_submission_body(
    callback_id: str,
    values: dict[str, dict[str, dict[str, Any]]],
    *,
    user_id: str = "U1",
    team_id: str = "T1",
    private_metadata: str = "",
    view_id: str = "VMODAL",
) -> str:
    """A ``view_submission`` body. ``values`` is ``view.state.values``:
    ``{block_id: {action_id: {"type": "plain_text_input", "value": "..."}}}``."""
    payload = {
        "type": "view_submission",
        "team": {"id": team_id, "domain": "acme"},
        "user": _user(user_id, team_id),
        "api_app_id": API_APP_ID,
        "token": "verification-token-unused",
        "trigger_id": "t2",
        "view": {
            "id": view_id,
            "team_id": team_id,
            "type": "modal",
            "blocks": [],
            "private_metadata": private_metadata,
            "callback_id": callback_id,
            "state": {"values": values},
            "hash": "1700000000.modal",
            "title": {"type": "plain_text", "text": "StackSpend"},
            "clear_on_close": False,
            "notify_on_close": False,
            "close": None,
            "submit": {"type": "plain_text", "text": "Submit"},
            "previous_view_id": None,
            "root_view_id": view_id,
            "app_id": API_APP_ID,
            "external_id": "",
            "app_installed_team_id": team_id,
            "bot_id": "BBOT",
        },
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return _payload_body(payload)


def app_home_opened_body(user_id: str = "U1", team_id: str = "T1") -> str:
    """An Events API ``event_callback`` JSON body for ``app_home_opened`` (Home tab)."""
    now = int(time.time())
    payload = {
        "token": "verification-token-unused",
        "team_id": team_id,
        "api_app_id": API_APP_ID,
        "event": {
            "type": "app_home_opened",
            "user": user_id,
            "channel": "D" + user_id,
            "tab": "home",
            "event_ts": f"{now}.000300",
        },
        "type": "event_callback",
        "event_id": f"Ev{now}",
        "event_time": now,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": "UBOT",
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
    }
    return json.dumps(payload)


def event_body(
    event: dict[str, Any],
    *,
    team_id: str | None = "T1",
    enterprise_id: str | None = None,
    is_enterprise_install: bool = False,
) -> str:
    """An Events API ``event_callback`` JSON body carrying ``event`` (e.g. ``app_uninstalled``,
    ``tokens_revoked``), for a team or, org-wide on Enterprise Grid, an enterprise."""
    now = int(time.time())
    payload = {
        "token": "verification-token-unused",
        "team_id": team_id or enterprise_id,
        "enterprise_id": enterprise_id,
        "api_app_id": API_APP_ID,
        "event": {**event, "event_ts": f"{now}.000400"},
        "type": "event_callback",
        "event_id": f"Ev{now}{event.get('type', '')}",
        "event_time": now,
        "is_enterprise_install": is_enterprise_install,
        "authorizations": [
            {
                "enterprise_id": enterprise_id,
                "team_id": None if is_enterprise_install else team_id,
                "user_id": "UBOT",
                "is_bot": True,
                "is_enterprise_install": is_enterprise_install,
            }
        ],
    }
    return json.dumps(payload)


def signed_headers(
    body: str,
    *,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    content_type: str | None = None,
) -> dict[str, str]:
    """Headers Slack would send with ``body``: content-type, timestamp, v0 signature.

    ``timestamp`` defaults to now; ``content_type`` defaults to JSON for a body starting
    with "{" and to form encoding otherwise.
    """
    ts = str(int(time.time()) if timestamp is None else timestamp)
    if content_type is None:
        content_type = JSON if body.lstrip().startswith("{") else FORM
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    assert signature is not None
    return {
        "content-type": content_type,
        "x-slack-request-timestamp": ts,
        "x-slack-signature": signature,
    }


def bolt_request(body: str, **kw: Any) -> BoltRequest:
    """A signed ``BoltRequest`` for ``app.dispatch(...)``; ``kw`` go to :func:`signed_headers`."""
    return BoltRequest(body=body, headers=signed_headers(body, **kw))  # type: ignore[arg-type]
