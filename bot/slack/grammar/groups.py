"""A billing group's name in `/spend` text: `group "Support Tools"`, `group Platform`.

Slack sends the text as typed, with straight or curly quotes (phones type curly ones). A
quoted name may span words; an unquoted one is one word. Names are kept as typed (spaces
collapsed) and matched against the ledger's group names case-insensitively later.
"""

from __future__ import annotations

from bot.slack.grammar import words
from bot.slack.grammar.refusals import Reject

OPENERS = {'"': '"', "“": "”", "”": "”", "'": "'", "‘": "’", "’": "’"}
MAX_NAME = 200
EXAMPLE = '`/spend cursor group "Platform" by model`'


def group_name(tokens: list[str], index: int, topic: str) -> tuple[str, int]:
    """The name after `group` at ``index``, and the index of the word after it."""
    if index + 1 >= len(tokens):
        raise Reject(f"`group` needs a group's name after it, e.g. {EXAMPLE}.", topic)
    first = tokens[index + 1]
    closer = OPENERS.get(first[0])
    if closer is None:
        return _checked(first, topic), index + 2
    parts: list[str] = []
    for at in range(index + 1, len(tokens)):
        parts.append(tokens[at])
        text = " ".join(parts)
        if len(text) > 1 and text.endswith((closer, '"')):
            return _checked(text[1:-1], topic), at + 1
    raise Reject(f"The group's name has no closing quote: write it as in {EXAMPLE}.", topic)


def _checked(name: str, topic: str) -> str:
    clean = " ".join(name.split())
    if not clean:
        raise Reject(f"The group's name is empty: write it as in {EXAMPLE}.", topic)
    if len(clean) > MAX_NAME or words.is_markup(clean) or "<" in clean or ">" in clean:
        raise Reject(
            f"`{words.shown(clean)}` can't be a billing group's name: write the name as "
            "Cursor shows it (`stackspend groups` lists them).",
            topic,
        )
    return clean


def check_group_query(
    group: str | None, by: str, single: bool, topic: str, *, chart: bool = False
) -> None:
    """Refuse what a report by group cannot be: one person's, one group by day or kind, or
    (not yet) a chart."""
    if chart and (group is not None or by == "group"):
        raise Reject(
            "Charts are not drawn by billing group yet: drop `chart` for the numbers, or "
            "chart `by user` or `by model`.",
            topic,
        )
    if (group is not None or by == "group") and single:
        raise Reject(
            "Billing groups cover many people: drop the person, or drop the group "
            '(`/spend cursor by group`, `/spend cursor group "Platform"`).',
            topic,
        )
    if group is not None and by not in ("user", "model"):
        raise Reject(
            f"A group's spend is shown by user or model: {EXAMPLE}, or every group with "
            "`/spend cursor by group`.",
            topic,
        )
