"""The Cursor Admin API routes this project uses, with their documented limits.

Shared by the client and the simulator so that both agree on names and numbers.
"""

from __future__ import annotations

from typing import Final

DEFAULT_BASE_URL: Final = "https://api.cursor.com"

MEMBERS: Final = "/teams/members"
DAILY_USAGE: Final = "/teams/daily-usage-data"
SPEND: Final = "/teams/spend"
USAGE_EVENTS: Final = "/teams/filtered-usage-events"
USER_SPEND_LIMIT: Final = "/teams/user-spend-limit"
#: Billing groups (Enterprise only): the list, and ``/teams/groups/:id`` under it.
GROUPS: Final = "/teams/groups"

#: Requests allowed per minute, per team and route (reference section 2, newest docs).
DEFAULT_RATE_LIMITS: Final[dict[str, int]] = {
    MEMBERS: 20,
    DAILY_USAGE: 20,
    SPEND: 20,
    USAGE_EVENTS: 60,
    USER_SPEND_LIMIT: 250,
    GROUPS: 20,
}

#: The longest date range one request may cover.
MAX_RANGE_DAYS: Final = 30
#: Largest page of usage events the API serves.
MAX_EVENTS_PAGE_SIZE: Final = 1000
#: Page size used for spend (undocumented cap; 100 is what clients use).
SPEND_PAGE_SIZE: Final = 100
#: Users per page for daily usage in paginated mode.
DAILY_USAGE_PAGE_SIZE: Final = 500
