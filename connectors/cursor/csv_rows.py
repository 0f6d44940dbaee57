"""Rows of Cursor's usage CSV export to neutral :class:`UsageEvent`s, one at a time.

The hot path of an import: common forms are read inline (no regex, ``Decimal`` from the
text, ``datetime.fromisoformat``, cached kinds); rarer ones (``$1,234.50``, ``yes``,
``1,024``, an offset date) go to :mod:`csv_fields`, and a bad value raises
:class:`BadField` naming the column. Tried and dropped: converting a whole batch column by
column with ``map`` over C functions measured 15% slower than this per-row closure.

Keys: ``{epoch_ms:013d}-{hash}``, the hash (blake2b, 10 bytes) over ``csv|`` + identity (ms,
user, model, cloud agent id, automation id), ``|n`` added for the n-th identical identity in
file order (n >= 1), like the API path's ``EventKeyer``. Only the most recent
:data:`_REMEMBERED_KEYS` identities are remembered: exports are sorted by time (either way),
so identical rows are adjacent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from operator import itemgetter

from connectors.cursor import csv_fields as fields
from connectors.cursor.csv_fields import (
    AUTOMATION,
    CACHE_READ,
    CLOUD_AGENT,
    COST,
    DATE,
    INPUT_WITH_CW,
    INPUT_WITHOUT_CW,
    KIND,
    MAX_COST_DOLLARS,
    MAX_MODE,
    MAX_TOKENS,
    MODEL,
    OUTPUT,
    USER,
    BadField,
    KindCache,
)
from connectors.records import UNKNOWN_USER, UsageEvent

#: The fields a row is read from, in the order the converters unpack them.
FIELDS = (
    DATE, USER, CLOUD_AGENT, AUTOMATION, KIND, MODEL, MAX_MODE, INPUT_WITH_CW,
    INPUT_WITHOUT_CW, CACHE_READ, OUTPUT, COST,
)  # fmt: skip
#: Cost texts seen most, read without raising (an exception costs more than a whole row).
_WORD_COSTS = {"-": Decimal(0), "Included": Decimal(0), "Free": Decimal(0), "": Decimal(0)}
_MAX_MODE = {"Yes": True, "No": False, "": False}
_REMEMBERED_KEYS = 1 << 16
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)
_ZERO = Decimal(0)
_HUNDRED = Decimal(100)
#: From 2001-09-09 on, epoch ms have 13 digits: the key's zero padding is then a no-op.
_THIRTEEN_DIGITS = 10**12


#: How far past this machine's clock a row's date may be (clocks differ a little).
FUTURE_TOLERANCE = timedelta(days=1)
UNREADABLE = (
    "User, Model, Kind or Cloud Agent ID holds a line break, a control character or text"
    " that is not UTF-8 (save the export as UTF-8 CSV)"
)
TOO_LONG = "User, Model, Kind or Cloud Agent ID is longer than the ledger keeps"


class RowConverter:
    """Converts rows of one export (its header given) with the state keys need across rows."""

    def __init__(self, columns: tuple[str, ...], *, team: bool, user_email: str | None) -> None:
        where: dict[str, int] = {}
        for position, name in enumerate(columns):
            where.setdefault(name.lower(), position)
        width = len(columns)
        positions = [where.get(name.lower()) for name in FIELDS]
        # An absent optional column reads as the "" that ``one`` appends at index ``width``.
        self._absent = None in positions
        self._pick = itemgetter(*(width if p is None else p for p in positions))
        self._has_user = USER.lower() in where
        self._fixed_user = user_email.strip().lower() if user_email else ""
        self._kinds = KindCache(team)
        self._counts: dict[str, int] = {}
        #: Rows dated after this are refused: an export holds what already happened.
        self._latest = datetime.now(UTC) + FUTURE_TOLERANCE
        self.one = self._make_one()

    def _forget_old_keys(self) -> None:
        counts = self._counts
        if len(counts) > _REMEMBERED_KEYS:
            for stale in list(counts)[: _REMEMBERED_KEYS // 2]:
                del counts[stale]

    def _make_one(self) -> Callable[[list[str]], UsageEvent]:
        """One row -> one event, every tolerated form read; a closure for speed."""
        absent, pick, has_user = self._absent, self._pick, self._has_user
        fixed_user, kinds, counts = self._fixed_user, self._kinds, self._counts
        known_kinds, forget = kinds.known, self._forget_old_keys
        fromisoformat, blake2b, new = datetime.fromisoformat, hashlib.blake2b, tuple.__new__
        latest = self._latest

        def one(row: list[str]) -> UsageEvent:
            if absent:
                row.append("")
            (date_text, email, cloud, automation, kind, model, max_text, with_text,
             without_text, read_text, out_text, cost_text) = pick(row)  # fmt: skip
            try:
                moment = fromisoformat(date_text)
            except ValueError:
                moment = fields.parse_date(date_text)
            if moment.tzinfo is not UTC:
                try:
                    moment = fields.to_utc(moment)
                except OverflowError:
                    raise BadField("Date is out of range") from None
            ms = (moment - _EPOCH) // _ONE_MS
            if ms < 0:
                raise BadField("Date is before 1970")
            if moment > latest:
                raise BadField("Date is in the future")
            if moment.microsecond % 1000:
                moment = _EPOCH + ms * _ONE_MS
            email = email.strip().lower() if has_user else fixed_user
            names = email + model + cloud + kind
            if not names.isprintable() or "\ufffd" in names:
                raise BadField(UNREADABLE)
            if len(email) > 320 or len(model) > 128 or len(cloud) > 128 or len(kind) > 64:
                raise BadField(TOO_LONG)
            found = known_kinds.get(kind)
            label, klass = found if found is not None else kinds.get(kind)
            charged = _WORD_COSTS.get(cost_text)
            if charged is None:
                try:
                    charged = Decimal(cost_text[1:] if cost_text[:1] == "$" else cost_text)
                    if not _ZERO <= charged <= MAX_COST_DOLLARS:  # NaN raises here too
                        raise InvalidOperation
                    charged = charged * _HUNDRED if charged else _ZERO
                except ArithmeticError:  # rare: raising costs more than the whole row
                    charged = fields.cost(cost_text)
            max_mode = _MAX_MODE.get(max_text)
            if max_mode is None:
                max_mode = fields.yes_no(max_text)
            try:
                without, output = int(without_text), int(out_text)
                cache_write, cache_read = int(with_text) - without, int(read_text)
            except ValueError:
                without = fields.count(without_text, INPUT_WITHOUT_CW)
                output = fields.count(out_text, OUTPUT)
                cache_read = fields.count(read_text, CACHE_READ)
                cache_write = fields.count(with_text, INPUT_WITH_CW) - without if with_text else 0
            tokens = without + cache_write + cache_read + output
            if without < 0 or output < 0 or cache_read < 0 or cache_write < 0:
                raise BadField(fields.negative(without, output, cache_read))
            if tokens > MAX_TOKENS:
                raise BadField(f"more than {MAX_TOKENS} tokens")
            # Identity only, and only what every format has: older exports lack the cloud
            # agent and automation columns, and the same row must keep its key across them.
            base = f"csv|{ms}|{email}|{model}"
            ordinal = counts.get(base, 0)
            counts[base] = ordinal + 1
            if ordinal:
                base = f"{base}|{ordinal}"
            elif len(counts) > _REMEMBERED_KEYS:
                forget()
            digest = blake2b(base.encode(), digest_size=10).hexdigest()
            key = f"{ms}-{digest}" if ms >= _THIRTEEN_DIGITS else f"{ms:013d}-{digest}"
            return new(
                UsageEvent,
                (
                    key, moment, email or UNKNOWN_USER, not email, model or "unknown", label,
                    klass, max_mode, charged > 0, bool(cloud or automation),
                    tokens > 0, _ZERO, without, output,
                    cache_read, cache_write, charged, _ZERO, charged, None, None, cloud or None,
                ),
            )  # fmt: skip

        return one
