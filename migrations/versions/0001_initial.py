"""Initial schema: workspaces, provider connections, the usage ledger and sync bookkeeping.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ledger.types

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "workspace",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slack_team_id", sa.String(length=32), nullable=False),
        sa.Column("enterprise_id", sa.String(length=32), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("visibility", sa.String(length=8), nullable=False),
        sa.Column("created_at", ledger.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspace")),
        sa.UniqueConstraint(
            "slack_team_id", "enterprise_id", name=op.f("uq_workspace_slack_team_id")
        ),
    )
    op.create_index(op.f("ix_workspace_slack_team_id"), "workspace", ["slack_team_id"])

    op.create_table(
        "connection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("encrypted_key", sa.Text(), nullable=False),
        sa.Column("key_hint", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("connected_by", sa.String(length=64), nullable=False),
        sa.Column("connected_at", ledger.types.UTCDateTime(), nullable=False),
        sa.Column("last_success_at", ledger.types.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("failing_since", ledger.types.UTCDateTime(), nullable=True),
        sa.Column("history_start", ledger.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_connection_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connection")),
        sa.UniqueConstraint("workspace_id", "provider", name=op.f("uq_connection_workspace_id")),
    )
    op.create_index(op.f("ix_connection_workspace_id"), "connection", ["workspace_id"])

    op.create_table(
        "daily_activity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("lines_added", sa.Integer(), nullable=False),
        sa.Column("lines_deleted", sa.Integer(), nullable=False),
        sa.Column("accepted_lines_added", sa.Integer(), nullable=False),
        sa.Column("accepted_lines_deleted", sa.Integer(), nullable=False),
        sa.Column("applies", sa.Integer(), nullable=False),
        sa.Column("accepts", sa.Integer(), nullable=False),
        sa.Column("rejects", sa.Integer(), nullable=False),
        sa.Column("tabs_shown", sa.Integer(), nullable=False),
        sa.Column("tabs_accepted", sa.Integer(), nullable=False),
        sa.Column("composer_requests", sa.Integer(), nullable=False),
        sa.Column("chat_requests", sa.Integer(), nullable=False),
        sa.Column("agent_requests", sa.Integer(), nullable=False),
        sa.Column("cmdk_usages", sa.Integer(), nullable=False),
        sa.Column("included_requests", sa.Integer(), nullable=False),
        sa.Column("usage_based_requests", sa.Integer(), nullable=False),
        sa.Column("api_key_requests", sa.Integer(), nullable=False),
        sa.Column("bugbot_usages", sa.Integer(), nullable=False),
        sa.Column("most_used_model", sa.String(length=128), nullable=True),
        sa.Column("client_version", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connection.id"],
            name=op.f("fk_daily_activity_connection_id_connection"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_daily_activity")),
        sa.UniqueConstraint(
            "connection_id", "day", "email", name=op.f("uq_daily_activity_connection_id")
        ),
    )
    op.create_table(
        "member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("provider_user_id", sa.String(length=64), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("is_removed", sa.Boolean(), nullable=False),
        sa.Column("first_seen_at", ledger.types.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", ledger.types.UTCDateTime(), nullable=False),
        sa.Column("slack_user_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connection.id"],
            name=op.f("fk_member_connection_id_connection"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member")),
        sa.UniqueConstraint("connection_id", "email", name=op.f("uq_member_connection_id")),
    )
    op.create_table(
        "spend_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("cycle_start", ledger.types.UTCDateTime(), nullable=False),
        sa.Column("taken_at", ledger.types.UTCDateTime(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("overall_cents", ledger.types.Money(), nullable=False),
        sa.Column("on_demand_cents", ledger.types.Money(), nullable=False),
        sa.Column("included_cents", ledger.types.Money(), nullable=False),
        sa.Column("premium_requests", sa.Integer(), nullable=False),
        sa.Column("limit_dollars", ledger.types.Money(), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connection.id"],
            name=op.f("fk_spend_snapshot_connection_id_connection"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spend_snapshot")),
        sa.UniqueConstraint(
            "connection_id", "cycle_start", "email", name=op.f("uq_spend_snapshot_connection_id")
        ),
    )
    op.create_table(
        "sync_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", ledger.types.UTCDateTime(), nullable=False),
        sa.Column("finished_at", ledger.types.UTCDateTime(), nullable=True),
        sa.Column("window_start", ledger.types.UTCDateTime(), nullable=True),
        sa.Column("window_end", ledger.types.UTCDateTime(), nullable=True),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("events_seen", sa.Integer(), nullable=False),
        sa.Column("events_new", sa.Integer(), nullable=False),
        sa.Column("events_revised", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connection.id"],
            name=op.f("fk_sync_run_connection_id_connection"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_run")),
    )
    op.create_index("ix_sync_run_connection_started", "sync_run", ["connection_id", "started_at"])

    op.create_table(
        "sync_state",
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("events_synced_to", ledger.types.UTCDateTime(), nullable=True),
        sa.Column("resume_window_start_ms", sa.BigInteger(), nullable=True),
        sa.Column("resume_window_end_ms", sa.BigInteger(), nullable=True),
        sa.Column("resume_page", sa.Integer(), nullable=True),
        sa.Column("members_synced_at", ledger.types.UTCDateTime(), nullable=True),
        sa.Column("spend_synced_at", ledger.types.UTCDateTime(), nullable=True),
        sa.Column("activity_synced_at", ledger.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connection.id"],
            name=op.f("fk_sync_state_connection_id_connection"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("connection_id", name=op.f("pk_sync_state")),
    )
    op.create_table(
        "usage_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("natural_key", sa.String(length=64), nullable=False),
        sa.Column("occurred_at", ledger.types.UTCDateTime(), nullable=False),
        sa.Column("user_email", sa.String(length=320), nullable=False),
        sa.Column("model", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("kind_class", sa.String(length=16), nullable=False),
        sa.Column("max_mode", sa.Boolean(), nullable=False),
        sa.Column("is_chargeable", sa.Boolean(), nullable=False),
        sa.Column("is_headless", sa.Boolean(), nullable=False),
        sa.Column("is_token_based", sa.Boolean(), nullable=False),
        sa.Column("request_units", ledger.types.Money(), nullable=False),
        sa.Column("input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("output_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cache_read_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cache_write_tokens", sa.BigInteger(), nullable=False),
        sa.Column("model_cost_cents", ledger.types.Money(), nullable=False),
        sa.Column("token_fee_cents", ledger.types.Money(), nullable=False),
        sa.Column("charged_cents", ledger.types.Money(), nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=True),
        sa.Column("service_account_id", sa.String(length=128), nullable=True),
        sa.Column("cloud_agent_id", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connection.id"],
            name=op.f("fk_usage_event_connection_id_connection"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_event")),
        sa.UniqueConstraint(
            "connection_id", "natural_key", name=op.f("uq_usage_event_connection_id")
        ),
    )

    op.create_table(
        "usage_rollup",
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("user_email", sa.String(length=320), nullable=False),
        sa.Column("model", sa.String(length=128), nullable=False),
        sa.Column("kind_class", sa.String(length=16), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("request_units", ledger.types.Money(), nullable=False),
        sa.Column("input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("output_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cache_read_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cache_write_tokens", sa.BigInteger(), nullable=False),
        sa.Column("charged_cents", ledger.types.Money(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connection.id"],
            name=op.f("fk_usage_rollup_connection_id_connection"),
            ondelete="CASCADE",
        ),
        # Clustered by its natural key (SQLite: WITHOUT ROWID), so that a period's rows
        # are read in one contiguous range.
        sa.PrimaryKeyConstraint(
            "connection_id", "day", "user_email", "model", "kind_class", name=op.f("pk_usage_rollup")
        ),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_usage_rollup_user_day", "usage_rollup", ["connection_id", "user_email", "day"]
    )


def downgrade() -> None:
    op.drop_table("usage_rollup")
    op.drop_table("usage_event")
    op.drop_table("sync_state")
    op.drop_table("sync_run")
    op.drop_table("spend_snapshot")
    op.drop_table("member")
    op.drop_table("daily_activity")
    op.drop_table("connection")
    op.drop_table("workspace")
