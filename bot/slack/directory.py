"""What Slack says about a person (admin rights, email), cached for a few minutes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError


@dataclass(frozen=True)
class SlackPerson:
    user_id: str
    email: str | None
    is_admin: bool
    name: str
    tz: str | None = None


class SlackDirectory:
    """``users.info`` with a time-limited cache, keyed by team and user."""

    def __init__(
        self, *, ttl_seconds: float = 300.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl = ttl_seconds
        self._clock = clock
        self._cache: dict[tuple[str, str], tuple[float, SlackPerson]] = {}
        self._lock = threading.Lock()

    def person(self, client: WebClient, team_id: str, user_id: str) -> SlackPerson:
        key = (team_id, user_id)
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None and self._clock() - cached[0] < self._ttl:
            return cached[1]
        person = self._lookup(client, user_id)
        with self._lock:
            self._cache[key] = (self._clock(), person)
        return person

    @staticmethod
    def _lookup(client: WebClient, user_id: str) -> SlackPerson:
        try:
            user = client.users_info(user=user_id)["user"]
        except SlackApiError:
            return SlackPerson(user_id=user_id, email=None, is_admin=False, name=user_id)
        profile = user.get("profile") or {}
        return SlackPerson(
            user_id=user_id,
            email=(profile.get("email") or "").lower() or None,
            is_admin=bool(user.get("is_admin") or user.get("is_owner")),
            name=profile.get("real_name") or user.get("real_name") or user.get("name") or user_id,
            tz=user.get("tz"),
        )
