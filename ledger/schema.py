"""Is the database at the newest schema? Answered without loading Alembic.

Every CLI verb asks this at start-up; Alembic itself (``ledger.migrate``) is loaded only by
the verbs that migrate.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from sqlalchemy import Engine, inspect, text

SCRIPT_LOCATION = Path(__file__).resolve().parent.parent / "migrations"


def is_up_to_date(engine: Engine) -> bool:
    """True when the database is at the head revision.

    Checked by every CLI verb at start-up, so it reads the scripts' revision lines itself
    instead of loading Alembic (``ledger.migrate.head_revision`` is the authority; a test
    keeps the two equal).
    """
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return False
        current = set(
            connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars()
        )
    return current == script_heads()


#: Alembic's table of applied revisions.
VERSION_TABLE = "alembic_version"
_REVISION_LINE = re.compile(
    r"^(down_revision|revision)\s*(?::[^=]*)?=\s*(?:['\"]([^'\"]+)['\"]|None)", re.MULTILINE
)


@functools.cache
def script_heads() -> frozenset[str]:
    """The revisions that no migration script builds on, read from the scripts' text (once
    per process: the scripts do not change under a running process; /readyz asks often)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (SCRIPT_LOCATION / "versions").glob("*.py"):
        for name, value in _REVISION_LINE.findall(script.read_text(encoding="utf-8")):
            if value:
                (revisions if name == "revision" else parents).add(value)
    return frozenset(revisions - parents)
