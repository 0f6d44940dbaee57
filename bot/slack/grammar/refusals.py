"""How the parser refuses: `Reject` (which `parse` turns into `Invalid`) and its usual causes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.slack.grammar.commands import Invalid
from bot.slack.grammar.usage import HELP_TEXT, USAGE
from bot.slack.grammar.words import ID, SLOT_NAMES, closest, corrected, shown


class Reject(Exception):
    """Raised inside the parser; `parse` turns it into `Invalid`.

    `suggestion` is set only when there is a whole command to offer instead (a typo fixed,
    extra words dropped); the message then need not repeat it.
    """

    def __init__(self, message: str, topic: str = "help", suggestion: str | None = None):
        super().__init__(message)
        self.invalid = Invalid(message, USAGE.get(topic, HELP_TEXT), suggestion)


class Seen:
    """Which slots of a command are filled, and by what text, to name conflicts."""

    def __init__(self, topic: str, command: str) -> None:
        self.topic, self.command = topic, command
        self.slots: dict[str, str] = {}

    def claim(self, slot: str, token: str) -> None:
        earlier = self.slots.get(slot)
        if earlier is not None:
            raise self.conflict(slot, earlier, shown(token))
        self.slots[slot] = shown(token)

    def conflict(self, slot: str, earlier: str, later: str) -> Reject:
        if earlier.lower() == later.lower():
            message = f"`{later}` is there twice: write it once."
        else:
            what = SLOT_NAMES.get(slot, f"two {slot}s")
            message = f"You gave {what}, `{earlier}` and `{later}`: keep one"
            message += f", e.g. `/spend cursor {earlier}`." if self.command == "cursor" else "."
        return Reject(message, self.topic)


def no_more(args: Sequence[str], command: str, topic: str) -> None:
    if args:
        message = f"`/spend {command}` takes nothing more: drop `{shown(args[0])}`."
        raise Reject(message, topic, command)


def id_of(args: Sequence[str], command: str, topic: str) -> int:
    match = ID.fullmatch(args[0]) if len(args) == 1 else None
    if match and int(match[1]) > 0:
        return int(match[1])
    message = f"Say which one by number: `/spend {command} 3` (`/spend {topic} list` shows them)."
    raise Reject(message, topic)


def unknown_word(
    words: Sequence[str], index: int, prefix: str, topic: str, vocabulary: Iterable[str]
) -> Reject:
    """`words[index]` means nothing after `prefix`: name it, and fix it if it is a typo."""
    token = words[index]
    if token.startswith("@"):
        message = "Pick the person from Slack's autocomplete (type `@` and choose them)"
        return Reject(f"{message} so that Slack sends a real mention.", topic)
    if token.startswith("#") and not ID.fullmatch(token):
        message = "Pick the channel from Slack's autocomplete (type `#` and choose it)"
        return Reject(f"{message} so that Slack sends a real channel link.", topic)
    match = closest(token.lower(), vocabulary)
    if match is None:
        message = f"I don't understand `{shown(token)}` here: see `/spend help {topic}`."
        return Reject(message, topic)
    message = f"I don't understand `{shown(token)}`."
    return Reject(message, topic, corrected(prefix, words, index, match))
