"""The personal-line table: who asked for their own spend in a DM, how often, when.

A row per Slack person per workspace (``/spend me daily|weekly``); ``/spend me off``
deletes it. The DMs themselves are ``delivery`` rows (kind ``personal``), claimed before
they are posted, as digests are.
"""

from __future__ import annotations

import enum
from datetime import datetime
from datetime import time as time_of_day

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from ledger.models import _enum, _workspace_fk, utcnow
from ledger.types import UTCDateTime


class LineCadence(enum.StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"


class PersonalSubscription(SQLModel, table=True):
    """One person's standing request for their own daily or weekly line."""

    __tablename__ = "personal_subscription"
    __table_args__ = (UniqueConstraint("workspace_id", "slack_user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = _workspace_fk()
    slack_user_id: str = Field(max_length=32)
    cadence: LineCadence = _enum(LineCadence, length=8)
    #: The local time of day the line is sent, in ``timezone``.
    local_time: time_of_day
    #: The person's Slack profile timezone (the workspace's when the profile has none);
    #: read again from Slack at every line, so that the next one follows a move.
    timezone: str = Field(max_length=64)
    #: Occurrences due before this instant are never sent (no backlog on subscribing).
    subscribed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
