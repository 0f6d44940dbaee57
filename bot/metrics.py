"""Prometheus metrics of the bot's surfaces: `/spend` latency, digest and alert deliveries.

Labels are bounded: ``command`` is the parsed command's kind (``spend_query``, ``status``,
``invalid``…, from the grammar's types), outcomes are enum values. Never a team, user or
channel id.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from prometheus_client import Counter, Histogram

#: Seconds: Slack gives an acknowledgement 3 s; a full reply may wait on a report or a sync.
ACK_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5)
REPLY_BUCKETS: Final = (0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60, 120, 300)

COMMAND_ACK: Final = Histogram(
    "stackspend_command_ack_seconds",
    "From the /spend listener's start to Slack's acknowledgement, by command kind.",
    ["command"],
    buckets=ACK_BUCKETS,
)
COMMAND_REPLY: Final = Histogram(
    "stackspend_command_reply_seconds",
    "From the /spend listener's start to its full reply (or apology), by command kind.",
    ["command"],
    buckets=REPLY_BUCKETS,
)
DIGEST_DELIVERIES: Final = Counter(
    "stackspend_digest_deliveries",
    "Digests that were due or asked for, by outcome (sent, recovered, done, busy, failed, "
    "skipped).",
    ["outcome"],
)
PERSONAL_LINES: Final = Counter(
    "stackspend_personal_lines",
    "Personal lines that were due, by outcome (sent, recovered, busy, failed, late, left).",
    ["outcome"],
)
ALERT_MESSAGES: Final = Counter(
    "stackspend_alert_messages",
    "Alert messages to one recipient, by outcome (sent, failed, done: already sent).",
    ["outcome"],
)

_CAMEL: Final = re.compile(r"(?<!^)(?=[A-Z])")


def command_kind(command: object) -> str:
    """``SpendQuery()`` -> ``spend_query``: a label from the command's type, never its text."""
    return _CAMEL.sub("_", type(command).__name__).lower()


@dataclass
class CommandTiming:
    """One `/spend` command's clock: started when made, observed at ack and at reply."""

    command: str
    clock: Callable[[], float] = time.perf_counter
    started: float = field(init=False)
    _replied: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self.started = self.clock()

    def acked(self) -> None:
        COMMAND_ACK.labels(command=self.command).observe(self.clock() - self.started)

    def replied(self) -> None:
        """The full reply is out; only the first call counts."""
        if not self._replied:
            self._replied = True
            COMMAND_REPLY.labels(command=self.command).observe(self.clock() - self.started)


def record_digest_delivery(outcome: str) -> None:
    DIGEST_DELIVERIES.labels(outcome=outcome).inc()


def record_personal_lines(outcome: str, count: int) -> None:
    PERSONAL_LINES.labels(outcome=outcome).inc(count)


def record_alert_message(outcome: str) -> None:
    ALERT_MESSAGES.labels(outcome=outcome).inc()
