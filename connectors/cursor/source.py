"""Cursor as a source of neutral records: windows, paging and transforms.

``CursorSource`` is what the ledger uses. It asks the client for pages and
yields provider-neutral records; it keeps no state between calls.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from connectors.cursor import endpoints, transform, wire
from connectors.cursor.client import CursorAdminClient
from connectors.cursor.windows import DAY_MS, from_ms, split_window, to_ms
from connectors.errors import MalformedResponseError
from connectors.records import DailyActivity, MemberSnapshot, MemberSpend, UsageEvent


@dataclass(frozen=True, slots=True)
class EventPage:
    """One page of usage events, and where it sits in its window."""

    window_start_ms: int
    window_end_ms: int
    page: int
    num_pages: int
    has_next: bool
    events: list[UsageEvent]


@dataclass(frozen=True, slots=True)
class SpendSnapshot:
    cycle_start: datetime
    members: list[MemberSpend]


class CursorSource:
    def __init__(
        self,
        client: CursorAdminClient,
        *,
        events_page_size: int = endpoints.MAX_EVENTS_PAGE_SIZE,
        max_range_days: int = endpoints.MAX_RANGE_DAYS,
    ) -> None:
        if not 1 <= events_page_size <= endpoints.MAX_EVENTS_PAGE_SIZE:
            raise ValueError(f"events_page_size must be 1..{endpoints.MAX_EVENTS_PAGE_SIZE}")
        self.client = client
        self.events_page_size = events_page_size
        self.max_range_days = max_range_days

    def members(self) -> list[MemberSnapshot]:
        return [transform.to_member(m) for m in self.client.get_members().teamMembers]

    def usage_event_pages(
        self, start: datetime, end: datetime, *, resume: tuple[int, int, int] | None = None
    ) -> Iterator[EventPage]:
        """Every event in ``[start, end]`` (inclusive), window by window, page by page.

        ``resume`` is ``(window_start_ms, window_end_ms, page)``: the next page to
        read of a window an earlier run did not finish. It applies only if that
        window comes up again with the same bounds (its pages are then the same).
        """
        for window_start, window_end in split_window(
            to_ms(start), to_ms(end), max_days=self.max_range_days
        ):
            first_page = 1
            if resume is not None and (window_start, window_end) == resume[:2]:
                first_page = max(1, resume[2])
            yield from self._window_pages(window_start, window_end, first_page)

    def _window_pages(self, start_ms: int, end_ms: int, first_page: int) -> Iterator[EventPage]:
        keyer = transform.EventKeyer()
        page = first_page
        if page > 1:
            # Twins (same millisecond and model) may straddle the page boundary:
            # replay the previous page through the keyer so ordinals stay stable.
            self._read_events(self._events_page(start_ms, end_ms, page - 1), keyer)
        while True:
            response = self._events_page(start_ms, end_ms, page)
            events = self._read_events(response, keyer)
            num_pages = response.num_pages or math.ceil(response.total / self.events_page_size)
            has_next = response.has_next
            yield EventPage(start_ms, end_ms, page, num_pages, has_next, events)
            if not has_next or not events:
                return
            page += 1

    @staticmethod
    def _read_events(
        response: wire.UsageEventsPage, keyer: transform.EventKeyer
    ) -> list[UsageEvent]:
        try:
            return list(transform.to_usage_events(response.events, keyer))
        except ValueError as exc:
            raise MalformedResponseError(
                f"Cursor sent a usage event that could not be read ({exc}); "
                "nothing from its page was stored."
            ) from None

    def _events_page(self, start_ms: int, end_ms: int, page: int) -> wire.UsageEventsPage:
        return self.client.get_usage_events(
            start_ms=start_ms, end_ms=end_ms, page=page, page_size=self.events_page_size
        )

    def spend(self) -> SpendSnapshot:
        page, cycle_start_ms = 1, 0
        rows: list[MemberSpend] = []
        while True:
            response = self.client.get_spend(page=page, page_size=endpoints.SPEND_PAGE_SIZE)
            cycle_start_ms = response.subscriptionCycleStart
            rows.extend(
                transform.to_member_spend(r, cycle_start_ms) for r in response.teamMemberSpend
            )
            if page >= response.totalPages or not response.teamMemberSpend:
                break
            page += 1
        return SpendSnapshot(cycle_start=from_ms(cycle_start_ms), members=rows)

    def daily_activity(self, start: datetime, end: datetime) -> list[DailyActivity]:
        rows: list[DailyActivity] = []
        for window_start, window_end in split_window(
            to_ms(start), to_ms(end), max_days=self.max_range_days
        ):
            response = self.client.get_daily_usage(start_ms=window_start, end_ms=window_end)
            rows.extend(transform.to_daily_activity(r) for r in response.data)
        return rows

    def oldest_event_at(self, now: datetime, *, max_lookback_days: int = 400) -> datetime | None:
        """When the oldest event Cursor still returns happened, or None if it has none.

        Walks back one window at a time asking for a single event (the window's
        count comes with it), stops at the first empty window, then reads the
        last page of the oldest non-empty window at page size one.
        """
        end_ms = to_ms(now)
        floor_ms = to_ms(now - timedelta(days=max_lookback_days))
        oldest: tuple[int, int, int] | None = None
        upper = end_ms
        while upper > floor_ms:
            lower = max(floor_ms, upper - self.max_range_days * DAY_MS + 1)
            response = self.client.get_usage_events(
                start_ms=lower, end_ms=upper, page=1, page_size=1
            )
            if not response.total:
                break
            oldest = (lower, upper, response.total)
            upper = lower - 1
        if oldest is None:
            return None
        lower, upper, count = oldest
        last = self.client.get_usage_events(start_ms=lower, end_ms=upper, page=count, page_size=1)
        if not last.events:
            return from_ms(lower)
        try:
            return from_ms(min(wire.to_epoch_ms(event["timestamp"]) for event in last.events))
        except (KeyError, ValueError) as exc:
            raise MalformedResponseError(
                f"Cursor sent an event without a timestamp ({exc})."
            ) from None
