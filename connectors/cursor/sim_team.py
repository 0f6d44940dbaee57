"""A deterministic Cursor team for the simulator: members, usage events and their indexes.

Pure data, no HTTP. Everything is drawn from one ``random.Random(seed)`` in a fixed order,
so the same config and anchor give the same team, event for event. The HTTP surface lives
in :mod:`connectors.cursor.simulator`; wire rendering in :mod:`connectors.cursor.sim_routes`.

Costs follow reference section 7: ``chargedCents = totalCents * (1 - discount/100) + fee``
in plain float arithmetic (long float tails included), the Cursor token fee only for
third-party models, request-based events at a flat price, errored and user-key events at 0.
A member's events are "Included in Business" until their charges in the billing cycle reach
``included_allowance_cents``, and "Usage-based" after.
"""

from __future__ import annotations

import bisect
import calendar
import random
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import attrgetter

from connectors.cursor.endpoints import DEFAULT_RATE_LIMITS, MAX_RANGE_DAYS

DEMO_API_KEY = "crsr_demo_" + "0" * 59
DAY_MS = 86_400_000
HOUR_MS = 3_600_000

KIND_USAGE_BASED = "Usage-based"
KIND_INCLUDED = "Included in Business"
KIND_ERRORED = "Errored, Not Charged"
KIND_USER_API_KEY = "User API Key"

#: Cursor token rate in cents per token ($0.25 per million tokens).
TOKEN_FEE_CENTS_PER_TOKEN = 25 / 1_000_000
#: Price of one request unit for request-based (not token-based) events, in cents.
REQUEST_UNIT_CENTS = 4.0
#: Per-user limit enforced when a member has no limit of their own.
TEAM_DEFAULT_LIMIT_DOLLARS = 500

#: Bits of ``SimEvent.omitted``: token counts the API leaves out of ``tokenUsage``.
OMIT_CACHE_WRITE = 1
OMIT_CACHE_READ = 2


@dataclass
class SimulatorConfig:
    """Everything that shapes the simulated team and the API's behaviour."""

    seed: int = 1
    users: int = 50
    days: int = 30
    future_days: int = 3
    retention_days: int = 90
    removed_fraction: float = 0.08
    hourly_lag: bool = True
    minute_seconds: float = 60.0
    rate_limits: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_RATE_LIMITS))
    rate_limiting: bool = True
    retry_after_header: bool = True
    max_range_days: int = MAX_RANGE_DAYS
    cap_event_range: bool = True
    clamp_page_size: bool = True
    legacy: bool = False
    numeric_member_ids: bool = False
    omit_removed_members: bool = False
    drop_removed_emails: bool = True
    cycle_anchor_day: int = 1
    #: Share of plain members who join during the history (listed, and active, from then).
    joined_fraction: float = 0.0
    #: Share of plain members who stop using Cursor during the history but keep their seat.
    idle_fraction: float = 0.0
    included_allowance_cents: float = 2000.0
    events_per_user_day: float = 30.0
    api_keys: dict[str, str] = field(default_factory=lambda: {DEMO_API_KEY: "admin"})
    #: Models served under other names ({simulated name: name on the wire}), e.g. hostile
    #: ones for escaping tests. Applied after generation: prices and draws are unchanged.
    model_names: dict[str, str] = field(default_factory=dict)
    #: HTTP status of ``user-spend-limit``'s ``outcome: error`` answers (undocumented).
    limit_error_status: int = 200
    #: Billing groups drawn at the start of history (0: none), and the share of members in one.
    groups: int = 0
    group_share: float = 0.8
    #: Whether the group list carries each group's members (else only its detail does).
    group_list_members: bool = True


@dataclass(frozen=True, slots=True)
class Model:
    """A model and its list price in cents per million tokens."""

    name: str
    input: float
    output: float
    cache_write: float
    cache_read: float
    weight: float
    max_mode_share: float

    @property
    def first_party(self) -> bool:
        return self.name.startswith(("composer", "grok", "cursor-"))


MODELS: tuple[Model, ...] = (
    Model("claude-4.5-sonnet", 300, 1500, 375, 30, 0.30, 0.10),
    Model("gpt-5", 125, 1000, 0, 12.5, 0.15, 0.05),
    Model("auto", 125, 600, 125, 25, 0.18, 0.0),
    Model("composer-2.5-fast", 125, 1000, 0, 12.5, 0.14, 0.0),
    Model("claude-4.1-opus", 1500, 7500, 1875, 150, 0.05, 0.85),
    Model("gemini-2.5-pro", 125, 1000, 0, 31, 0.08, 0.05),
    Model("grok-code-fast-1", 20, 150, 0, 2, 0.10, 0.0),
)

FIRST_NAMES = (
    "Priya", "Tomás", "Aisha", "Ben", "Chloé", "Daniel", "Elena", "Farid", "Grace", "Hiro",
    "Ines", "Jamal", "Katarina", "Liam", "Mei", "Noah", "Olga", "Pablo", "Quinn", "Rosa",
    "Sven", "Tara", "Umar", "Vera", "Wei", "Ximena", "Yusuf", "Zoë", "Amara", "Björn",
    "Carmen", "Dmitri", "Emeka", "Fatima", "Gustavo", "Hannah", "Ivan", "Julia", "Kenji",
    "Lucia", "Mateo", "Nadia", "Oscar", "Petra", "Rahul", "Sofia", "Theo", "Uma", "Viktor",
    "Yara",
)  # fmt: skip
LAST_NAMES = (
    "Raman", "Ortega", "Okafor", "Fischer", "Dubois", "Kim", "Petrov", "Haddad", "Nakamura",
    "Silva", "Novak", "Johnson", "Larsen", "Chen", "Rossi", "Gupta", "Murphy", "Schmidt",
    "Tanaka", "Alvarez", "Kowalski", "Nguyen", "O'Brien", "Andersson", "Mendes", "Ivanova",
    "Brown", "García", "Müller", "Singh", "Costa", "Yilmaz", "Walsh", "Moreau", "Park",
    "Hansen", "Bianchi", "Kaur", "Lopez", "Sato", "Adeyemi", "Jensen", "Romano", "Khan",
    "Weber", "Castro", "Berg", "Lindqvist", "Mwangi", "Ward",
)  # fmt: skip
EXTENSIONS = (".ts", ".tsx", ".py", ".go", ".rs", ".java", ".kt", ".swift")
CLIENT_VERSIONS = ("2.3.9", "2.4.1", "2.4.2", "2.5.0")
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


@dataclass(slots=True)
class Member:
    """One team member, with the habits that drive their usage."""

    index: int
    user_id: str
    numeric_id: int
    name: str
    email: str
    role: str
    is_removed: bool
    removed_at_ms: int | None
    monthly_limit_dollars: int | None
    intensity: float
    activity: float
    tz_offset_ms: int
    start_hour: float
    model_cum: tuple[float, ...]
    uses_own_key: bool
    lines_per_apply: int
    accept_rate: float
    tab_factor: int
    ext_apply: str
    ext_tab: str
    client_version: str
    bugbot: bool
    #: When the member joined the team (None: before the history starts).
    joined_at_ms: int | None = None
    #: From when the member uses Cursor no more, seat kept (None: never idle).
    idle_from_ms: int | None = None


@dataclass(slots=True)
class SimEvent:
    """One usage event, stored compactly; rendered to a wire dict per request."""

    ts: int
    member: int
    model: str
    kind: str
    max_mode: bool
    requests_costs: float
    token_based: bool
    input_tokens: int
    output_tokens: int
    cache_write: int
    cache_read: int
    omitted: int
    total_cents: float
    discount: int | None
    fee: float | None
    charged: float
    headless: bool
    conversation: str | None
    cloud_agent: str | None
    service_account: bool


def utc_ms(moment: datetime) -> int:
    """Epoch milliseconds of an aware datetime (naive means UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def cycle_start_at(moment: datetime, anchor_day: int) -> datetime:
    """Start (UTC midnight) of the billing cycle containing ``moment``."""
    moment = moment.astimezone(UTC)
    year, month = moment.year, moment.month
    start = _cycle_day(year, month, anchor_day)
    if start > moment:
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        start = _cycle_day(year, month, anchor_day)
    return start


def _cycle_day(year: int, month: int, anchor_day: int) -> datetime:
    day = max(1, min(anchor_day, calendar.monthrange(year, month)[1]))
    return datetime(year, month, day, tzinfo=UTC)


def charge_of(total_cents: float, discount: int | None, fee: float | None) -> float:
    """What the API charges for a token-based event (plain float, as the API emits it)."""
    return total_cents * (1 - (discount or 0) / 100) + (fee or 0.0)


@dataclass
class Team:
    """Members plus their events, anchored at the clock's time at construction."""

    config: SimulatorConfig
    anchor_ms: int
    members: list[Member]
    store: EventStore


class EventStore:
    """Events sorted by timestamp (ties in generation order), indexed globally and per member."""

    def __init__(self, events: list[SimEvent], n_members: int) -> None:
        events.sort(key=attrgetter("ts"))
        self.events = events
        self.ts = [e.ts for e in events]
        self.by_member: list[list[SimEvent]] = [[] for _ in range(n_members)]
        for event in events:
            self.by_member[event.member].append(event)
        self.member_ts = [[e.ts for e in evs] for evs in self.by_member]

    def span(self, lo_ms: int, hi_ms: int, member: int | None = None) -> list[SimEvent]:
        """Events with ``lo_ms <= ts < hi_ms``, oldest first."""
        events, stamps = self._lists(member)
        return events[bisect.bisect_left(stamps, lo_ms) : bisect.bisect_left(stamps, hi_ms)]

    def bounds(self, lo_ms: int, hi_ms: int, member: int | None = None) -> tuple[int, int]:
        """Index range of ``span`` within ``self.events`` or the member's list."""
        _, stamps = self._lists(member)
        return bisect.bisect_left(stamps, lo_ms), bisect.bisect_left(stamps, hi_ms)

    def sequence(self, member: int | None = None) -> list[SimEvent]:
        return self._lists(member)[0]

    def find(self, ts_ms: int) -> SimEvent | None:
        i = bisect.bisect_left(self.ts, ts_ms)
        return self.events[i] if i < len(self.ts) and self.ts[i] == ts_ms else None

    def _lists(self, member: int | None) -> tuple[list[SimEvent], list[int]]:
        if member is None:
            return self.events, self.ts
        return self.by_member[member], self.member_ts[member]


def build_team(config: SimulatorConfig, anchor: datetime) -> Team:
    """Generate the whole team and its history deterministically from ``config.seed``."""
    rng = random.Random(config.seed)
    anchor_ms = utc_ms(anchor)
    first_day = (anchor_ms // DAY_MS - config.days) * DAY_MS
    members = _make_members(rng, config, first_day, anchor_ms)
    day_starts = [first_day + i * DAY_MS for i in range(config.days + config.future_days + 1)]
    boundaries = _cycle_boundaries(day_starts, config.cycle_anchor_day)
    events: list[SimEvent] = []
    for member in members:
        mine = _member_events(rng, member, config, day_starts)
        mine.sort(key=attrgetter("ts"))
        _assign_kinds(mine, boundaries, config.included_allowance_cents)
        events.extend(mine)
    if config.model_names:
        for event in events:
            event.model = config.model_names.get(event.model, event.model)
    return Team(config, anchor_ms, members, EventStore(events, len(members)))


def _make_members(
    rng: random.Random, config: SimulatorConfig, first_day: int, anchor_ms: int
) -> list[Member]:
    seen: set[str] = set()
    members = [_make_member(rng, i, seen) for i in range(config.users)]
    candidates = [m for m in members if m.role == "member"]
    count = min(len(candidates), round(config.users * config.removed_fraction))
    history_days = max(1, (anchor_ms - first_day) // DAY_MS - 1)
    for member in rng.sample(candidates, count):
        member.is_removed = True
        day = first_day + rng.randint(history_days // 4, history_days) * DAY_MS
        member.removed_at_ms = min(day + 12 * HOUR_MS, anchor_ms - HOUR_MS)
    _join_and_idle(rng, config, members, first_day, history_days)
    return members


def _join_and_idle(
    rng: random.Random, config: SimulatorConfig, members: list[Member], first_day: int, days: int
) -> None:
    """Pick members who join during the history and members who go idle (seat kept).

    Draws from ``rng`` only when a fraction is set, so other teams stay as they were."""
    plain = [m for m in members if m.role == "member" and not m.is_removed]
    for fraction, joining in ((config.joined_fraction, True), (config.idle_fraction, False)):
        count = min(len(plain), round(config.users * fraction))
        if count <= 0:
            continue
        for member in rng.sample(plain, count):
            plain.remove(member)
            day = first_day + rng.randint(days // 3, days - 2) * DAY_MS
            if joining:
                member.joined_at_ms = day + 9 * HOUR_MS
            else:
                member.idle_from_ms = day


def _make_member(rng: random.Random, index: int, seen: set[str]) -> Member:
    name, email = _unique_name(rng, index, seen)
    role = "owner" if index == 0 or index == 20 else "member"
    if role == "member" and rng.random() < 0.03:
        role = "free-owner"
    heavy = rng.random() < 0.06
    weights = [m.weight * (4.0 if heavy and m.name == "claude-4.1-opus" else 1.0) for m in MODELS]
    cum, acc = [], 0.0
    for weight in weights:
        acc += weight / sum(weights)
        cum.append(acc)
    cum[-1] = 1.0
    return Member(
        index=index,
        user_id="user_" + "".join(rng.choices(ALNUM, k=26)),
        numeric_id=90201 + index,
        name=name,
        email=email,
        role=role,
        is_removed=False,
        removed_at_ms=None,
        monthly_limit_dollars=rng.choice((None, None, None, 150, 300, 1000)),
        intensity=rng.uniform(3.0, 5.0) if heavy else rng.uniform(0.4, 1.4),
        activity=rng.uniform(0.6, 0.95),
        tz_offset_ms=rng.choice((-8, -5, 0, 1, 2, 5, 8)) * HOUR_MS,
        start_hour=rng.uniform(8.0, 10.5),
        model_cum=tuple(cum),
        uses_own_key=rng.random() < 0.04,
        lines_per_apply=rng.randint(4, 30),
        accept_rate=rng.uniform(0.6, 0.95),
        tab_factor=rng.randint(3, 12),
        ext_apply=rng.choice(EXTENSIONS),
        ext_tab=rng.choice(EXTENSIONS),
        client_version=rng.choice(CLIENT_VERSIONS),
        bugbot=rng.random() < 0.2,
    )


def _unique_name(rng: random.Random, index: int, seen: set[str]) -> tuple[str, str]:
    for attempt in range(40):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        local = f"{_ascii(first)}.{_ascii(last)}" + (str(index) if attempt >= 20 else "")
        if local not in seen:
            seen.add(local)
            return f"{first} {last}", f"{local}@acme.test"
    raise RuntimeError("could not draw a unique member name")  # pragma: no cover


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def _cycle_boundaries(day_starts: list[int], anchor_day: int) -> list[int]:
    starts = {utc_ms(cycle_start_at(from_ms(day), anchor_day)) for day in day_starts}
    return sorted(starts)


def _member_events(
    rng: random.Random, member: Member, config: SimulatorConfig, day_starts: list[int]
) -> list[SimEvent]:
    events: list[SimEvent] = []
    conversation: str | None = None
    rnd = rng.random
    for day in day_starts:
        if member.removed_at_ms is not None and day >= member.removed_at_ms:
            break
        if member.idle_from_ms is not None and day >= member.idle_from_ms:
            break
        if member.joined_at_ms is not None and day < member.joined_at_ms:
            continue
        weekend = from_ms(day).weekday() >= 5
        if rnd() >= (0.25 if weekend else member.activity):
            continue
        mean = config.events_per_user_day * member.intensity * (0.4 if weekend else 1.0)
        count = int(mean * (0.4 + 1.2 * rnd()) + 0.5)
        start = day + int(member.start_hour * HOUR_MS) - member.tz_offset_ms
        for _ in range(count):
            if conversation is None or rnd() < 0.2:
                conversation = _conversation_id(rng)
            ts = start + int((rnd() + rnd()) * 4.5 * HOUR_MS)
            if member.removed_at_ms is not None and ts >= member.removed_at_ms:
                continue
            events.append(_make_event(rng, member, ts, conversation))
    return events


def _conversation_id(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _make_event(rng: random.Random, member: Member, ts: int, conversation: str) -> SimEvent:
    rnd = rng.random
    model = MODELS[bisect.bisect_left(member.model_cum, rnd())]
    max_mode = rnd() < model.max_mode_share
    headless = rnd() < 0.04
    cloud_agent = f"bc_{rng.getrandbits(24):06x}" if headless and rnd() < 0.75 else None
    service_account = headless and rnd() < 0.08
    event = SimEvent(
        ts=ts, member=member.index, model=model.name, kind=KIND_INCLUDED, max_mode=max_mode,
        requests_costs=0.0, token_based=True, input_tokens=0, output_tokens=0, cache_write=0,
        cache_read=0, omitted=0, total_cents=0.0, discount=None, fee=None, charged=0.0,
        headless=headless, conversation=conversation if rnd() < 0.95 else None,
        cloud_agent=cloud_agent, service_account=service_account,
    )  # fmt: skip
    roll = rnd()
    if roll < 0.01:
        event.kind = KIND_ERRORED
        event.input_tokens = int(500 + rnd() * 5000)
    elif member.uses_own_key and roll < 0.3:
        event.kind = KIND_USER_API_KEY
        event.token_based = False
    elif roll < 0.07:
        event.token_based = False
        event.requests_costs = 2.0 if max_mode else 1.0
        event.charged = event.requests_costs * REQUEST_UNIT_CENTS
    else:
        _price_tokens(rng, event, model)
    return event


def _price_tokens(rng: random.Random, event: SimEvent, model: Model) -> None:
    rnd = rng.random
    scale = 2.5 if event.max_mode else 1.0
    event.input_tokens = int((1500 + rnd() * rnd() * 60000) * scale)
    event.output_tokens = int((150 + rnd() * rnd() * 6000) * scale)
    event.cache_read = int(rnd() * 220000 * scale) if rnd() < 0.7 else 0
    event.cache_write = int(rnd() * 45000) if rnd() < 0.4 else 0
    if rnd() < 0.05:
        event.cache_write, event.omitted = 0, event.omitted | OMIT_CACHE_WRITE
    if rnd() < 0.01:
        event.cache_read, event.omitted = 0, event.omitted | OMIT_CACHE_READ
    tokens = event.input_tokens + event.output_tokens + event.cache_write + event.cache_read
    event.total_cents = (
        event.input_tokens * model.input
        + event.output_tokens * model.output
        + event.cache_write * model.cache_write
        + event.cache_read * model.cache_read
    ) / 1_000_000
    event.discount = rng.choice((10, 20)) if rnd() < 0.08 else None
    event.fee = None if model.first_party else tokens * TOKEN_FEE_CENTS_PER_TOKEN
    event.charged = charge_of(event.total_cents, event.discount, event.fee)
    event.requests_costs = max(0.1, round(event.total_cents / REQUEST_UNIT_CENTS, 1))


def _assign_kinds(events: list[SimEvent], boundaries: list[int], allowance: float) -> None:
    """Included until the member's cycle charges reach the allowance, Usage-based after."""
    cycle, used = -1, 0.0
    for event in events:
        current = bisect.bisect_right(boundaries, event.ts)
        if current != cycle:
            cycle, used = current, 0.0
        if event.kind != KIND_INCLUDED:
            continue
        if used >= allowance:
            event.kind = KIND_USAGE_BASED
        used += event.charged
