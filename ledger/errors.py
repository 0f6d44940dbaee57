"""The ledger's errors: one tree, with facts in typed fields and no sentences.

Every request the ledger cannot serve raises a ``LedgerError`` subclass. The ledger
says what went wrong (which thing, which value, which limit); the surfaces say it
to people: ``digests.errors.error_text`` for Slack (with ``/spend`` hints) and
``bot.cli.common`` for the terminal (with ``stackspend`` hints). ``str()`` of an
error is a terse, hint-free form for logs and tracebacks only.

- ``NotFound(thing, ref, known)``: no alert, budget, digest schedule, workspace or
  member ``ref`` (in the caller's workspace); ``known`` lists what exists when useful.
- ``NotConnected(team_id, provider)``: the workspace has no usable connection (to
  that provider; ``provider`` None: to any).
- ``InvalidValue(field, value, limit)``: a value the user gave is not acceptable for
  ``field`` (a ``Input``); ``limit`` is the bound that was passed, if there is one.
- ``LimitReached(thing, count, limit)``: the workspace has as many budgets or digest
  schedules as it may have.
- ``Duplicate(thing, ref)``: the same digest schedule exists already (ID ``ref``).
- ``UnlinkedPerson(user_id)``: a Slack person with no provider member linked.
- ``PeriodError(problem, text, ...)`` (``ledger.periods``): a period could not be read.
- ``SyncAlreadyRunning(connection_id, since, trigger)`` and ``LeaseLost(connection_id)``
  (``ledger.lease``): another sync holds, or took over, a connection's lease.
- ``SyncNotDue(connection_id, last_started)`` (``ledger.sync``): a scheduled sync found,
  under the lease, that another replica synced the connection since it fell due.

Outside the tree, because they are about configuration rather than a request:
``SecretKeyError`` here (the secret key setting is missing or wrong; its message names
the setting), ``ledger.db.DatabaseUrlError`` and ``ledger.migrate.MigrationError``.
"""

from __future__ import annotations

import enum
from datetime import datetime


class Thing(enum.StrEnum):
    ALERT = "alert"
    BUDGET = "budget"
    DIGEST = "digest"
    WORKSPACE = "workspace"
    MEMBER = "member"


class Input(enum.StrEnum):
    """What a rejected value was meant to be."""

    TIMEZONE = "timezone"
    VISIBILITY = "visibility"
    BREAKDOWN = "breakdown"
    ACTION = "action"
    CADENCE = "cadence"
    BUDGET_PROVIDER = "budget_provider"
    #: Not whole cents (``limit`` None) or out of range (``limit`` the maximum, in cents).
    BUDGET_AMOUNT = "budget_amount"
    BUDGET_PERIOD = "budget_period"
    THRESHOLDS = "thresholds"
    NOTIFY_COUNT = "notify_count"
    NOTIFY_IDS = "notify_ids"
    SUBJECT_EMAIL = "subject_email"


class LedgerError(Exception):
    """A request the ledger cannot serve; the subclass and its fields say why."""

    def __init__(self, *facts: object) -> None:
        super().__init__(type(self).__name__, *facts)


class NotFound(LedgerError):
    def __init__(self, thing: Thing, ref: object, known: tuple[str, ...] = ()) -> None:
        super().__init__(thing.value, ref)
        self.thing = thing
        self.ref = str(ref)
        self.known = known


class NotConnected(LedgerError):
    """``provider`` None: the workspace has no usable connection to any provider."""

    def __init__(self, team_id: str, provider: str | None) -> None:
        super().__init__(team_id, provider)
        self.team_id = team_id
        self.provider = provider


class InvalidValue(LedgerError):
    def __init__(self, field: Input, value: object = None, limit: int | None = None) -> None:
        super().__init__(field.value, value)
        self.field = field
        self.value = "" if value is None else str(value)
        self.limit = limit


class LimitReached(LedgerError):
    def __init__(self, thing: Thing, count: int, limit: int) -> None:
        super().__init__(thing.value, count, limit)
        self.thing = thing
        self.count = count
        self.limit = limit


class Duplicate(LedgerError):
    def __init__(self, thing: Thing, ref: object) -> None:
        super().__init__(thing.value, ref)
        self.thing = thing
        self.ref = str(ref)


class UnlinkedPerson(LedgerError):
    def __init__(self, user_id: str) -> None:
        super().__init__(user_id)
        self.user_id = user_id


class PeriodProblem(enum.StrEnum):
    NOT_A_DATE = "not_a_date"
    OUT_OF_RANGE = "out_of_range"
    REVERSED = "reversed"
    UNKNOWN = "unknown"
    #: The period has not started yet (``text``: the phrase; ``first``: its first day).
    FUTURE = "future"
    #: ``vs previous`` of a period with no calendar before it (``text``: the period).
    NO_EARLIER = "no_earlier"
    #: A chart longer than ``max_days`` (``text``: the period).
    CHART_TOO_LONG = "chart_too_long"


class PeriodError(LedgerError):
    """A period the user typed could not be understood.

    ``text``: the part at fault; ``max_days`` for ``OUT_OF_RANGE``; ``first`` and
    ``last`` (as typed) for ``REVERSED``.
    """

    def __init__(
        self,
        problem: PeriodProblem,
        text: str,
        *,
        max_days: int = 0,
        first: str = "",
        last: str = "",
    ) -> None:
        super().__init__(problem.value, text)
        self.problem = problem
        self.text = text
        self.max_days = max_days
        self.first = first
        self.last = last


class SyncAlreadyRunning(LedgerError):
    """Another sync of the connection holds its lease."""

    def __init__(self, connection_id: int, since: datetime, trigger: str) -> None:
        super().__init__(connection_id, since.isoformat(), trigger)
        self.connection_id = connection_id
        self.since = since
        self.trigger = trigger


class SyncNotDue(LedgerError):
    """A sync asked for only if due found one that started since (another replica's)."""

    def __init__(self, connection_id: int, last_started: datetime) -> None:
        super().__init__(connection_id, last_started.isoformat())
        self.connection_id = connection_id
        self.last_started = last_started


class LeaseLost(LedgerError):
    """The lease expired and was taken over: this sync must stop writing."""

    def __init__(self, connection_id: int) -> None:
        super().__init__(connection_id)
        self.connection_id = connection_id


class SecretKeyError(Exception):
    """The secret key setting is missing or wrong; the message says what to do.

    Here rather than in ``ledger.secrets`` so that reading settings does not load the
    cryptography package.
    """
