"""Ledger errors in words: one sentence per error, said from its typed fields.

``error_text(error)`` says a ``ledger.errors.LedgerError`` for Slack, with ``/spend``
hints; the CLI passes its own ``Hints`` (``stackspend`` commands) for terminals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from difflib import get_close_matches

from digests.format import dollars
from digests.group_words import group_error_text
from ledger.errors import (
    Duplicate,
    Input,
    InvalidValue,
    LeaseLost,
    LedgerError,
    LimitReached,
    NotConnected,
    NotFound,
    PeriodError,
    PeriodProblem,
    SyncAlreadyRunning,
    SyncNotDue,
    Thing,
    UnlinkedPerson,
)
from ledger.group_errors import GroupsUnavailable, UnknownGroup

PERIOD_USAGE = (
    "Periods: today, yesterday, 7d, 30d (any Nd up to 366d), this week|month|cycle|quarter|year, "
    "last week|month|cycle|quarter|year, mtd, qtd, ytd, a month (october, oct 2026, 2026-10), "
    "a quarter (q3, 2026-q3), since monday, since 2026-10-01, last N days|weeks|months, "
    "a date YYYY-MM-DD, or a range YYYY-MM-DD..YYYY-MM-DD (`/spend help periods` for dates)."
)


#: Phrases offered for an unknown period (the nearest one, as `difflib` finds it).
PERIOD_PHRASES = (
    "today", "yesterday", "7d", "30d", "week", "month", "cycle", "last-cycle",
    "this week", "this month", "this cycle", "this quarter", "this year",
    "last week", "last month", "last cycle", "last quarter", "last year",
    "mtd", "qtd", "ytd", "since monday", "last 7 days", "last 4 weeks", "last 3 months",
    "january", "february", "march", "april", "may", "june", "july", "august",
    "september", "october", "november", "december",
)  # fmt: skip


@dataclass(frozen=True)
class Hints:
    """What to type, on one surface: each is a whole phrase, with its quotes."""

    budget_list: str
    budget_remove: str
    digest_list: str
    digest_remove: str
    alerts: str
    #: Example budgets: the team's, a weekly one, a person's (``{amount}`` dollars).
    budget_example: str
    budget_week_example: str
    personal_budget_example: str
    #: ``{user}``: a Slack user id.
    link: str
    #: ``{provider}``, ``{team}``.
    connect: str
    sync: str
    connect_workspace: str


SLACK = Hints(
    budget_list="`/spend budget list`",
    budget_remove="`/spend budget remove ID`",
    digest_list="`/spend digest list`",
    digest_remove="`/spend digest remove ID`",
    alerts="`/spend alerts`",
    budget_example="`/spend budget set cursor $5000`",
    budget_week_example="`/spend budget set cursor $1000 week`",
    personal_budget_example="`/spend budget set @alice $200 month`",
    link="`/spend settings link <@{user}> their.cursor@email`",
    connect=(
        "`/spend {provider} connect` in Slack or `stackspend connect {provider} --workspace {team}`"
    ),
    sync="`/spend cursor sync`",
    connect_workspace="`stackspend connect cursor --workspace TEAM_ID`",
)


def _not_found(error: NotFound, hints: Hints) -> str:
    if error.thing is Thing.ALERT:
        return f"No alert with ID {error.ref}: see {hints.alerts}."
    if error.thing is Thing.BUDGET:
        return f"No budget with ID {error.ref}: see {hints.budget_list}."
    if error.thing is Thing.DIGEST:
        return f"No digest with ID {error.ref}: see {hints.digest_list}."
    if error.thing is Thing.MEMBER:
        return (
            f"No Cursor member has the email {error.ref}: check the spelling, or run "
            f"{hints.sync} if they joined since the last sync."
        )
    known = ", ".join(error.known) or "none yet"
    return (
        f"No workspace {error.ref!r}. Known workspaces: {known}. "
        f"Connect one with {hints.connect_workspace}."
    )


def _budget_value(error: InvalidValue, hints: Hints) -> str | None:
    if error.field is Input.BUDGET_PROVIDER:
        return f"Budgets can be set for cursor only, e.g. {hints.budget_example}."
    if error.field is Input.BUDGET_AMOUNT and error.limit is None:
        return "A budget is whole cents: write the amount as `$5000` or `$49.99`."
    if error.field is Input.BUDGET_AMOUNT:
        most = dollars(Decimal(error.limit or 0)).removesuffix(".00")
        return f"A budget must be more than $0 and at most {most}: e.g. {hints.budget_example}."
    if error.field is Input.BUDGET_PERIOD:
        return (
            "A budget is per cycle (the billing cycle, the default), month, week or day, "
            f"not {error.value!r}: e.g. {hints.budget_week_example}."
        )
    if error.field is Input.THRESHOLDS:
        return f"Thresholds are 1 to {error.limit} percentages from 1 to 1000, e.g. `at 50,80,100`."
    if error.field is Input.NOTIFY_COUNT:
        return (
            f"A budget can notify at most {error.limit} people; add a channel instead: "
            "`notify #finance`."
        )
    if error.field is Input.NOTIFY_IDS:
        return "Name the people to notify as Slack mentions: `notify @alice @bob`."
    if error.field is Input.SUBJECT_EMAIL:
        return (
            f"{error.value!r} is not an email: a personal budget is for a person, "
            f"e.g. {hints.personal_budget_example}."
        )
    return None


_VALUES: dict[Input, Callable[[InvalidValue], str]] = {
    Input.TIMEZONE: lambda e: (
        f"Unknown timezone {e.value!r}: use an IANA name such as Europe/Paris or America/New_York."
    ),
    Input.VISIBILITY: lambda _: "Visibility is `own` (members see their own spend) or `all`.",
    Input.BREAKDOWN: lambda e: f"Unknown breakdown {e.value!r}: use user, model, day or kind.",
    Input.ACTION: lambda e: f"Unknown action {e.value!r}: acknowledge, snooze_1d or snooze_7d.",
    Input.CADENCE: lambda _: "Cadence is daily, weekdays, or one day: mon, tue, … sun.",
}


def _invalid(error: InvalidValue, hints: Hints) -> str:
    said = _budget_value(error, hints)
    if said is not None:
        return said
    return _VALUES[error.field](error)


def period_text(error: PeriodError) -> str:
    if error.problem is PeriodProblem.NOT_A_DATE:
        return f"{error.text!r} is not a date (YYYY-MM-DD). {PERIOD_USAGE}"
    if error.problem is PeriodProblem.OUT_OF_RANGE:
        return (
            f"{error.text} is out of range: use 1d to {error.max_days}d "
            "(or up to last 52 weeks, last 12 months)."
        )
    if error.problem is PeriodProblem.FUTURE:
        return f"{error.text} starts on {error.first}, after today: pick a period that has begun."
    if error.problem is PeriodProblem.NO_EARLIER:
        return f"There is nothing before {error.text} to compare with: pick a later period."
    if error.problem is PeriodProblem.CHART_TOO_LONG:
        return (
            f"A chart covers at most {error.max_days} days, and {error.text} is longer: "
            "ask for a shorter period, e.g. `last 12 months` (the text answer has no limit)."
        )
    if error.problem is PeriodProblem.REVERSED:
        swapped = f"{error.last}..{error.first}"
        return f"The range {error.text} ends before it starts: write it as {swapped}."
    match = get_close_matches(error.text.lower(), PERIOD_PHRASES, n=1, cutoff=0.6)
    hint = f" (did you mean `{match[0]}`?)" if match else ""
    return f"Unknown period {error.text!r}{hint}. {PERIOD_USAGE}"


def _limit(error: LimitReached, hints: Hints) -> str:
    if error.thing is Thing.DIGEST:
        return (
            f"This workspace has {error.count} digests already; remove one first "
            f"({hints.digest_list}, {hints.digest_remove})."
        )
    return (
        f"This workspace has {error.count} budgets, the most it can have; remove one first "
        f"({hints.budget_list}, {hints.budget_remove})."
    )


def error_text(error: LedgerError, hints: Hints = SLACK) -> str:
    """What to tell the person whose request raised ``error``."""
    if isinstance(error, NotFound):
        return _not_found(error, hints)
    if isinstance(error, InvalidValue):
        return _invalid(error, hints)
    if isinstance(error, PeriodError):
        return period_text(error)
    if isinstance(error, NotConnected):
        connect = hints.connect.format(provider=error.provider or "cursor", team=error.team_id)
        if error.provider is None:
            return f"Workspace {error.team_id} has no connection to sync: run {connect} first."
        return (
            f"Workspace {error.team_id} has no {error.provider} connection yet. "
            f"Connect it with {connect}."
        )
    if isinstance(error, LimitReached):
        return _limit(error, hints)
    if isinstance(error, Duplicate):
        return f"That digest exists already (ID {error.ref})."
    if isinstance(error, UnlinkedPerson):
        link = hints.link.format(user=error.user_id)
        return (
            f"I can't tell which Cursor member <@{error.user_id}> is: link them with "
            f"{link}, then set the budget."
        )
    if isinstance(error, SyncAlreadyRunning):
        return (
            f"A sync of this connection has been running since {error.since:%Y-%m-%d %H:%M} "
            f"UTC ({error.trigger}); it continues, and nothing else needs to be done."
        )
    if isinstance(error, SyncNotDue):
        return (
            f"Connection {error.connection_id} was synced at {error.last_started:%Y-%m-%d %H:%M} "
            "UTC, after this sync fell due; nothing else needs to be done."
        )
    if isinstance(error, GroupsUnavailable | UnknownGroup):
        return group_error_text(error, hints.sync)
    if isinstance(error, LeaseLost):
        return (
            f"The sync of connection {error.connection_id} lost its lease (it stalled for "
            "longer than the lease lives); the sync that took over continues."
        )
    return "That request could not be served."
