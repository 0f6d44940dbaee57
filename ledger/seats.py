"""The seats report: seats paid, active and idle, joins and departures, and their cost.

Facts only (``digests.seat_words`` says them). Definitions (the README repeats them):

- *seats paid*: members holding a paid seat on any day of the period (``ledger.seat_tenure``);
- *active*: those with an active day in the period (``ledger.activity_reads``);
- *idle*: seats held on the reference day (the period's last day, or today) for at least
  ``idle_days`` days with no active day in the last ``idle_days`` days;
- *seat cost*: the monthly seat price spread over each billing cycle's days, for each day a
  seat was held up to the reference day (a whole cycle of one seat costs one seat price);
- *usage cost*: the team's charged spend in the period (``chargedCents``);
- *cost per active seat*: (seat cost + usage cost) / active seats.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from sqlmodel import Session, col, select

from ledger.activity_reads import SeatActivity, last_active_days, seat_activity
from ledger.digest_data import cycle_containing, next_cycle_start
from ledger.import_join import History, connection_history
from ledger.models import Member
from ledger.periods import Cycle, Period
from ledger.queries import Scope, freshness, totals
from ledger.seat_models import SeatChange, SeatChangeKind
from ledger.seat_tenure import Tenure, is_paid_role, seat_days, tenure_on, tenures

DEFAULT_IDLE_DAYS = 14


@dataclass(frozen=True)
class Person:
    email: str
    name: str


@dataclass(frozen=True)
class IdleSeat:
    email: str
    name: str
    #: Their last active day on or before the reference day (None: none on record).
    last_active: date | None


@dataclass(frozen=True)
class SeatChangeFact:
    email: str
    name: str
    day: date


@dataclass(frozen=True)
class SeatReport:
    workspace: str
    timezone: str
    period: Period
    cycle: Cycle
    #: The day idle seats are judged on: the period's last day, or today if earlier.
    reference: date
    idle_days: int
    seat_price_cents: int | None
    seats_paid: int
    seats_at_reference: int
    active_seats: int
    idle: tuple[IdleSeat, ...]
    joined: tuple[SeatChangeFact, ...]
    left: tuple[SeatChangeFact, ...]
    seat_cost_cents: int | None
    usage_cost_cents: Decimal
    as_of: datetime | None
    #: Where the ledger's history starts (days before it have no data).
    history_start: datetime | None = None
    history: History | None = None

    @property
    def cost_per_active_seat_cents(self) -> int | None:
        if self.seat_cost_cents is None or not self.active_seats:
            return None
        return _round((self.usage_cost_cents + self.seat_cost_cents) / self.active_seats)

    @property
    def usage_per_active_seat_cents(self) -> int | None:
        return _round(self.usage_cost_cents / self.active_seats) if self.active_seats else None

    @property
    def idle_cost_per_month_cents(self) -> int | None:
        return None if self.seat_price_cents is None else self.seat_price_cents * len(self.idle)


def _round(value: Decimal | Fraction) -> int:
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class _Seat:
    person: Person
    held: tuple[Tenure, ...]


def _seats(
    session: Session, scope: Scope, activity: dict[str, SeatActivity], reference: date
) -> tuple[list[_Seat], list[tuple[Person, date, SeatChangeKind]]]:
    """Every member with a paid role and their tenures; every recorded change, local days.
    ``activity`` gains the last active day of people it said nothing about."""
    tz = scope.tz
    members = session.exec(select(Member).where(Member.connection_id == scope.connection_id)).all()
    changes = session.exec(
        select(SeatChange)
        .where(SeatChange.connection_id == scope.connection_id)
        .order_by(col(SeatChange.at), col(SeatChange.id))
    ).all()
    by_email: dict[str, list[tuple[date, SeatChangeKind]]] = defaultdict(list)
    for change in changes:
        by_email[change.email].append((change.at.astimezone(tz).date(), change.kind))
    paid = [m for m in members if is_paid_role(m.role)]
    unknown = [m.email for m in paid if activity.get(m.email, _NONE).last_active is None]
    earlier = last_active_days(session, scope.connection_id, unknown, reference)
    seats: list[_Seat] = []
    facts: list[tuple[Person, date, SeatChangeKind]] = []
    for member in members:
        person = Person(member.email, member.name or member.email)
        mine = by_email.get(member.email, [])
        facts.extend((person, day, kind) for day, kind in mine)
        if not is_paid_role(member.role):
            continue
        before, ever = earlier.get(member.email, (None, None))
        if before is not None:
            days = activity.get(member.email, _NONE).active_days
            activity[member.email] = SeatActivity(days, before)
        newest = activity.get(member.email, _NONE).last_active
        held = tenures(is_removed=member.is_removed, changes=mine, last_active=ever or newest)
        if held:
            seats.append(_Seat(person, held))
    return seats, facts


_NONE = SeatActivity(0, None)


def seat_cost(
    seats: Sequence[Sequence[Tenure]], cycle: Cycle, first: date, last: date, price_cents: int
) -> int:
    """The seat price spread over each billing cycle's days, for every seat-day held."""
    cost = Fraction(0)
    current = cycle_containing(cycle, first)
    while current.start <= last:
        following = next_cycle_start(current)
        lo, hi = max(first, current.start), min(last, following - timedelta(days=1))
        held = sum(seat_days(tenures_of_one, lo, hi) for tenures_of_one in seats)
        cost += Fraction(price_cents * held, (following - current.start).days)
        current = Cycle(start=following, previous_start=current.start, assumed=current.assumed)
    return _round(cost)


def _is_idle(seat: _Seat, activity: SeatActivity | None, reference: date, days: int) -> bool:
    tenure = tenure_on(seat.held, reference)
    if tenure is None or (reference - date.min).days <= days:  # idle since before year 1
        return False
    cutoff = reference - timedelta(days=days)
    settled = tenure.start is None or tenure.start <= cutoff + timedelta(days=1)
    last = activity.last_active if activity else None
    return settled and (last is None or last <= cutoff)


def seat_report(
    session: Session,
    scope: Scope,
    *,
    period: Period,
    cycle: Cycle,
    today: date,
    price_cents: int | None,
    idle_days: int = DEFAULT_IDLE_DAYS,
) -> SeatReport:
    reference = min(period.end, today)
    activity = seat_activity(
        session, scope.connection_id, period.start, period.end, reference, idle_days
    )
    seats, facts = _seats(session, scope, activity, reference)
    paid = [s for s in seats if seat_days(s.held, period.start, reference) > 0]
    active = [s for s in paid if (a := activity.get(s.person.email)) and a.active_days > 0]
    idle = [
        IdleSeat(s.person.email, s.person.name, a.last_active if a else None)
        for s in seats
        if _is_idle(s, a := activity.get(s.person.email), reference, idle_days)
    ]
    idle.sort(key=lambda i: (i.last_active or date.min, i.email))

    def changed(kind: SeatChangeKind) -> tuple[SeatChangeFact, ...]:
        return tuple(
            SeatChangeFact(p.email, p.name, day)
            for p, day, k in facts
            if k is kind and period.start <= day <= period.end
        )

    cost = None
    as_of, history_start = freshness(session, scope)
    if price_cents is not None:
        # Seats before the ledger's history are not known: they cost nothing here (and a
        # range reaching back centuries is not walked cycle by cycle).
        floor = (history_start or datetime.combine(reference, time(), UTC)).astimezone(scope.tz)
        first = max(period.start, floor.date())
        cost = seat_cost([s.held for s in paid], cycle, first, reference, price_cents)
    return SeatReport(
        workspace=scope.workspace.slack_team_id, timezone=scope.workspace.timezone,
        period=period, cycle=cycle, reference=reference, idle_days=idle_days,
        seat_price_cents=price_cents, seats_paid=len(paid),
        seats_at_reference=sum(1 for s in seats if tenure_on(s.held, reference)),
        active_seats=len(active), idle=tuple(idle),
        joined=changed(SeatChangeKind.JOINED), left=changed(SeatChangeKind.LEFT),
        seat_cost_cents=cost, usage_cost_cents=totals(session, scope, period).cents, as_of=as_of,
        history_start=history_start,
        history=connection_history(session, scope.connection_id, history_start),
    )  # fmt: skip


def idle_seats_on(session: Session, scope: Scope, day: date, cycle: Cycle) -> int:
    """How many seats are idle on ``day`` (the default idle window): for digests and home."""
    report = seat_report(
        session, scope, period=Period(day, day, day.isoformat()), cycle=cycle, today=day,
        price_cents=None,
    )  # fmt: skip
    return len(report.idle)
