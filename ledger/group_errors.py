"""Errors of the billing-group features (facts only; ``digests.group_words`` says them)."""

from __future__ import annotations

import enum

from ledger.errors import LedgerError


class Unavailable(enum.StrEnum):
    #: Cursor refused billing groups for this team (403: not on Enterprise).
    PLAN = "plan"
    #: No sync has read the groups yet.
    NOT_READ = "not_read"


class GroupsUnavailable(LedgerError):
    """Billing groups cannot be used for this connection; ``detail`` is the sync's note."""

    def __init__(self, why: Unavailable, detail: str = "") -> None:
        super().__init__(why.value)
        self.why = why
        self.detail = detail


class UnknownGroup(LedgerError):
    """No billing group named ``name``; ``known`` lists the group names there are."""

    def __init__(self, name: str, known: tuple[str, ...] = ()) -> None:
        super().__init__(name)
        self.name = name
        self.known = known
