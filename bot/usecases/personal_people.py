"""Who a personal line goes to: their Slack profile now, and their provider email.

Read from Slack (``users.info``) at every line: a person who was deactivated gets
nothing, and a person who moved gets their next line at their new local time.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

#: ``users.info`` errors that mean the person is not there any more.
GONE_ERRORS = frozenset({"user_not_found", "account_inactive", "user_disabled"})


@dataclass(frozen=True)
class Recipient:
    user_id: str
    #: The provider email their figures are read for (None: unknown, nothing is sent).
    email: str | None
    #: Their profile's IANA timezone, when Slack gives a valid one.
    timezone: str | None
    #: Why nothing is sent to them (None: send).
    gone: str | None = None


def valid_zone(name: str | None) -> str | None:
    """``name`` if it is an IANA timezone this machine knows, else None."""
    if not name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def recipient(client: WebClient, user_id: str, linked_email: str | None) -> Recipient:
    """The person as Slack knows them now; SlackApiError when Slack cannot say (retried)."""
    try:
        user = client.users_info(user=user_id)["user"]
    except SlackApiError as exc:
        error = str(exc.response.get("error") or "")
        if error in GONE_ERRORS:
            return Recipient(user_id, None, None, gone=f"not in Slack ({error})")
        raise
    if user.get("deleted"):
        return Recipient(user_id, None, None, gone="deactivated in Slack")
    profile = user.get("profile") or {}
    email = linked_email or (profile.get("email") or "").strip().lower() or None
    if email is None:
        return Recipient(user_id, None, None, gone="no email to match to Cursor")
    return Recipient(user_id, email.lower(), valid_zone(user.get("tz")))
