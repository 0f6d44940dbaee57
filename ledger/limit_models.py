"""The audit of spend-limit changes asked of the provider (``ledger.spend_limits``).

One row per change sent (or refused before sending): who asked, for whom, the limit the
ledger knew before, the limit asked for, when, and the provider's answer in its own words.
The limits themselves are not kept here: they are what the provider's spend snapshot says
(``spend_snapshot.monthly_limit_dollars`` and ``limit_dollars``), read by each sync.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, Text
from sqlmodel import Field, SQLModel

from ledger.types import EnumString, UTCDateTime


class LimitOutcome(enum.StrEnum):
    #: Sent; no answer yet (a process that died mid-request leaves this).
    PENDING = "pending"
    #: The provider answered ``outcome: success``.
    SUCCESS = "success"
    #: The provider answered ``outcome: error`` (its message says why).
    ERROR = "error"
    #: The provider refused the request: not Enterprise (403), key revoked (401).
    REFUSED = "refused"
    #: No answer that says whether the change was made (5xx, timeout): not sent again.
    UNKNOWN = "unknown"


class SpendLimitChange(SQLModel, table=True):
    __tablename__ = "spend_limit_change"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    provider: str = Field(default="cursor", max_length=32)
    #: A Slack user id, or ``cli`` for the terminal.
    requested_by: str = Field(max_length=64)
    #: Whose limit (the provider's email for them).
    email: str = Field(max_length=320)
    #: The person's own limit in whole dollars as the last spend snapshot showed it
    #: (None: none of their own, or no snapshot yet), and the limit Cursor enforced then.
    old_dollars: int | None = Field(default=None, nullable=True)
    old_effective_dollars: int | None = Field(default=None, nullable=True)
    #: The limit asked for, whole dollars; None removes the limit.
    new_dollars: int | None = Field(default=None, nullable=True)
    requested_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    outcome: LimitOutcome = Field(
        default=LimitOutcome.PENDING, sa_type=EnumString(LimitOutcome, 16), nullable=False
    )
    #: The provider's message as it was sent (or what went wrong, when it did not answer).
    message: str = Field(default="", sa_type=Text, nullable=False)
