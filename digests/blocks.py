"""Block Kit building blocks, validated by slack_sdk's models as they are built.

Slack's limits (50 blocks a message, 3,000 characters a section text) are
enforced here, so that no caller can produce a message Slack would refuse.
Data in mrkdwn is escaped with ``escape`` (from ``digests.format``, re-exported here);
``code_lines`` escapes its lines itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from digests.format import escape, escape_code

__all__ = [
    "Block",
    "Button",
    "Message",
    "actions",
    "code_lines",
    "context",
    "divider",
    "escape",
    "fields_section",
    "header",
    "section",
]

MAX_BLOCKS = 50
MAX_SECTION_CHARS = 3000
MAX_HEADER_CHARS = 150

Block = dict[str, Any]


def header(text: str) -> Block:
    return HeaderBlock(text=text[:MAX_HEADER_CHARS]).to_dict()


def section(mrkdwn: str, *, fields: list[str] | None = None) -> Block:
    text = mrkdwn if len(mrkdwn) <= MAX_SECTION_CHARS else mrkdwn[: MAX_SECTION_CHARS - 1] + "…"
    field_objects = [MarkdownTextObject(text=f[:2000]) for f in fields[:10]] if fields else None
    return SectionBlock(text=MarkdownTextObject(text=text), fields=field_objects).to_dict()


def fields_section(fields: list[str]) -> Block:
    return SectionBlock(fields=[MarkdownTextObject(text=f[:2000]) for f in fields[:10]]).to_dict()


def context(*parts: str) -> Block:
    return ContextBlock(elements=[MarkdownTextObject(text=p[:3000]) for p in parts[:10]]).to_dict()


def divider() -> Block:
    return DividerBlock().to_dict()


@dataclass(frozen=True)
class Button:
    text: str
    action_id: str
    value: str = ""
    style: str | None = None


def actions(*buttons: Button, block_id: str | None = None) -> Block:
    elements = [
        ButtonElement(text=b.text, action_id=b.action_id, value=b.value or None, style=b.style)
        for b in buttons[:25]
    ]
    return ActionsBlock(elements=elements, block_id=block_id).to_dict()


def code_lines(lines: list[str], *, budget: int = MAX_SECTION_CHARS) -> tuple[str, int]:
    """As many lines as fit in one preformatted section; returns (text, lines kept).

    ``lines`` are plain text (align them before): each is escaped here for a code block,
    so that no data can mention, link or close the block.
    """
    kept: list[str] = []
    size = 8  # the fences and their line ends
    for raw in lines:
        line = escape_code(raw)
        if size + len(line) + 1 > budget:
            break
        kept.append(line)
        size += len(line) + 1
    return "```\n" + "\n".join(kept) + "\n```", len(kept)


@dataclass
class Message:
    """A Slack message: fallback text and blocks, kept within Slack's limits."""

    text: str
    blocks: list[Block] = field(default_factory=list)

    def __post_init__(self) -> None:
        if len(self.blocks) > MAX_BLOCKS:
            dropped = len(self.blocks) - (MAX_BLOCKS - 1)
            self.blocks = [
                *self.blocks[: MAX_BLOCKS - 1],
                context(f"… and {dropped} more blocks not shown."),
            ]

    def as_kwargs(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}
