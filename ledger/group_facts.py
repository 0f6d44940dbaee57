"""What a report by billing group adds to a report (``ledger.queries.Report.groups``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class Reconciled:
    """A group's total here next to Cursor's own ``spendCents`` for the billing cycle."""

    group: str
    ledger_cents: Decimal
    cursor_cents: Decimal
    read_at: datetime

    @property
    def difference_cents(self) -> Decimal:
        return self.ledger_cents - self.cursor_cents


@dataclass(frozen=True)
class GroupFacts:
    """The group a report covers (None: every group, one row each), and the groups whose
    total differs from Cursor's for the billing cycle the period starts on."""

    group_id: str | None = None
    group_name: str | None = None
    reconciliation: list[Reconciled] = field(default_factory=list)
    #: When Cursor's groups were last read.
    read_at: datetime | None = None
