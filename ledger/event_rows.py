"""The ``usage_event`` row of a usage event, in the backend's stored form.

Rows go to the driver as tuples of ``EVENT_COLUMNS`` in the backend's stored form
(``ledger.types.StoredForm``): values are converted once and compared with stored rows
as they are.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Table

from connectors.records import UsageEvent
from ledger.models import UsageEventRow
from ledger.statements import StoredRow
from ledger.types import StoredForm

EVENTS: Table = UsageEventRow.__table__  # type: ignore[attr-defined]

#: Event columns whose change makes an event "revised", in the order of a stored row.
VALUE_COLUMNS = (
    "occurred_at",
    "user_email",
    "model",
    "kind",
    "kind_class",
    "max_mode",
    "is_chargeable",
    "is_headless",
    "is_token_based",
    "request_units",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "model_cost_cents",
    "token_fee_cents",
    "charged_cents",
    "conversation_id",
    "service_account_id",
    "cloud_agent_id",
    "source",
)
#: Where a row came from: a sync of the provider's API, or an imported usage export.
SOURCES = ("api", "csv")
#: A stored row: the event's columns as its ``usage_event`` row holds them, in this order.
EVENT_COLUMNS = ("connection_id", "natural_key", *VALUE_COLUMNS)


def stored_rows(
    form: StoredForm, connection_id: int, events: Iterable[UsageEvent], source: str = "api"
) -> list[StoredRow]:
    """Each event's ``EVENT_COLUMNS`` in ``form``: what its row holds once written.

    ``source`` is where the events came from (``SOURCES``), stored in every row. Every
    value is a plain ``str``, number, bool or None (the kind class too, not its enum), so
    the garbage collector stops tracking the row at its first pass instead of scanning it
    until the page is done.
    """
    money, instant = form.money, form.instant
    return [
        (
            connection_id,
            e.natural_key,
            instant(e.occurred_at),
            e.user_email,
            e.model,
            e.kind,
            str(e.kind_class),
            e.max_mode,
            e.is_chargeable,
            e.is_headless,
            e.is_token_based,
            money(e.request_units),
            e.input_tokens,
            e.output_tokens,
            e.cache_read_tokens,
            e.cache_write_tokens,
            money(e.model_cost_cents),
            money(e.token_fee_cents),
            money(e.charged_cents),
            e.conversation_id,
            e.service_account_id,
            e.cloud_agent_id,
            source,
        )
        for e in events
    ]
