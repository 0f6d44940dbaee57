"""One message that says how a long job is going, edited in place (``chat.update``).

Posting a new message per step would flood the conversation and hit Slack's one message a
second per channel; editing one message, at most every ``interval`` seconds, keeps the
conversation to a single line that ends as the job's result.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

logger = logging.getLogger(__name__)

#: The fewest seconds between two edits of the message.
UPDATE_INTERVAL_SECONDS = 2.0


class ProgressMessage:
    """Posted by :meth:`post`, edited by :meth:`update` (throttled) and :meth:`finish`."""

    def __init__(
        self,
        client: WebClient,
        channel: str,
        *,
        interval: float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._channel = channel
        self._interval = UPDATE_INTERVAL_SECONDS if interval is None else interval
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._last_at = 0.0
        self._last_text = ""
        self.ts: str | None = None

    def post(self, text: str) -> str:
        """Post the message; its ``ts`` (raises when Slack refuses: nothing to edit later)."""
        reply = self._client.chat_postMessage(channel=self._channel, text=text)
        self.ts = str(reply["ts"])
        self._channel = str(reply.get("channel") or self._channel)
        self._last_at, self._last_text = self._monotonic(), text
        return self.ts

    def update(self, text: str) -> bool:
        """Edit the message unless it was edited less than ``interval`` ago; True if edited.
        A failed edit is logged, never raised: the job goes on and its result still lands."""
        with self._lock:
            now = self._monotonic()
            if now - self._last_at < self._interval or text == self._last_text:
                return False
            self._last_at, self._last_text = now, text
        return self._edit(text)

    def finish(self, text: str) -> bool:
        """The last edit, always sent: the job's result."""
        with self._lock:
            self._last_at, self._last_text = self._monotonic(), text
        return self._edit(text)

    def _edit(self, text: str) -> bool:
        if self.ts is None:
            return False
        try:
            self._client.chat_update(channel=self._channel, ts=self.ts, text=text)
        except SlackApiError as exc:
            logger.warning("could not edit a progress message: %s", exc.response.get("error"))
            return False
        return True
