"""Engines and sessions: SQLite (WAL, busy timeout, foreign keys) or PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlmodel import Session

SQLITE_BUSY_TIMEOUT_SECONDS = 30
#: Pages written to the WAL between automatic checkpoints (SQLite's default is 1,000).
#: A sync commits every page of events together with the rollup pages it touches, so the
#: same rollup and index pages are rewritten commit after commit; checkpointing less often
#: copies each back once instead of many times (about 15% of a bulk ingest). The WAL may
#: grow to ~40 MB between checkpoints and is cut back to SQLITE_WAL_SIZE_LIMIT after them.
SQLITE_WAL_AUTOCHECKPOINT_PAGES = 10_000
SQLITE_WAL_SIZE_LIMIT = 64 * 1024 * 1024


#: What a usable database URL looks like, for error messages.
URL_EXAMPLES = "sqlite:///PATH/TO/FILE.db or postgresql://USER:PASSWORD@HOST:5432/NAME"


class DatabaseUrlError(ValueError):
    """The database URL cannot be used (unparseable, unknown kind, missing driver).

    The message never contains the URL, which may hold a password.
    """


def normalise_url(url: str) -> str:
    """Accept ``postgres://`` and ``postgresql://`` and drive them through psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for ``url``; a ``DatabaseUrlError`` when the URL cannot be used.

    Nothing is connected here: an unreachable server or an unopenable file shows
    up as SQLAlchemy's ``OperationalError`` on first use.
    """
    try:
        return _make_engine(url, echo=echo)
    except NoSuchModuleError:
        kind = make_url(url).drivername  # parsed: only the kind is unknown
        raise DatabaseUrlError(f"unknown database kind {kind!r}; use {URL_EXAMPLES}.") from None
    except ArgumentError:
        raise DatabaseUrlError(f"not a database URL; use {URL_EXAMPLES}.") from None
    except ImportError as exc:
        raise DatabaseUrlError(
            f"the database driver {exc.name or ''} is not installed; use {URL_EXAMPLES}."
        ) from None
    except ValueError:  # e.g. a port that is not a number
        raise DatabaseUrlError(f"not a valid database URL; use {URL_EXAMPLES}.") from None


def _make_engine(url: str, *, echo: bool) -> Engine:
    url = normalise_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(
            url,
            echo=echo,
            hide_parameters=True,  # errors and logs never carry row values (emails, keys)
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
        )
        event.listen(engine, "connect", _configure_sqlite)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, hide_parameters=True)


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA wal_autocheckpoint={SQLITE_WAL_AUTOCHECKPOINT_PAGES}")
    cursor.execute(f"PRAGMA journal_size_limit={SQLITE_WAL_SIZE_LIMIT}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
    cursor.close()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back if it raises."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
