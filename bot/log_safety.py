"""Log safety: no log line carries a request body, a modal value or a provider key.

Slack's libraries log what they receive and send: Bolt logs the whole body of a request
whose signature fails (at INFO, so a connect-modal submission puts the Cursor key in the
log); slack_sdk logs raw Socket Mode envelopes, Web API request bodies and response_url
payloads at DEBUG. The policy, for every level the process is configured at:

1. Third-party loggers (``THIRD_PARTY_FLOORS``) are held at INFO or above (httpx at WARNING),
   so their DEBUG lines are never even built, and a filter drops any DEBUG record from them
   that gets through anyway (a logger Bolt creates later copies the root level).
2. A third-party line at INFO or above keeps its text up to the first field that carries
   content (``body:``, ``payload:``, ``message:``, ...); the rest is withheld.
3. Every line, ours included, has key-shaped strings (Cursor ``crsr_``/``key_`` keys, Slack
   ``xox?-``/``xapp-`` tokens) redacted and is cut to ``MAX_MESSAGE_CHARS``.

:func:`protect_logging` applies it; ``configure_logging`` (CLI) and ``create_app`` call it.
"""

from __future__ import annotations

import logging
import re
from typing import Final

#: Loggers of libraries that log bodies or envelopes, and the lowest level each may log at.
THIRD_PARTY_FLOORS: Final[dict[str, int]] = {
    "slack_bolt": logging.INFO,
    "slack_sdk": logging.INFO,
    "waitress": logging.INFO,
    "websocket": logging.INFO,
    "urllib3": logging.INFO,
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
}
MAX_MESSAGE_CHARS: Final = 2000
WITHHELD: Final = "[withheld]"

# A field that carries content in a third-party line: everything from it on is withheld.
# (``code`` and ``state``: Bolt's OAuth flow logs the one-time code and state it failed on.)
_CONTENT_FIELD = re.compile(
    r"\b(body|payload|message|data|response|text|value|values|submission|params|json_body|"
    r"body_params|headers|req|code|state)\b['\"]?\s*[:=]\s*",
    re.IGNORECASE,
)
_SECRET = re.compile(
    r"(?:crsr_|key_)[A-Za-z0-9_-]{16,}|xox[a-z]-[A-Za-z0-9-]{8,}|xapp-[A-Za-z0-9-]{8,}",
    re.IGNORECASE,
)


def _family(name: str) -> str | None:
    for root in THIRD_PARTY_FLOORS:
        if name == root or name.startswith(root + "."):
            return root
    return None


def redact_secrets(text: str) -> str:
    return _SECRET.sub("[redacted]", text)


def safe_message(message: str, *, third_party: bool) -> str:
    """``message`` as it may be logged."""
    if third_party:
        found = _CONTENT_FIELD.search(message)
        if found is not None:
            message = message[: found.end()] + WITHHELD
    message = redact_secrets(message)
    if len(message) > MAX_MESSAGE_CHARS:
        cut = len(message) - MAX_MESSAGE_CHARS
        message = f"{message[:MAX_MESSAGE_CHARS]}… [{cut} more characters withheld]"
    return message


class LogSafetyFilter(logging.Filter):
    """Drops third-party DEBUG records; rewrites the rest as :func:`safe_message` says."""

    def filter(self, record: logging.LogRecord) -> bool:
        third_party = _family(record.name) is not None
        if third_party and record.levelno < logging.INFO:
            return False
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the handler's to report, untouched
            return True
        safe = safe_message(message, third_party=third_party)
        if safe != message:
            record.msg, record.args = safe, ()
        if record.exc_info and not record.exc_text:  # formatted here, once, then redacted
            record.exc_text = safe_traceback(_FORMATTER.formatException(record.exc_info))
        return True


_FORMATTER: Final = logging.Formatter()
#: PostgreSQL's DETAIL names the values of the row that failed (a duplicate key's email).
_DETAIL: Final = re.compile(r"^(\s*DETAIL:).*$", re.MULTILINE)


def safe_traceback(text: str) -> str:
    """A traceback as it may be logged: secrets redacted, database row details withheld."""
    return redact_secrets(_DETAIL.sub(r"\1 " + WITHHELD, text))


_FILTER: Final = LogSafetyFilter()


def _guard(logger: logging.Logger, floor: int) -> None:
    if logger.getEffectiveLevel() < floor:
        logger.setLevel(floor)
    if not any(isinstance(f, LogSafetyFilter) for f in logger.filters):
        logger.addFilter(_FILTER)


def protect_logging(*, root_handlers: bool = False) -> None:
    """Apply the policy to every third-party logger that exists now (idempotent).

    A logger filter sees only records made on that very logger, so each existing one gets
    the filter; with ``root_handlers`` the root logger's handlers get it too, which covers
    every record the process writes (the CLI's ``configure_logging`` passes it).
    """
    for family, floor in THIRD_PARTY_FLOORS.items():
        _guard(logging.getLogger(family), floor)
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        known = _family(name)
        if known is not None and isinstance(logger, logging.Logger):
            _guard(logger, THIRD_PARTY_FLOORS[known])
    if root_handlers:
        for handler in logging.getLogger().handlers:
            if not any(isinstance(f, LogSafetyFilter) for f in handler.filters):
                handler.addFilter(_FILTER)
