"""The seat line of a digest: how many seats were idle yesterday, at what price."""

from __future__ import annotations

from dataclasses import replace

from sqlmodel import Session

from ledger.digest_data import DigestInputs
from ledger.queries import Scope
from ledger.seat_settings import seat_price
from ledger.seats import idle_seats_on


def with_seats(session: Session, scope: Scope, inputs: DigestInputs) -> DigestInputs:
    """``inputs`` with the seats idle yesterday and the seat price (the digest's seat line)."""
    idle = idle_seats_on(session, scope, inputs.yesterday, inputs.cycle)
    return replace(inputs, idle_seats=idle, seat_price_cents=seat_price(session, scope.workspace))
