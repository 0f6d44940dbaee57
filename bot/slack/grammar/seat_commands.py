"""The seat and adoption commands `/spend` text can ask for (part of ``commands.Command``)."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_IDLE_DAYS = 14


@dataclass(frozen=True, slots=True)
class SeatsQuery:
    """`/spend cursor seats [period] [idle N]` (admins)."""

    period: str = "cycle"
    idle_days: int = DEFAULT_IDLE_DAYS


@dataclass(frozen=True, slots=True)
class AdoptionQuery:
    """`/spend cursor adoption [period] [by user|group]`."""

    period: str = "cycle"
    by: str = "user"


@dataclass(frozen=True, slots=True)
class SetSeatPrice:
    """`/spend settings seat-price $40` (None: `off`, the price is cleared)."""

    cents: int | None
