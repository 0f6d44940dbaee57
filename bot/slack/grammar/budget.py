"""`/spend budget …`: set, list and remove budgets (amount, period, thresholds, who hears)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from bot.slack.grammar import words
from bot.slack.grammar.commands import BudgetList, BudgetRemove, BudgetSet, Command
from bot.slack.grammar.groups import group_name
from bot.slack.grammar.refusals import Reject, Seen, id_of, no_more, unknown_word

_AMOUNT = re.compile(r"\$?([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(\.[0-9]{1,2})?(k)?")
_PERCENT = re.compile(r"([0-9]{1,4})%?")
_PERCENTS = re.compile(r"[0-9,%]+")
_MAX_CENTS = 1_000_000_000


def budget(rest: list[str]) -> Command:
    word, args = (rest[0].lower(), rest[1:]) if rest else ("list", [])
    if word in ("list", "ls"):
        no_more(args, "budget list", "budget")
        return BudgetList()
    if word in ("set", "add"):
        return _budget_set(args)
    if word in ("remove", "delete", "rm"):
        return BudgetRemove(id_of(args, "budget remove", "budget"))
    raise unknown_word(rest, 0, "budget", "budget", ("set", "list", "remove"))


@dataclass
class _Budget:
    seen: Seen
    user_id: str | None = None
    amount_cents: int | None = None
    period: str = "cycle"
    thresholds: tuple[int, ...] = (50, 80, 100)
    notify_user_ids: list[str] = field(default_factory=list)
    notify_channel_id: str | None = None
    group: str | None = None

    def command(self) -> BudgetSet:
        slots = self.seen.slots
        if "cursor" not in slots and self.user_id is None and self.group is None:
            message = "Say what the budget is for: `/spend budget set cursor $5000` (the team), "
            message += "`/spend budget set @alice $200` (one person) or "
            message += '`/spend budget set group "Platform" $2000` (a billing group).'
            raise Reject(message, "budget")
        if self.group is not None and self.user_id is not None:
            message = "A budget is for one person or one group: drop one of them."
            raise Reject(message, "budget")
        if self.amount_cents is None:
            message = "Say how much, e.g. `/spend budget set cursor $5000`."
            raise Reject(message, "budget")
        if "notify" in slots and not (self.notify_user_ids or self.notify_channel_id):
            message = "`notify` needs people or a channel after it: `notify @alice #finance`."
            raise Reject(message, "budget")
        return BudgetSet(
            amount_cents=self.amount_cents, user_id=self.user_id, period=self.period,
            thresholds=self.thresholds, notify_user_ids=tuple(self.notify_user_ids),
            notify_channel_id=self.notify_channel_id, group=self.group,
        )  # fmt: skip


def _budget_set(args: list[str]) -> BudgetSet:
    spec = _Budget(Seen("budget", "budget set"))
    index = 0
    while index < len(args):
        index = _budget_word(spec, args, index)
    return spec.command()


def _budget_word(spec: _Budget, args: list[str], index: int) -> int:
    """Read the word at `index` into `spec`; the index of the next unread word."""
    token, seen = args[index], spec.seen
    word = token.lower()
    if _mention(spec, token):
        return index + 1
    if word == "group":
        spec.group, after = group_name(args, index, "budget")
        seen.claim("group", f"group {spec.group}")
        return after
    if word == "at":
        end = index + 1
        while end < len(args) and _PERCENTS.fullmatch(args[end]):
            end += 1
        spec.thresholds = _thresholds(args[index + 1 : end])
        seen.claim("at", "at")
        return end
    if word in words.BUDGET_PERIODS:
        spec.period = words.BUDGET_PERIODS[word]
        seen.claim("period", token)
    elif word[:1] == "$" or word[:1].isdigit():
        spec.amount_cents = _amount(token)
        seen.claim("amount", token)
    elif word in ("cursor", "notify"):
        seen.claim(word, word)
    else:
        vocabulary = ("cursor", "at", "notify", "group", *words.BUDGET_PERIODS)
        raise unknown_word(args, index, "budget set", "budget", vocabulary)
    return index + 1


def _mention(spec: _Budget, token: str) -> bool:
    """Read a person or channel (whom the budget is for, or who hears after `notify`)."""
    seen, notifying = spec.seen, "notify" in spec.seen.slots
    user_id, channel_id = words.user_id(token), words.channel_id(token)
    if user_id and notifying:
        spec.notify_user_ids += [] if user_id in spec.notify_user_ids else [user_id]
    elif user_id:
        spec.user_id = user_id
        seen.claim("person", token)
    elif channel_id and notifying:
        spec.notify_channel_id = channel_id
        seen.claim("channel", token)
    elif channel_id:
        message = "Put the channel after `notify`, e.g. `notify #finance`."
        raise Reject(message, "budget")
    return bool(user_id or channel_id)


def _amount(token: str) -> int:
    match = _AMOUNT.fullmatch(token.lower())
    if match:
        dollars = Decimal(match[1].replace(",", "") + (match[2] or ""))
        cents = dollars * (1000 if match[3] else 1) * 100
        if 0 < cents <= _MAX_CENTS and cents == cents.to_integral_value():
            return int(cents)
    message = f"`{words.shown(token)}` isn't an amount: write `$5000`, `$5,000`, `$49.99` or `5k`."
    raise Reject(message, "budget")


def _thresholds(tokens: list[str]) -> tuple[int, ...]:
    parts = [part for token in tokens for part in token.split(",") if part]
    values = [_PERCENT.fullmatch(part) for part in parts]
    numbers = {int(value[1]) for value in values if value}
    if parts and None not in values and all(1 <= number <= 1000 for number in numbers):
        return tuple(sorted(numbers))
    message = "`at` needs percentages from 1 to 1000, e.g. `at 50,80,100`."
    raise Reject(message, "budget")
