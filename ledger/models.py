"""The ledger's tables. Every row belongs to a workspace.

Money columns are ``Money`` (exact cents, see ``ledger.types``); instants are
``UTCDateTime``; days are local calendar days in the workspace's timezone.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import UTC, date, datetime
from datetime import time as time_of_day
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.ext.mutable import MutableList
from sqlmodel import Field, SQLModel

from ledger.types import E, EnumString, Money, UTCDateTime

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


T = TypeVar("T")


def utcnow() -> datetime:
    return datetime.now(UTC)


def _money(default: Decimal | None = Decimal(0), *, nullable: bool = False) -> Decimal:
    return Field(default=default, sa_type=Money, nullable=nullable)  # type: ignore[no-any-return]


def _instant(*, nullable: bool = True) -> datetime:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable)  # type: ignore[no-any-return]


def _enum(enum_class: type[E], *, length: int, default: E | None = None) -> E:
    """A column of ``enum_class`` members, stored as their values in a VARCHAR."""
    sa_type = EnumString(enum_class, length)
    if default is None:
        return Field(sa_type=sa_type, nullable=False)  # type: ignore[no-any-return]
    return Field(default=default, sa_type=sa_type, nullable=False)  # type: ignore[no-any-return]


def _optional_enum(enum_class: type[E], *, length: int) -> E | None:
    """A nullable column of ``enum_class`` members (None when the fact does not apply)."""
    return Field(default=None, sa_type=EnumString(enum_class, length), nullable=True)  # type: ignore[no-any-return]


def _json_list(default_factory: Callable[[], list[T]]) -> list[T]:
    """A JSON array column; changing the list in place marks the row changed."""
    return Field(  # type: ignore[no-any-return]
        default_factory=default_factory,
        sa_type=MutableList.as_mutable(JSON()),
        nullable=False,
    )


def _workspace_fk() -> int:
    return Field(  # type: ignore[no-any-return]
        sa_column=Column(
            Integer, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )


def _connection_fk() -> int:
    return Field(  # type: ignore[no-any-return]
        sa_column=Column(Integer, ForeignKey("connection.id", ondelete="CASCADE"), nullable=False)
    )


class Visibility(enum.StrEnum):
    OWN = "own"
    ALL = "all"


class ConnectionStatus(enum.StrEnum):
    ACTIVE = "active"
    FAILING = "failing"
    REVOKED = "revoked"
    DISCONNECTED = "disconnected"


class SyncStatus(enum.StrEnum):
    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"
    #: Ended early because its process was stopping, or another process took its lease over.
    STOPPED = "stopped"


class SyncTrigger(enum.StrEnum):
    """What started a sync."""

    MANUAL = "manual"
    CLI = "cli"
    DEMO = "demo"
    CONNECT = "connect"
    SLACK = "slack"
    SCHEDULE = "schedule"
    DIGEST = "digest"
    #: A question about today asked on data more than an hour old (``bot.usecases.refresh``).
    QUESTION = "question"


class SyncKind(enum.StrEnum):
    """What a sync reads (``ledger.sync``): the last hours' events, or everything."""

    #: Events from the newest synced instant less a short overlap; nothing else.
    LIGHT = "light"
    #: The full revision overlap of events, then members, spend and daily usage.
    DEEP = "deep"


class Workspace(SQLModel, table=True):
    __tablename__ = "workspace"
    __table_args__ = (UniqueConstraint("slack_team_id", "enterprise_id"),)

    id: int | None = Field(default=None, primary_key=True)
    slack_team_id: str = Field(max_length=32, index=True)
    enterprise_id: str | None = Field(default=None, max_length=32)
    name: str = Field(default="", max_length=200)
    timezone: str = Field(default="UTC", max_length=64)
    visibility: Visibility = _enum(Visibility, length=8, default=Visibility.OWN)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    #: When the app was uninstalled from the workspace (OAuth mode): no job runs for it
    #: until it is installed again, which clears this.
    uninstalled_at: datetime | None = _instant()


class Connection(SQLModel, table=True):
    __tablename__ = "connection"
    __table_args__ = (UniqueConstraint("workspace_id", "provider"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = _workspace_fk()
    provider: str = Field(default="cursor", max_length=32)
    encrypted_key: str = Field(sa_type=Text)
    key_hint: str = Field(max_length=16)
    status: ConnectionStatus = _enum(ConnectionStatus, length=16, default=ConnectionStatus.ACTIVE)
    connected_by: str = Field(default="", max_length=64)
    connected_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    last_success_at: datetime | None = _instant()
    last_error: str | None = Field(default=None, sa_type=Text)
    failing_since: datetime | None = _instant()
    history_start: datetime | None = _instant()


class Member(SQLModel, table=True):
    """A person on the provider's team. Kept after the provider forgets them."""

    __tablename__ = "member"
    __table_args__ = (UniqueConstraint("connection_id", "email"),)

    id: int | None = Field(default=None, primary_key=True)
    connection_id: int = _connection_fk()
    provider_user_id: str | None = Field(default=None, max_length=64)
    email: str = Field(max_length=320)
    name: str = Field(default="", max_length=200)
    role: str = Field(default="member", max_length=32)
    is_removed: bool = False
    first_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    slack_user_id: str | None = Field(default=None, max_length=32)


class UsageEventRow(SQLModel, table=True):
    """One usage event, as last read from the provider (revisions replace it)."""

    __tablename__ = "usage_event"
    # No index on occurred_at for API rows: reports read rollups, never raw events by time,
    # and every index costs each insert of a sync. Imported rows (``source = 'csv'``) have a
    # partial one: a sync replaces those of the window it stores (``ledger.import_join``).
    __table_args__ = (
        UniqueConstraint("connection_id", "natural_key"),
        Index(
            "ix_usage_event_imported",
            "connection_id",
            "occurred_at",
            sqlite_where=text("source = 'csv'"),
            postgresql_where=text("source = 'csv'"),
        ),
    )

    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    )
    connection_id: int = _connection_fk()
    natural_key: str = Field(max_length=64)
    occurred_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    user_email: str = Field(max_length=320)
    model: str = Field(max_length=128)
    kind: str = Field(max_length=64)
    kind_class: str = Field(max_length=16)
    max_mode: bool = False
    is_chargeable: bool = False
    is_headless: bool = False
    is_token_based: bool = False
    request_units: Decimal = _money()
    input_tokens: int = Field(default=0, sa_type=BigInteger)
    output_tokens: int = Field(default=0, sa_type=BigInteger)
    cache_read_tokens: int = Field(default=0, sa_type=BigInteger)
    cache_write_tokens: int = Field(default=0, sa_type=BigInteger)
    model_cost_cents: Decimal = _money()
    token_fee_cents: Decimal = _money()
    charged_cents: Decimal = _money()
    conversation_id: str | None = Field(default=None, max_length=128)
    service_account_id: str | None = Field(default=None, max_length=128)
    cloud_agent_id: str | None = Field(default=None, max_length=128)
    #: Where the row came from: ``api`` (a sync) or ``csv`` (an imported usage export).
    source: str = Field(default="api", max_length=8, sa_column_kwargs={"server_default": "api"})


class UsageRollup(SQLModel, table=True):
    """Events summed per connection x local day x user x model x kind class.

    The natural key is the primary key and, on SQLite, the table is clustered by it
    (WITHOUT ROWID): a period's rows are one contiguous range, read without lookups.
    """

    __tablename__ = "usage_rollup"
    __table_args__ = (
        Index("ix_usage_rollup_user_day", "connection_id", "user_email", "day"),
        {"sqlite_with_rowid": False},
    )

    connection_id: int = Field(
        sa_column=Column(Integer, ForeignKey("connection.id", ondelete="CASCADE"), primary_key=True)
    )
    day: date = Field(primary_key=True)
    user_email: str = Field(max_length=320, primary_key=True)
    model: str = Field(max_length=128, primary_key=True)
    kind_class: str = Field(max_length=16, primary_key=True)
    events: int = 0
    request_units: Decimal = _money()
    input_tokens: int = Field(default=0, sa_type=BigInteger)
    output_tokens: int = Field(default=0, sa_type=BigInteger)
    cache_read_tokens: int = Field(default=0, sa_type=BigInteger)
    cache_write_tokens: int = Field(default=0, sa_type=BigInteger)
    charged_cents: Decimal = _money()


class CoarseRollup(SQLModel, table=True):
    """``usage_rollup`` summed again at coarser grains, so reports need not scan a month of
    day x user x model rows (see ``ledger.coarse_rollups``).

    ``grain`` says which dimensions a row keeps: ``ud`` (day, user), ``um`` (local month,
    ``day`` its 1st; user), ``md`` (day, model); a dimension a grain drops is ``''``. Every
    grain keeps ``kind_class``. Kept in the same transactions as ``usage_rollup``; clustered
    by its key on SQLite (WITHOUT ROWID), so a grain's period is one contiguous range.
    """

    __tablename__ = "usage_rollup_coarse"
    __table_args__ = ({"sqlite_with_rowid": False},)

    connection_id: int = Field(
        sa_column=Column(Integer, ForeignKey("connection.id", ondelete="CASCADE"), primary_key=True)
    )
    grain: str = Field(max_length=2, primary_key=True)
    day: date = Field(primary_key=True)
    user_email: str = Field(max_length=320, primary_key=True)
    model: str = Field(max_length=128, primary_key=True)
    kind_class: str = Field(max_length=16, primary_key=True)
    events: int = 0
    request_units: Decimal = _money()
    input_tokens: int = Field(default=0, sa_type=BigInteger)
    output_tokens: int = Field(default=0, sa_type=BigInteger)
    cache_read_tokens: int = Field(default=0, sa_type=BigInteger)
    cache_write_tokens: int = Field(default=0, sa_type=BigInteger)
    charged_cents: Decimal = _money()


class SpendSnapshot(SQLModel, table=True):
    """The provider's own per-member totals for a billing cycle (latest read wins)."""

    __tablename__ = "spend_snapshot"
    __table_args__ = (UniqueConstraint("connection_id", "cycle_start", "email"),)

    id: int | None = Field(default=None, primary_key=True)
    connection_id: int = _connection_fk()
    cycle_start: datetime = Field(sa_type=UTCDateTime, nullable=False)
    taken_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    email: str = Field(max_length=320)
    name: str = Field(default="", max_length=200)
    overall_cents: Decimal = _money()
    on_demand_cents: Decimal = _money()
    included_cents: Decimal = _money()
    premium_requests: int = 0
    limit_dollars: Decimal | None = _money(None, nullable=True)
    #: The person's own limit (``monthlyLimitDollars``; None: none) and a hard-limit
    #: override (0 or None: none); ``limit_dollars`` is the one Cursor enforces.
    monthly_limit_dollars: Decimal | None = _money(None, nullable=True)
    limit_override_dollars: Decimal | None = _money(None, nullable=True)


class DailyActivityRow(SQLModel, table=True):
    __tablename__ = "daily_activity"
    __table_args__ = (UniqueConstraint("connection_id", "day", "email"),)

    id: int | None = Field(default=None, primary_key=True)
    connection_id: int = _connection_fk()
    day: date
    email: str = Field(max_length=320)
    is_active: bool = True
    lines_added: int = 0
    lines_deleted: int = 0
    accepted_lines_added: int = 0
    accepted_lines_deleted: int = 0
    applies: int = 0
    accepts: int = 0
    rejects: int = 0
    tabs_shown: int = 0
    tabs_accepted: int = 0
    composer_requests: int = 0
    chat_requests: int = 0
    agent_requests: int = 0
    cmdk_usages: int = 0
    included_requests: int = 0
    usage_based_requests: int = 0
    api_key_requests: int = 0
    bugbot_usages: int = 0
    most_used_model: str | None = Field(default=None, max_length=128)
    client_version: str | None = Field(default=None, max_length=64)


class SyncRun(SQLModel, table=True):
    __tablename__ = "sync_run"
    __table_args__ = (Index("ix_sync_run_connection_started", "connection_id", "started_at"),)

    id: int | None = Field(default=None, primary_key=True)
    connection_id: int = _connection_fk()
    trigger: SyncTrigger = _enum(SyncTrigger, length=16)
    status: SyncStatus = _enum(SyncStatus, length=16, default=SyncStatus.RUNNING)
    started_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    finished_at: datetime | None = _instant()
    window_start: datetime | None = _instant()
    window_end: datetime | None = _instant()
    pages: int = 0
    events_seen: int = 0
    events_new: int = 0
    events_revised: int = 0
    error: str | None = Field(default=None, sa_type=Text)
    #: Light or deep (runs from before the two kinds were all deep).
    kind: SyncKind = Field(
        default=SyncKind.DEEP,
        sa_type=EnumString(SyncKind, 8),
        nullable=False,
        sa_column_kwargs={"server_default": SyncKind.DEEP.value},
    )
    #: HTTP requests the run sent to the provider, retries included.
    cursor_requests: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class SyncState(SQLModel, table=True):
    """Where the next sync of a connection starts (advanced page by page)."""

    __tablename__ = "sync_state"

    connection_id: int = Field(
        sa_column=Column(Integer, ForeignKey("connection.id", ondelete="CASCADE"), primary_key=True)
    )
    #: Every event up to this instant has been read at least once.
    events_synced_to: datetime | None = _instant()
    #: An interrupted window: its bounds (epoch ms) and the next page to read.
    resume_window_start_ms: int | None = Field(default=None, sa_type=BigInteger)
    resume_window_end_ms: int | None = Field(default=None, sa_type=BigInteger)
    resume_page: int | None = None
    members_synced_at: datetime | None = _instant()
    spend_synced_at: datetime | None = _instant()
    activity_synced_at: datetime | None = _instant()


class WorkClaim(SQLModel, table=True):
    """Which replica is doing a unit of scheduled work, and when it was last done
    (see ``ledger.claims``): one row per unit, reused from run to run."""

    __tablename__ = "work_claim"

    #: The unit of work, e.g. ``alerts:12`` (a workspace's alert evaluation).
    key: str = Field(primary_key=True, max_length=160)
    #: ``host:pid:token/n`` of the last claimer.
    owner: str = Field(max_length=128)
    claimed_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    #: While set and in the future, the unit is being done; past it, anyone may take it over.
    expires_at: datetime | None = _instant()
    #: When the unit was last finished.
    finished_at: datetime | None = _instant()


class SyncLease(SQLModel, table=True):
    """Who is syncing a connection right now (see ``ledger.lease``): one row at most."""

    __tablename__ = "sync_lease"

    connection_id: int = Field(
        sa_column=Column(Integer, ForeignKey("connection.id", ondelete="CASCADE"), primary_key=True)
    )
    #: ``host:pid:token/n`` of the sync that holds it.
    owner: str = Field(max_length=128)
    trigger: SyncTrigger = _enum(SyncTrigger, length=16)
    acquired_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    #: Renewed while the sync runs; past this instant anyone may take the lease over.
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class Cadence(enum.StrEnum):
    DAILY = "daily"
    WEEKDAYS = "weekdays"
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


#: A digest schedule's ``sections`` when it shows every section.
ALL_SECTIONS = "all"


class ScheduleStatus(enum.StrEnum):
    OK = "ok"
    FAILING = "failing"


class DigestSchedule(SQLModel, table=True):
    """A digest posted to a channel at a local time (the workspace's timezone)."""

    __tablename__ = "digest_schedule"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = _workspace_fk()
    channel_id: str = Field(max_length=32)
    local_time: time_of_day
    cadence: Cadence = _enum(Cadence, length=16, default=Cadence.DAILY)
    #: Section names, or ``[ALL_SECTIONS]``.
    sections: list[str] = _json_list(lambda: [ALL_SECTIONS])
    top_n: int = 5
    chart: bool = True
    enabled: bool = True
    status: ScheduleStatus = _enum(ScheduleStatus, length=16, default=ScheduleStatus.OK)
    last_error: str | None = Field(default=None, sa_type=Text)
    created_by: str = Field(default="", max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class DeliveryStatus(enum.StrEnum):
    CLAIMED = "claimed"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


class DeliveryKind(enum.StrEnum):
    DIGEST = "digest"
    ALERT = "alert"
    NOTICE = "notice"
    PERSONAL = "personal"


class Delivery(SQLModel, table=True):
    """A message that must go out once: claimed before posting, completed after."""

    __tablename__ = "delivery"
    __table_args__ = (UniqueConstraint("dedupe_key"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = _workspace_fk()
    dedupe_key: str = Field(max_length=200)
    kind: DeliveryKind = _enum(DeliveryKind, length=32)
    channel_id: str | None = Field(default=None, max_length=32)
    status: DeliveryStatus = _enum(DeliveryStatus, length=16, default=DeliveryStatus.CLAIMED)
    claimed_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    sent_at: datetime | None = _instant()
    attempts: int = 0
    message_ts: str | None = Field(default=None, max_length=32)
    error: str | None = Field(default=None, sa_type=Text)


class BudgetPeriod(enum.StrEnum):
    CYCLE = "cycle"
    MONTH = "month"
    WEEK = "week"
    DAY = "day"


DEFAULT_THRESHOLDS = (50, 80, 100)


class Budget(SQLModel, table=True):
    """A spending limit for a provider's whole team or for one person, per period.

    ``subject_email`` None is the team; ``thresholds`` are percentages of the amount
    (ascending, each once) and ``notify_user_ids`` Slack user ids (each once).
    """

    __tablename__ = "budget"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = _workspace_fk()
    provider: str = Field(default="cursor", max_length=32)
    subject_email: str | None = Field(default=None, max_length=320)
    subject_user_id: str | None = Field(default=None, max_length=32)
    amount_cents: int = Field(sa_type=BigInteger)
    period: BudgetPeriod = _enum(BudgetPeriod, length=8, default=BudgetPeriod.CYCLE)
    thresholds: list[int] = _json_list(lambda: list(DEFAULT_THRESHOLDS))
    notify_user_ids: list[str] = _json_list(list)
    notify_channel_id: str | None = Field(default=None, max_length=32)
    dm_subject: bool = False
    created_by: str = Field(default="", max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    enabled: bool = True


class AlertKind(enum.StrEnum):
    THRESHOLD = "threshold"
    FORECAST = "forecast"
    ANOMALY_USER = "anomaly_user"
    ANOMALY_TEAM = "anomaly_team"
    HEALTH = "health"


class HealthCause(enum.StrEnum):
    REVOKED = "revoked"
    FAILING = "failing"
    #: No successful sync for longer than the provider keeps usage (minus a day)...
    STALE = "stale"
    #: ...or none at all since the connection was made.
    NEVER_SYNCED = "never_synced"


class AlertStatus(enum.StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    SNOOZED = "snoozed"
    RESOLVED = "resolved"


class Alert(SQLModel, table=True):
    """Something worth telling: raised once per unique ``dedupe_key``, then acted upon."""

    __tablename__ = "alert"
    __table_args__ = (
        UniqueConstraint("dedupe_key"),
        Index("ix_alert_status_workspace", "status", "workspace_id"),
        Index("ix_alert_workspace_period", "workspace_id", "period_start"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = _workspace_fk()
    budget_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("budget.id", ondelete="CASCADE"), nullable=True, index=True
        ),
    )
    kind: AlertKind = _enum(AlertKind, length=16)
    dedupe_key: str = Field(max_length=200)
    #: An email, "team", or (a health alert) the connection's key hint.
    subject: str = Field(max_length=320)
    #: The provider the alert is about (``"cursor"``).
    provider: str = Field(default="cursor", max_length=32)
    #: Budget alerts: the budget's period ("cycle", "month", "week", "day") and its days.
    #: Anomalies: ``period_start`` is the unusual day.
    period: str | None = Field(default=None, max_length=16)
    period_start: date | None = None
    period_end: date | None = None
    threshold: int | None = None
    #: Spend when the alert was raised, and the limit it was measured against.
    amount_cents: Decimal | None = _money(None, nullable=True)
    limit_cents: Decimal | None = _money(None, nullable=True)
    #: Forecasts: the day the limit is crossed, at these expected cents per day.
    projected_day: date | None = None
    rate_weekday_cents: Decimal | None = _money(None, nullable=True)
    rate_weekend_cents: Decimal | None = _money(None, nullable=True)
    #: Anomalies: the mean of the ``baseline_days`` days before the unusual one.
    baseline_cents: Decimal | None = _money(None, nullable=True)
    baseline_days: int | None = None
    #: Health: a ``HealthCause``; since when (the failure, the last successful sync or the
    #: connection); the provider's last error; how many days of usage the provider keeps.
    cause: HealthCause | None = _optional_enum(HealthCause, length=16)
    since: datetime | None = _instant()
    error: str | None = Field(default=None, sa_type=Text)
    retention_days: int | None = None
    status: AlertStatus = _enum(AlertStatus, length=16, default=AlertStatus.OPEN)
    snoozed_until: datetime | None = _instant()
    acted_by: str | None = Field(default=None, max_length=32)
    acted_at: datetime | None = _instant()
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    #: Set by whoever sends the alert (the Slack side), with ``notify_count``.
    last_notified_at: datetime | None = _instant()
    notify_count: int = 0


class AlertMessage(SQLModel, table=True):
    """Where an alert was shown, so that acting on one copy can update every copy."""

    __tablename__ = "alert_message"
    __table_args__ = (UniqueConstraint("alert_id", "channel_id", "ts"),)

    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(
        sa_column=Column(Integer, ForeignKey("alert.id", ondelete="CASCADE"), nullable=False)
    )
    channel_id: str = Field(max_length=32)
    ts: str = Field(max_length=32)
    #: The Slack user (a DM) or channel it was sent to.
    recipient: str = Field(max_length=32)
    sent_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


import ledger.group_models  # noqa: E402  (billing-group tables on the same metadata)
import ledger.seat_models  # noqa: E402, F401  (seat tables on SQLModel.metadata)
from ledger import limit_models as limit_models  # noqa: E402  (registers its table)
from ledger import personal_models  # noqa: E402, F401  (registers the personal-line table)
