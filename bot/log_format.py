"""How log lines are written: text (the default) or JSON (``STACKSPEND_LOG_FORMAT=json``).

A JSON line has ``time``, ``level``, ``logger``, ``message``, the ids of
``bot.log_context`` that are set, and ``exc_info`` for an exception, and nothing else:
fields a library attaches to its records (``extra=``) are dropped, so a payload cannot ride
along, and tracebacks go through ``log_safety.safe_traceback`` like in text lines.
"""

from __future__ import annotations

import logging
from typing import Any, Final

from pythonjsonlogger.json import JsonFormatter

from bot.log_context import FIELDS
from bot.log_safety import safe_traceback

LOG_FORMATS: Final = ("text", "json")
TEXT_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_JSON_RENAMES: Final = {"asctime": "time", "levelname": "level", "name": "logger"}
#: The only fields a JSON line may have.
JSON_FIELDS: Final = frozenset(
    {*_JSON_RENAMES.values(), "message", "exc_info", "stack_info", *FIELDS}
)


class SafeJsonFormatter(JsonFormatter):
    """python-json-logger's formatter, kept to :data:`JSON_FIELDS` and safe tracebacks."""

    def formatException(self, ei: Any) -> str:
        text = super().formatException(ei)
        return safe_traceback(text if isinstance(text, str) else "\n".join(text))

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        super().add_fields(log_data, record, message_dict)
        for name in [name for name in log_data if name not in JSON_FIELDS]:
            del log_data[name]
        if not log_data.get("message") and message_dict:
            log_data["message"] = record.getMessage()


def formatter(log_format: str) -> logging.Formatter:
    """The formatter for ``text`` or ``json``."""
    if log_format == "json":
        return SafeJsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields=_JSON_RENAMES,
            json_ensure_ascii=False,
        )
    return logging.Formatter(TEXT_FORMAT)
