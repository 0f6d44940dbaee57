"""The `/spend` grammar: a pure parser from slash-command text to a typed command.

`parse` never raises and never reads the clock. A period stays as the text the user
typed (checked, lower-cased) so that the caller resolves it against the workspace's
today and billing cycle. Input it cannot read becomes `Invalid` with the usage of
the nearest command. A pasted API key becomes `SecretRefused` (or
`Connect(pasted_secret=True)`) and is never kept in any field or message.
"""

from __future__ import annotations

from bot.slack.grammar.commands import (
    AlertsList,
    BudgetList,
    BudgetRemove,
    BudgetSet,
    Command,
    Connect,
    CursorImport,
    DigestAdd,
    DigestList,
    DigestPreview,
    DigestRemove,
    DigestSend,
    Disconnect,
    Help,
    Invalid,
    LimitHistory,
    LimitList,
    LimitSet,
    LinkPerson,
    PersonalLine,
    PersonalLineOff,
    SecretRefused,
    SetTimezone,
    SetVisibility,
    ShowSettings,
    SpendQuery,
    Status,
    SyncNow,
)
from bot.slack.grammar.parser import parse
from bot.slack.grammar.seat_commands import AdoptionQuery, SeatsQuery, SetSeatPrice
from bot.slack.grammar.usage import HELP_TEXT, HOME_EXAMPLES, SECRET_ADVICE, USAGE

__all__ = [
    "HELP_TEXT",
    "HOME_EXAMPLES",
    "SECRET_ADVICE",
    "USAGE",
    "AdoptionQuery",
    "AlertsList",
    "BudgetList",
    "BudgetRemove",
    "BudgetSet",
    "Command",
    "Connect",
    "CursorImport",
    "DigestAdd",
    "DigestList",
    "DigestPreview",
    "DigestRemove",
    "DigestSend",
    "Disconnect",
    "Help",
    "Invalid",
    "LimitHistory",
    "LimitList",
    "LimitSet",
    "LinkPerson",
    "PersonalLine",
    "PersonalLineOff",
    "SeatsQuery",
    "SecretRefused",
    "SetSeatPrice",
    "SetTimezone",
    "SetVisibility",
    "ShowSettings",
    "SpendQuery",
    "Status",
    "SyncNow",
    "parse",
]
