"""The Slack installation and OAuth state tables, which slack_sdk's SQLAlchemy stores own.

They live in the ledger's database, created by Alembic (revision 0008), but are defined
by slack_sdk: :func:`slack_store_metadata` builds them with the stores' own table
builders, so that migrations and the drift check compare against exactly what the stores
read and write. Slack tokens in them are stored as slack_sdk stores them (in clear):
protect the database as you protect ``STACKSPEND_SECRET_KEY``.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import MetaData

INSTALLATIONS_TABLE = "slack_installations"
BOTS_TABLE = "slack_bots"
OAUTH_STATES_TABLE = "slack_oauth_states"
SLACK_TABLES = frozenset({INSTALLATIONS_TABLE, BOTS_TABLE, OAUTH_STATES_TABLE})


@cache
def slack_store_metadata() -> MetaData:
    """A MetaData holding the three tables as slack_sdk's stores define them."""
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
    from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

    metadata = MetaData()
    SQLAlchemyInstallationStore.build_installations_table(metadata, INSTALLATIONS_TABLE)
    SQLAlchemyInstallationStore.build_bots_table(metadata, BOTS_TABLE)
    SQLAlchemyOAuthStateStore.build_oauth_states_table(metadata, OAUTH_STATES_TABLE)
    return metadata
