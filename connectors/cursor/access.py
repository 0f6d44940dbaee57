"""How to reach Cursor: the options every client gets, and the clients handed out to close."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from connectors.cursor.client import ClientOptions, CursorAdminClient
from connectors.cursor.source import CursorSource

#: The key check in the connect modal must answer within Slack's three seconds.
KEY_CHECK_TIMEOUT_SECONDS = 2.0


@dataclass
class CursorAccess:
    """Options for every client, and an optional transport (the simulator's, in tests)."""

    options: ClientOptions
    transport: httpx.BaseTransport | None = None
    events_page_size: int = 1000
    clients: list[CursorAdminClient] = field(default_factory=list)

    @classmethod
    def for_key_check(
        cls, base_url: str, transport: httpx.BaseTransport | None = None
    ) -> CursorAccess:
        """One fast attempt, whole answer within the check's time (a dripping server too)."""
        options = ClientOptions(
            base_url=base_url,
            timeout_seconds=KEY_CHECK_TIMEOUT_SECONDS,
            deadline_seconds=KEY_CHECK_TIMEOUT_SECONDS,
            budget_seconds=KEY_CHECK_TIMEOUT_SECONDS,
            max_attempts=1,
        )
        return cls(options, transport)

    def client(self, api_key: str) -> CursorAdminClient:
        client = CursorAdminClient(api_key, self.options, transport=self.transport)
        self.clients.append(client)
        return client

    def source(self, api_key: str) -> CursorSource:
        return CursorSource(self.client(api_key), events_page_size=self.events_page_size)

    def close(self) -> None:
        for client in self.clients:
            client.close()
        self.clients.clear()
