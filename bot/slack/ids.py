"""Slack identifiers shared by listeners and the blocks that trigger them."""

from __future__ import annotations

from typing import Final

COMMAND: Final = "/spend"

CONNECT_VIEW: Final = "cursor_connect"
CONNECT_KEY_BLOCK: Final = "cursor_key"
CONNECT_KEY_INPUT: Final = "cursor_key_input"

DISCONNECT_CONFIRM: Final = "cursor_disconnect_confirm"
DISCONNECT_CANCEL: Final = "cursor_disconnect_cancel"

LIMIT_VIEW: Final = "spend_limit"
LIMIT_AMOUNT_BLOCK: Final = "spend_limit_amount"
LIMIT_AMOUNT_INPUT: Final = "spend_limit_amount_input"
