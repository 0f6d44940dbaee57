"""Column types shared by the ledger tables."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Protocol, TypeVar

from sqlalchemy import BigInteger, DateTime, Numeric, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

#: Money is kept to this many decimal places of a cent.
MONEY_PLACES = 8
_QUANTUM = Decimal(1).scaleb(-MONEY_PLACES)
_SCALE = Decimal(10**MONEY_PLACES)


def quantize_money(value: Decimal) -> Decimal:
    return value.quantize(_QUANTUM, rounding=ROUND_HALF_EVEN)


def money_to_sqlite(amount: Decimal) -> int:
    """The stored form on SQLite: an integer of 1e-8 cents, rounded half to even.

    ``round`` of a Decimal rounds half to even, as ``quantize_money`` does; the product is
    exact for any amount of up to 28 significant digits after scaling.
    """
    return round(amount * _SCALE) if amount else 0


class Money(TypeDecorator[Decimal]):
    """Cents as an exact ``Decimal`` with eight decimal places.

    ``NUMERIC(20, 8)`` where the database has exact decimals (PostgreSQL). SQLite
    has none (its NUMERIC is a float), so there the value is a fixed-point
    integer of 1e-8 cents: sums stay exact in SQL on both.
    """

    impl = Numeric(20, MONEY_PLACES)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(20, MONEY_PLACES, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
        if dialect.name == "sqlite":
            return money_to_sqlite(amount)
        return quantize_money(amount)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-MONEY_PLACES)
        return quantize_money(Decimal(value))

    @property
    def python_type(self) -> type[Decimal]:
        return Decimal


def datetime_to_sqlite(moment: datetime) -> str:
    """The stored form on SQLite of an aware datetime, as SQLAlchemy writes it (naive UTC).

    ``isoformat`` costs most of a microsecond and a sync stores millions of instants in
    time order, so the text up to the hour is kept for the last hour seen and only the
    minutes and seconds are formatted per instant.
    """
    if moment.tzinfo is not UTC:
        if moment.tzinfo is None:
            raise ValueError("naive datetime given to the ledger: pass an aware UTC datetime")
        moment = moment.astimezone(UTC)
    global _LAST_HOUR
    start, end, prefix = _LAST_HOUR  # one tuple, read once: threads may replace it
    if not start <= moment < end:
        start = moment.replace(minute=0, second=0, microsecond=0)
        prefix = moment.isoformat(" ", "microseconds")[:14]  # "YYYY-MM-DD HH:"
        if start < _LAST_START:
            _LAST_HOUR = (start, start + ONE_HOUR, prefix)
    return f"{prefix}{moment.minute:02d}:{moment.second:02d}.{moment.microsecond:06d}"


ONE_HOUR = timedelta(hours=1)
_NEVER = datetime.min.replace(tzinfo=UTC)
#: The start of the last hour there is (its end cannot be written).
_LAST_START = datetime.max.replace(minute=0, second=0, microsecond=0, tzinfo=UTC)
#: (start, end, text up to the hour) of the hour of the last instant formatted.
_LAST_HOUR: tuple[datetime, datetime, str] = (_NEVER, _NEVER, "")


def datetime_from_sqlite(stored: str) -> datetime:
    return datetime.fromisoformat(stored).replace(tzinfo=UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the ledger: pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)

    @property
    def python_type(self) -> type[datetime]:
        return datetime


class StoredForm(Protocol):
    """Values as one backend's driver takes and returns them, for writes that bypass
    SQLAlchemy's per-value processing (the ingest hot path). Equal to what ``Money``,
    ``UTCDateTime`` and ``Date`` columns store, so rows read back through the ORM agree."""

    def money(self, amount: Decimal) -> Any: ...
    def instant(self, moment: datetime) -> Any: ...
    def moment(self, stored: Any) -> datetime: ...
    def day(self, value: date) -> Any: ...


class SQLiteForm:
    """Money as integers of 1e-8 cents, instants and days as ISO text (naive UTC)."""

    money = staticmethod(money_to_sqlite)
    instant = staticmethod(datetime_to_sqlite)
    moment = staticmethod(datetime_from_sqlite)

    @staticmethod
    def day(value: date) -> str:
        return value.isoformat()


class NativeForm:
    """Drivers with exact decimals and aware timestamps (psycopg): values as they are."""

    money = staticmethod(quantize_money)

    @staticmethod
    def instant(moment: datetime) -> datetime:
        if moment.tzinfo is None:
            raise ValueError("naive datetime given to the ledger: pass an aware UTC datetime")
        return moment

    @staticmethod
    def moment(stored: datetime) -> datetime:
        return stored.astimezone(UTC)

    @staticmethod
    def day(value: date) -> date:
        return value


def stored_form(dialect: Dialect) -> StoredForm:
    return SQLiteForm() if dialect.name == "sqlite" else NativeForm()


E = TypeVar("E", bound=enum.StrEnum)


class EnumString(TypeDecorator[E]):
    """A ``StrEnum`` stored as its value in a plain VARCHAR (no database ENUM type).

    Loads as the enum member; saving takes a member or its value and refuses any other
    string, so a typo never reaches the table. Migrations see ``String(length)``.
    """

    impl = String
    cache_ok = True

    def __init__(self, enum_class: type[E], length: int) -> None:
        super().__init__(length=length)
        self.enum_class = enum_class
        self.length = length

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return self.enum_class(value).value

    def process_result_value(self, value: Any, dialect: Dialect) -> E | None:
        if value is None:
            return None
        return self.enum_class(value)

    @property
    def python_type(self) -> type[E]:
        return self.enum_class
