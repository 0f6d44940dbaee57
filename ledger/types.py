"""Column types shared by the ledger tables."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Numeric
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

#: Money is kept to this many decimal places of a cent.
MONEY_PLACES = 8
_QUANTUM = Decimal(1).scaleb(-MONEY_PLACES)
_SCALE = 10**MONEY_PLACES


def quantize_money(value: Decimal) -> Decimal:
    return value.quantize(_QUANTUM, rounding=ROUND_HALF_EVEN)


def money_to_sqlite(amount: Decimal) -> int:
    """The stored form on SQLite of an amount already quantized to ``MONEY_PLACES``."""
    return int(amount.scaleb(MONEY_PLACES))


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
        amount = quantize_money(value if isinstance(value, Decimal) else Decimal(str(value)))
        if dialect.name == "sqlite":
            return money_to_sqlite(amount)
        return amount

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-MONEY_PLACES)
        return quantize_money(Decimal(value))

    @property
    def python_type(self) -> type[Decimal]:
        return Decimal


#: SQLAlchemy's storage format for DATETIME on SQLite (microseconds always written).
SQLITE_DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


def datetime_to_sqlite(moment: datetime) -> str:
    """The stored form on SQLite of an aware datetime, as SQLAlchemy writes it (UTC)."""
    return moment.astimezone(UTC).strftime(SQLITE_DATETIME_FORMAT)


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
