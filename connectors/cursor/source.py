"""Cursor as a source of neutral records: windows, paging and transforms.

``CursorSource`` is what the ledger uses. It asks the client for pages and
yields provider-neutral records; it keeps no state between calls.

Every pager is bounded (:class:`PageGuard`): it trusts ``hasNextPage`` only while the
page count the envelope reports agrees (``pagination.numPages`` for usage events,
``totalPages`` for spend), refuses a count that keeps growing from page to page, and
reads at most ``ClientOptions.max_pages`` pages of one window in one run. Each breach
is a :class:`PagingError` raised before the offending page is handed out, so a sync
keeps the pages before it and resumes at that page next time.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from connectors.cursor import endpoints, transform, wire
from connectors.cursor.client import CursorAdminClient
from connectors.cursor.group_source import read_cycle_groups
from connectors.cursor.windows import DAY_MS, from_ms, split_window, to_ms
from connectors.errors import MalformedResponseError, PagingError
from connectors.group_records import CycleGroups
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


def _minute(ms: int) -> str:
    return f"{from_ms(ms):%Y-%m-%d %H:%M}"


#: How many times a window's page count may grow while it is read (events may land late).
MAX_PAGE_COUNT_GROWTHS = 2


class PageGuard:
    """Checks each page of one pager against its own count and the page cap.

    ``what`` names the pager in errors; ``first_page`` is where this run started;
    ``resumable`` says whether the pages before a breach are stored (usage events) or
    the whole read is dropped (a snapshot such as spend).
    """

    def __init__(
        self, what: str, *, first_page: int, max_pages: int, resumable: bool = True
    ) -> None:
        self.what = what
        self.first_page = first_page
        self.max_pages = max_pages
        self.resumable = resumable
        self.first_count: int | None = None
        self.count = 0
        self.growths = 0

    def check(self, page: int, count: int, has_next: bool) -> None:
        """Raise ``PagingError`` if page ``page`` (saying ``count`` pages) breaks a rule."""
        if count > 0:
            if self.first_count is None:
                self.first_count = count
            elif count > self.count:
                self.growths += 1
            self.count = count
        read = page - self.first_page + 1
        if not self.resumable:
            kept = f"nothing of {self.what} was stored, the next sync reads it again"
        elif read > 1:
            kept = f"the {read - 1:,} pages before it are kept and the next sync resumes there"
        else:
            kept = f"the next sync reads page {page:,} again"
        if self.growths > MAX_PAGE_COUNT_GROWTHS:
            raise PagingError(
                f"Cursor kept reporting more pages of {self.what}: its page count grew "
                f"from {self.first_count:,} to {count:,} while pages {self.first_page:,} to "
                f"{page:,} were read; {kept}."
            )
        if has_next and 0 < count <= page:
            raise PagingError(
                f"Cursor said page {page:,} of {count:,} of {self.what} had more pages "
                f"after it; {kept}."
            )
        if read > self.max_pages:
            of = f" of {count:,}" if count else ""
            raise PagingError(
                f"Cursor kept reporting more pages of {self.what} (page {page:,}{of}) beyond "
                f"the {self.max_pages:,} page cap of one run; {kept}."
            )


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
        max_pages: int | None = None,
    ) -> None:
        if not 1 <= events_page_size <= endpoints.MAX_EVENTS_PAGE_SIZE:
            raise ValueError(f"events_page_size must be 1..{endpoints.MAX_EVENTS_PAGE_SIZE}")
        self.client = client
        self.events_page_size = events_page_size
        self.max_range_days = max_range_days
        self.max_pages = client.options.max_pages if max_pages is None else max_pages
        if self.max_pages < 1:
            raise ValueError("max_pages must be at least 1")

    @property
    def requests_sent(self) -> int:
        """HTTP requests this source's client has sent, retries included."""
        return self.client.stats.requests

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
        window = f"usage events from {_minute(start_ms)} to {_minute(end_ms)} UTC"
        guard = PageGuard(window, first_page=first_page, max_pages=self.max_pages)
        while True:
            response = self._events_page(start_ms, end_ms, page)
            num_pages = response.num_pages or math.ceil(response.total / self.events_page_size)
            has_next = response.has_next
            guard.check(page, num_pages, has_next and bool(response.events))
            events = self._read_events(response, keyer)
            # The wire's dicts die here, before the page is stored: kept alive while it is,
            # they outlive the collector's young generations and make it scan the heap.
            del response
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
        guard = PageGuard("spend", first_page=1, max_pages=self.max_pages, resumable=False)
        while True:
            response = self.client.get_spend(page=page, page_size=endpoints.SPEND_PAGE_SIZE)
            has_next = page < response.totalPages and bool(response.teamMemberSpend)
            guard.check(page, response.totalPages, has_next)
            cycle_start_ms = response.subscriptionCycleStart
            rows.extend(
                transform.to_member_spend(r, cycle_start_ms) for r in response.teamMemberSpend
            )
            if page >= response.totalPages or not response.teamMemberSpend:
                break
            page += 1
        return SpendSnapshot(cycle_start=from_ms(cycle_start_ms), members=rows)

    def cycle_groups(self, day: date) -> CycleGroups:
        """Billing groups of the cycle containing ``day`` (``PlanError`` off Enterprise)."""
        return read_cycle_groups(self.client, day)

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
