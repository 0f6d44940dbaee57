"""Cursor's usage CSV export reads, in every known variant, to the events and money it holds."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from connectors.cursor import csv_rows
from connectors.cursor.csv_export import (
    MAX_FIELD_CHARS,
    MAX_LINE_CHARS,
    NEWEST_COLUMNS,
    BadRow,
    ExportFormatError,
    ExportReader,
)
from connectors.records import UNKNOWN_USER, KindClass, UsageEvent

NEWEST = ",".join(NEWEST_COLUMNS)
OLDER = (
    "Date,User,Kind,Model,Max Mode,Input (w/ Cache Write),Input (w/o Cache Write),"
    "Cache Read,Output Tokens,Total Tokens,Cost"
)
PERSONAL = (
    "Date,Kind,Model,Max Mode,Input (w/ Cache Write),Input (w/o Cache Write),"
    "Cache Read,Output Tokens,Total Tokens,Cost"
)
ROW = (
    '"2026-10-01T10:00:00.000Z","Ann@Acme.test","","","Usage-based","gpt-5","No",'
    "1500,1000,200,50,1750,0.12"
)


def export(*rows: str, header: str = NEWEST, end: str = "\n") -> bytes:
    return (end.join((header, *rows)) + end).encode()


def read(data: bytes, **options: object) -> tuple[list[UsageEvent], ExportReader]:
    reader = ExportReader(io.BytesIO(data), **options)  # type: ignore[arg-type]
    events = [event for batch in reader.batches() for event in batch]
    return events, reader


def only(data: bytes, **options: object) -> UsageEvent:
    events, reader = read(data, **options)
    assert reader.bad_rows == [] and len(events) == 1
    return events[0]


def test_a_newest_row_becomes_the_neutral_event_it_describes() -> None:
    event = only(export(ROW))

    assert event.occurred_at == datetime(2026, 10, 1, 10, tzinfo=UTC)
    assert event.user_email == "ann@acme.test" and not event.email_missing
    assert (event.model, event.kind, event.kind_class) == (
        "gpt-5",
        "Usage-based",
        KindClass.ON_DEMAND,
    )
    assert event.charged_cents == Decimal("12") and event.is_chargeable
    assert (event.input_tokens, event.cache_write_tokens) == (1000, 500)
    assert (event.cache_read_tokens, event.output_tokens) == (200, 50)
    assert event.max_mode is False and event.cloud_agent_id is None
    assert event.natural_key.startswith("1790848800000-") and len(event.natural_key) <= 64


@pytest.mark.parametrize(
    ("header", "row"),
    [
        (NEWEST, ROW),
        (
            OLDER,
            '"2026-10-01T10:00:00.000Z","ann@acme.test","Usage-based","gpt-5","No",1500,1000,200,50,1750,0.12',
        ),
        (  # the same columns in another order, plus columns this reader does not know
            "Cost,Model,Favourite Colour,Kind,User,Date,Output Tokens,Cache Read,"
            "Input (w/o Cache Write),Input (w/ Cache Write),Max Mode,Total Tokens",
            '0.12,gpt-5,"teal, mostly",Usage-based,ann@acme.test,2026-10-01T10:00:00.000Z,'
            "50,200,1000,1500,No,1750",
        ),
    ],
    ids=["newest", "older", "reordered-with-unknown-columns"],
)
def test_columns_are_found_by_name_whatever_the_variant(header: str, row: str) -> None:
    event = only(export(row, header=header))

    assert (event.user_email, event.model, event.charged_cents) == (
        "ann@acme.test",
        "gpt-5",
        Decimal(12),
    )
    assert (event.input_tokens, event.cache_write_tokens, event.cache_read_tokens) == (
        1000,
        500,
        200,
    )
    assert event.natural_key == only(export(ROW)).natural_key


def test_a_personal_export_is_refused_for_a_team_naming_the_user_column() -> None:
    data = export(
        "2026-10-01T10:00:00.000Z,Usage-based,gpt-5,No,1500,1000,200,50,1750,0.12", header=PERSONAL
    )

    with pytest.raises(ExportFormatError) as caught:
        ExportReader(io.BytesIO(data))

    assert caught.value.missing == ("User",)
    assert "User" in str(caught.value) and "Export CSV" in str(caught.value)


@pytest.mark.parametrize(
    ("given", "email", "missing"),
    [(None, UNKNOWN_USER, True), ("Me@Acme.test", "me@acme.test", False)],
)
def test_a_personal_export_is_read_when_not_a_team_import(
    given: str | None, email: str, missing: bool
) -> None:
    data = export(
        "2026-10-01T10:00:00.000Z,Included,gpt-5,No,1500,1000,200,50,1750,$0.12", header=PERSONAL
    )

    event = only(data, team=False, user_email=given)

    assert (event.user_email, event.email_missing) == (email, missing)
    assert (event.kind, event.kind_class, event.charged_cents) == (
        "Included",
        KindClass.INCLUDED,
        Decimal(12),
    )


@pytest.mark.parametrize(
    ("encode", "end"),
    [
        (lambda text: text.encode(), "\n"),
        (lambda text: text.encode(), "\r\n"),
        (lambda text: b"\xef\xbb\xbf" + text.encode(), "\r\n"),
        (lambda text: text.encode().rstrip(b"\n"), "\n"),
    ],
    ids=["lf", "crlf", "bom-crlf", "no-trailing-newline"],
)
def test_line_ends_a_bom_and_the_trailing_newline_change_nothing(encode: object, end: str) -> None:
    text = end.join((NEWEST, ROW, ROW.replace("10:00:00", "11:00:00"))) + end
    events, reader = read(encode(text))  # type: ignore[operator]

    assert reader.columns == NEWEST_COLUMNS
    assert [e.occurred_at.hour for e in events] == [10, 11] and reader.bad_count == 0
    assert reader.bytes_read == len(encode(text))  # type: ignore[operator]


def test_quoted_commas_and_doubled_quotes_inside_fields_survive() -> None:
    row = ROW.replace('"gpt-5"', '"model ""x"", v2, (beta)"')

    event = only(export(row))

    assert event.model == 'model "x", v2, (beta)'


def test_a_name_holding_line_breaks_is_a_bad_row_counted_over_its_lines() -> None:
    """A quote closed lines later swallows those lines into one field: never a person's
    or a model's name, and every line it took is counted as bad."""
    swallowing = ROW.replace('"gpt-5"', '"gpt-5\n' + "\n".join(["2026,x,y"] * 3) + '"')
    events, reader = read(export(swallowing, ROW))

    assert len(events) == 1
    assert reader.bad_count == 4
    assert reader.bad_rows[0].line == 2 and "line break" in reader.bad_rows[0].reason


@pytest.mark.parametrize(
    ("cost", "cents"),
    [
        ("0.12", Decimal("12")),
        ("$0.01", Decimal("1")),
        ('"$1,234.50"', Decimal("123450")),
        ("0.0012345678901234567", Decimal("0.12345678901234567")),
        ("Included", Decimal(0)),
        ("Free", Decimal(0)),
        ("-", Decimal(0)),
        ("", Decimal(0)),
        ("0", Decimal(0)),
    ],
)
def test_costs_in_dollars_or_words_become_exact_cents(cost: str, cents: Decimal) -> None:
    event = only(export(ROW.removesuffix("0.12") + cost))

    assert event.charged_cents == cents and event.model_cost_cents == cents
    assert event.is_chargeable is (cents > 0)


@pytest.mark.parametrize(
    ("kind", "team", "label", "klass"),
    [
        ("Included", True, "Included in Business", KindClass.INCLUDED),
        ("Included", False, "Included", KindClass.INCLUDED),
        ("Usage-based", True, "Usage-based", KindClass.ON_DEMAND),
        ('"Errored, No Charge"', True, "Errored, Not Charged", KindClass.OTHER),
        ("Free", True, "Free", KindClass.OTHER),
        ("User API Key", True, "User API Key", KindClass.OTHER),
        ("Included in Pro", True, "Included in Pro", KindClass.INCLUDED),
        ("Brand New Kind", True, "Brand New Kind", KindClass.OTHER),
    ],
)
def test_kinds_take_the_labels_and_classes_the_api_path_stores(
    kind: str, team: bool, label: str, klass: KindClass
) -> None:
    event = only(export(ROW.replace('"Usage-based"', kind)), team=team)

    assert (event.kind, event.kind_class) == (label, klass)


@pytest.mark.parametrize(
    ("text", "flag"), [("Yes", True), ("No", False), ("yes", True), ("", False)]
)
def test_max_mode_reads_yes_and_no(text: str, flag: bool) -> None:
    assert only(export(ROW.replace('"No"', text))).max_mode is flag


def test_cloud_agent_rows_keep_their_id_and_count_as_headless() -> None:
    event = only(export(ROW.replace('"",""', '"bc_abc123","auto_9"')))

    assert event.cloud_agent_id == "bc_abc123" and event.is_headless


def test_a_row_keeps_its_key_in_an_older_export_without_the_agent_columns() -> None:
    """The same request exported in the newest format and in the older one (no Cloud Agent
    ID, no Automation ID) has one key: importing both counts it once."""
    newest = export(ROW.replace('"",""', '"bc_abc123","auto_9"'), ROW)
    older_row = ROW.replace('"","",', "", 1)
    older = export(older_row, older_row, header=NEWEST.replace("Cloud Agent ID,Automation ID,", ""))

    assert [e.natural_key for e in read(newest)[0]] == [e.natural_key for e in read(older)[0]]


def test_identical_rows_in_one_millisecond_stay_distinct_and_keep_their_keys_on_a_reread() -> None:
    data = export(ROW, ROW, ROW, ROW.replace("0.12", "0.50"))

    first, _ = read(data)
    second, _ = read(data)

    assert len({e.natural_key for e in first}) == 4
    assert [e.natural_key for e in first] == [e.natural_key for e in second]
    assert len({e.natural_key[:13] for e in first}) == 1


def test_keys_ignore_costs_and_tokens_so_a_revised_export_replaces_rows() -> None:
    revised = ROW.replace("1500,1000,200,50,1750,0.12", "1600,1100,300,60,2060,0.15")

    assert only(export(revised)).natural_key == only(export(ROW)).natural_key


BAD = [
    ('"yesterday","a@acme.test","","","Included","m","No",1,1,0,0,1,0.1', "Date"),
    ('"2026-10-01T10:00:00Z","a@acme.test","","","Included","m","No",1,-1,0,0,1,0.1', "negative"),
    ('"2026-10-01T10:00:00Z","a@acme.test","","","Included","m","No",1,1,0,1.5,1,0.1', "Output"),
    ('"2026-10-01T10:00:00Z","a@acme.test","","","Included","m","No",1,5,0,0,1,0.1', "less than"),
    ('"2026-10-01T10:00:00Z","a@acme.test","","","Included","m","No",1,1,0,0,1,lots', "Cost"),
    ('"2026-10-01T10:00:00Z","a@acme.test","","","Included","m","No",1,1,0,0,1,-0.5', "Cost"),
    ('"2026-10-01T10:00:00Z","a@acme.test","","","Included","m","No",1,1,0,0,1,NaN', "Cost"),
    ('"2026-10-01T10:00:00Z","a@acme.test","","","Included","m","Maybe",1,1,0,0,1,0.1', "Max Mode"),
    ('"2026-10-01T10:00:00Z","a@acme.test","Included","m"', "fields"),
    ('"2999-01-01T00:00:00Z","a@acme.test","","","Included","m","No",1,1,0,0,1,0.1', "future"),
    ('"0001-01-01T00:00:00+01:00","a@x","","","Included","m","No",1,1,0,0,1,0.1', "range"),
    ('"2026-10-01T10:00:00Z","a\x00b@x","","","Included","m","No",1,1,0,0,1,0.1', "control"),
    (f'"2026-10-01T10:00:00Z","{"a" * 321}@x","","","Included","m","No",1,1,0,0,1,0', "longer"),
    (f'"2026-10-01T10:00:00Z","a@x","","","Included","{"m" * 129}","No",1,1,0,0,1,0', "longer"),
]


@pytest.mark.parametrize(("row", "reason"), BAD)
def test_a_bad_row_is_skipped_with_its_line_and_reason(row: str, reason: str) -> None:
    # A quoted field spanning two lines before the bad row: line numbers are physical.
    good = ROW.replace('"",""', '"","two\nlines"')  # in the Automation ID

    events, reader = read(export(good, row, ROW))

    assert len(events) == 2 and reader.rows == 3 and reader.bad_count == 1
    assert reader.bad_rows[0].line == 4 and reason in reader.bad_rows[0].reason


def test_only_the_first_ten_bad_rows_are_kept_but_all_are_counted() -> None:
    rows = [ROW] + [BAD[0][0]] * 12 + [ROW.replace("10:00", "12:00")]

    events, reader = read(export(*rows, end="\r\n"))

    assert len(events) == 2 and reader.bad_count == 12
    assert [row.line for row in reader.bad_rows] == list(range(3, 13))
    assert all(isinstance(r, BadRow) and "Date" in r.reason for r in reader.bad_rows)


def test_a_field_over_the_size_cap_is_a_bad_row_and_the_rest_is_read() -> None:
    huge = ROW.replace('"gpt-5"', '"' + "x" * 200_000 + '"')

    events, reader = read(export(ROW, huge, ROW.replace("10:00", "12:00")))

    assert len(events) == 2 and reader.bad_count == 1 and reader.bad_rows[0].line == 3
    assert "field larger than field limit" in reader.bad_rows[0].reason


def test_a_line_longer_than_the_cap_stops_the_read_with_a_clear_error() -> None:
    data = export(ROW, "," * (MAX_LINE_CHARS + 10))
    reader = ExportReader(io.BytesIO(data))

    with pytest.raises(ExportFormatError, match="longer than"):
        list(reader.batches())


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"<!DOCTYPE html><html><body>Sign in</body></html>\n",
        bytes(range(256)) * 4,
        b'{"usageEvents": []}',
        b"\xff\xfeD\x00a\x00t\x00e\x00",
    ],
    ids=["empty", "html", "binary", "json", "utf16"],
)
def test_a_file_that_is_not_an_export_is_refused_naming_the_missing_columns(data: bytes) -> None:
    with pytest.raises(ExportFormatError) as caught:
        ExportReader(io.BytesIO(data))

    assert caught.value.missing == ("Date", "User", "Kind", "Model", "Cost")
    assert "Export CSV" in str(caught.value)


def test_a_header_missing_some_columns_names_just_those() -> None:
    with pytest.raises(ExportFormatError) as caught:
        ExportReader(io.BytesIO(b"Date,User,Model\n"))

    assert caught.value.missing == ("Kind", "Cost")
    assert "Kind, Cost" in str(caught.value)


def test_batches_stream_without_reading_the_whole_file() -> None:
    rows = [ROW.replace("10:00:00.000", f"10:{i // 60:02d}:{i % 60:02d}.000") for i in range(3000)]
    data = export(*rows)
    reader = ExportReader(io.BytesIO(data))
    batches = reader.batches(size=100)

    first = next(batches)

    assert len(first) == 100 and reader.bytes_read < len(data) // 2
    assert sum(len(b) for b in batches) == 2900 and reader.bytes_read == len(data)


@pytest.mark.parametrize(
    ("text", "instant"),
    [
        ("2026-10-01T10:00:00.000Z", datetime(2026, 10, 1, 10, tzinfo=UTC)),
        ("2026-10-01T12:00:00.000+02:00", datetime(2026, 10, 1, 10, tzinfo=UTC)),
        ("2026-10-01 10:00:00", datetime(2026, 10, 1, 10, tzinfo=UTC)),
        (" 2026-10-01T10:00:00Z ", datetime(2026, 10, 1, 10, tzinfo=UTC)),
        ("2026-10-01T10:00:00.123987Z", datetime(2026, 10, 1, 10, 0, 0, 123000, tzinfo=UTC)),
    ],
    ids=["z", "offset", "naive-is-utc", "padded", "microseconds-truncated"],
)
def test_dates_are_read_as_utc_instants_to_the_millisecond(text: str, instant: datetime) -> None:
    event = only(export(ROW.replace("2026-10-01T10:00:00.000Z", text)))

    assert event.occurred_at == instant
    assert event.natural_key.startswith(f"{int(instant.timestamp() * 1000):013d}-")


def test_counts_with_thousands_separators_or_left_empty_are_read() -> None:
    row = ROW.replace("1500,1000,200,50", '"1,500",1000,,50')

    event = only(export(row))

    assert (event.input_tokens, event.cache_write_tokens, event.cache_read_tokens) == (1000, 500, 0)


def test_a_date_before_1970_is_a_bad_row() -> None:
    events, reader = read(export(ROW.replace("2026-10-01", "1969-12-31")))

    assert events == [] and reader.bad_rows[0].line == 2 and "1970" in reader.bad_rows[0].reason


def test_a_header_alone_is_an_empty_export_and_the_callers_stream_stays_open() -> None:
    stream = io.BytesIO(export())
    reader = ExportReader(stream)

    assert list(reader.batches()) == [] and reader.rows == 0
    del reader
    assert not stream.closed


def test_a_blank_line_is_skipped_and_words_are_read_whatever_their_case() -> None:
    rows = (ROW, "", ROW.replace("10:00", "11:00").removesuffix("0.12") + " included ")

    events, reader = read(export(*rows))

    assert [e.charged_cents for e in events] == [Decimal(12), Decimal(0)]
    assert reader.rows == 2 and reader.bad_count == 0


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ("200,50,1750", "200,9999999999999,1750", "more than"),
        ('"No"', '"perhaps"', "Max Mode"),
        ('"No"', '" no "', None),
    ],
)
def test_rare_field_forms_are_read_or_refused_by_name(old: str, new: str, reason: str) -> None:
    events, reader = read(export(ROW.replace(old, new)))

    if reason is None:
        assert len(events) == 1 and events[0].max_mode is False
    else:
        assert events == [] and reason in reader.bad_rows[0].reason


def test_a_row_that_is_not_utf8_midway_is_a_bad_row_at_its_own_line() -> None:
    """Past the first decoded chunk, as when one name was re-saved in another encoding: that
    row is bad (its true line named) and the rows after it are read."""
    broken = ROW.replace("Ann@Acme.test", "caf\xe9@acme.test")
    data = export(*[ROW] * 3000) + broken.encode("latin-1") + b"\n" + ROW.encode() + b"\n"

    events, reader = read(data)

    assert len(events) == 3001 and reader.bad_count == 1
    assert reader.bad_rows[0].line == 3002 and "UTF-8" in reader.bad_rows[0].reason


def test_a_header_that_is_not_csv_is_refused() -> None:
    with pytest.raises(ExportFormatError, match="not a CSV header"):
        ExportReader(io.BytesIO(b'"' + b"x" * 200_000 + b'"\n'))


def test_a_batch_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        next(ExportReader(io.BytesIO(export(ROW))).batches(size=0))


def test_ordinals_hold_while_old_identities_are_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_rows, "_REMEMBERED_KEYS", 4)
    rows = [ROW.replace("10:00:00.000", f"10:00:{i:02d}.000") for i in range(12) for _ in (0, 1)]

    first, _ = read(export(*rows))
    second, _ = read(export(*rows))

    assert len({e.natural_key for e in first}) == 24
    assert [e.natural_key for e in first] == [e.natural_key for e in second]


def test_a_quoted_field_spanning_many_lines_is_capped_even_if_the_limit_was_raised() -> None:
    csv.field_size_limit(10**9)  # as another component might; the reader sets it back
    try:
        tall = ROW.replace('"gpt-5"', '"' + ("y" * 1000 + "\n") * 200 + '"')

        events, reader = read(export(ROW, tall, ROW.replace("10:00", "12:00")))
    finally:
        csv.field_size_limit(MAX_FIELD_CHARS)

    assert len(events) >= 2 and reader.bad_count >= 1
    assert reader.bad_rows[0].line == 3 and "field limit" in reader.bad_rows[0].reason


def test_an_unclosed_quote_counts_every_line_it_swallowed_as_bad() -> None:
    """The quote runs to the field size limit: the lines it took are not silently lost."""
    unclosed = ROW.replace('"gpt-5",', '"gpt-5,').replace('"No"', "No")
    # Unquoted rows after it, more of them than the field size limit holds.
    filler = [ROW.replace('"', "").replace("Ann", f"n{i:06d}") for i in range(3000)]

    events, reader = read(export(ROW, unclosed, *filler, ROW))

    assert events[0].user_email == "ann@acme.test"
    assert len(events) + reader.bad_count == 3003  # each line an event, or counted bad
    assert reader.bad_rows[0].line == 3 and "field limit" in reader.bad_rows[0].reason
    assert reader.bad_count > 1000
