"""The spend-limit dialog (a Slack modal): confirm a change, then show Cursor's answer.

The dialog shows the person's spend this cycle and current limit (from the last spend
snapshot); setting asks for whole dollars, removing asks nothing more. Its private metadata
names the person and the channel to answer in; the submit handler trusts none of it
without checking again.
"""

from __future__ import annotations

import json
from typing import Any

from bot.slack import ids
from bot.usecases.limit_changes import ChangeResult, Why
from bot.usecases.spend_limits import LimitDraft
from digests import limit_words
from digests.format import escape, escape_code

TITLE = {"type": "plain_text", "text": "Cursor spend limit"}
Block = dict[str, Any]


def _mrkdwn(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:2900]}}


def _plain(text: str) -> Block:
    """Text shown exactly as it is (Cursor's own words): no markup is read in it."""
    return {"type": "section", "text": {"type": "plain_text", "text": text[:2900] or " "}}


def limit_view(draft: LimitDraft, channel_id: str | None) -> dict[str, Any]:
    """The confirm dialog for ``draft``."""
    facts = limit_words.person_lines(draft.email, draft.person, draft.timezone)
    blocks: list[Block] = [_mrkdwn("\n".join(facts))]
    if draft.off:
        blocks.append(_mrkdwn(f"*{limit_words.asked(draft.email, None)}?*"))
        submit = "Remove limit"
    else:
        element: Block = {
            "type": "number_input",
            "is_decimal_allowed": False,
            "action_id": ids.LIMIT_AMOUNT_INPUT,
            "min_value": "0",
            "placeholder": {"type": "plain_text", "text": "200"},
        }
        if draft.dollars is not None:
            element["initial_value"] = str(draft.dollars)
        blocks.append(
            {
                "type": "input",
                "block_id": ids.LIMIT_AMOUNT_BLOCK,
                "label": {"type": "plain_text", "text": "New monthly limit (whole dollars)"},
                "hint": {
                    "type": "plain_text",
                    "text": "Cursor takes whole dollars; 0 caps their on-demand spend at $0.",
                },
                "element": element,
            }
        )
        submit = "Set limit"
    blocks.append(
        {"type": "context", "elements": [{"type": "mrkdwn", "text": limit_words.NEXT_SYNC}]}
    )
    metadata = {"email": draft.email, "off": draft.off, "channel_id": channel_id}
    return {
        "type": "modal",
        "callback_id": ids.LIMIT_VIEW,
        "title": TITLE,
        "submit": {"type": "plain_text", "text": submit},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": json.dumps(metadata),
        "blocks": blocks,
    }


def notice_view(text: str) -> dict[str, Any]:
    """A dialog that only says something (sending, refused, sent already)."""
    return {
        "type": "modal",
        "callback_id": ids.LIMIT_VIEW,
        "title": TITLE,
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": [_mrkdwn(text)],
    }


def sending_view(email: str, dollars: int | None) -> dict[str, Any]:
    asked = escape(limit_words.asked(email, dollars))
    return notice_view(f":hourglass_flowing_sand: {asked}: sending to Cursor…")


def result_view(result: ChangeResult) -> dict[str, Any]:
    """Cursor's answer: its own words, exactly, for success and error; ours for the rest."""
    view = notice_view(result_head(result))
    if result.why in (Why.SUCCESS, Why.ERROR):
        view["blocks"].append(_plain(result.message or "(Cursor gave no message)"))
    if result.why is Why.SUCCESS:
        view["blocks"].append(_mrkdwn(limit_words.NEXT_SYNC))
    return view


def result_head(result: ChangeResult) -> str:
    asked = limit_words.asked(result.email, result.dollars)
    if result.why is Why.SUCCESS:
        return f":white_check_mark: {escape(asked)}: Cursor accepted it and answered:"
    if result.why is Why.ERROR:
        return f":x: {escape(asked)}: Cursor refused it (nothing changed) and answered:"
    text = {
        Why.NOT_ENTERPRISE: limit_words.NOT_ENTERPRISE,
        Why.KEY_REJECTED: limit_words.KEY_REJECTED,
        Why.NOT_SENT: limit_words.NOT_SENT,
        Why.UNKNOWN: limit_words.UNKNOWN,
    }[result.why]
    return f":warning: {escape(asked)}: {text}"


def result_message(result: ChangeResult) -> str:
    """The answer as one chat message (when the dialog was closed before it came)."""
    text = result_head(result)
    if result.why in (Why.SUCCESS, Why.ERROR):
        text += f" `{escape_code(result.message)}`"
    if result.why is Why.SUCCESS:
        text += f"\n{limit_words.NEXT_SYNC}"
    return text
