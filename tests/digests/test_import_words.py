"""An import's summary in words: counts, months, bad rows (ten shown), escaping."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from connectors.cursor.csv_export import BadRow
from digests.format import escape
from digests.imports import summary_lines
from ledger.import_summary import ImportSummary


def summary(**changes: object) -> ImportSummary:
    values: dict[str, object] = {
        "workspace": "T1",
        "timezone": "Europe/Paris",
        "dry_run": False,
        "rows": 1200,
        "imported": 1000,
        "revised": 0,
        "duplicates": 50,
        "skipped": 150,
        "bad_count": 12,
        "bad_rows": tuple(BadRow(line, "bad Date '<!channel>'") for line in range(2, 12)),
        "days": 61,
        "first_day": date(2026, 8, 1),
        "last_day": date(2026, 9, 30),
        "dollars_by_month": {"2026-08": Decimal("1234.565"), "2026-09": Decimal("0.004")},
        "api_start": datetime(2026, 9, 20, 22, 0, tzinfo=UTC),
    }
    values.update(changes)
    return ImportSummary(**values)  # type: ignore[arg-type]


def test_the_summary_names_every_count_month_and_the_first_ten_bad_rows() -> None:
    text = "\n".join(summary_lines(summary()))
    assert "Imported 1,000 rows into T1" in text
    assert "already held: 50" in text and "skipped (the API's range): 150" in text
    assert "bad: 12" in text and "Days: 61, from 2026-08-01 to 2026-09-30" in text
    assert "2026-08: $1,234.57" in text and "2026-09: $0.00" in text
    assert "The API's history starts 2026-09-21" in text  # the workspace's local day
    assert text.count("  line ") == 10 and "line 11: bad Date" in text
    assert "… and 2 more bad rows" in text


def test_slack_gets_the_reasons_escaped_and_a_dry_run_says_nothing_was_written() -> None:
    lines = summary_lines(summary(dry_run=True, api_start=None), clean=escape)
    text = "\n".join(lines)
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    assert text.startswith("Would import 1,000 rows") and "nothing written" in text
    assert "Never synced" in text


def test_a_file_without_usage_rows_says_so_and_what_to_do() -> None:
    empty = summary(rows=0, imported=0, duplicates=0, skipped=0, bad_count=0, bad_rows=())

    assert any("no usage rows" in line for line in summary_lines(empty))
    assert not any("no usage rows" in line for line in summary_lines(summary()))
