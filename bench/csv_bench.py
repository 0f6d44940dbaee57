"""Parse speed of Cursor's usage CSV export: bare ``csv.reader`` vs the full ExportReader.

Writes ~500k rows of the newest export format to a temporary file, then prints rows/s for
(a) ``csv.reader`` alone on the decoded text stream (the floor a faster splitter could
remove), (b) ``ExportReader`` all the way to ``UsageEvent``s, and the ratio b/a. It also
says whether pyarrow or polars is installed (neither is a dependency; see the docstring of
``connectors.cursor.csv_export`` for why the standard library parser was kept).
"""

from __future__ import annotations

import csv
import importlib.util
import io
import os
import random
import tempfile
import time
from pathlib import Path

from connectors.cursor.csv_export import NEWEST_COLUMNS, ExportReader

ROWS = 500_000
KINDS = ("Included", "Usage-based", "Usage-based", "Errored, No Charge", "Free", "User API Key")
MODELS = ("claude-4.5-sonnet", "gpt-5", "auto", "composer-2.5-fast", "claude-4.1-opus")


def write_export(path: Path, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    users = [f"person{i}@acme.test" for i in range(200)]
    start_ms = 1_790_000_000_000
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        writer.writerow(NEWEST_COLUMNS)
        for i in range(rows):
            ms = start_ms + i * 1500 + rng.randrange(1000)
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000))
            without = rng.randrange(1500, 60000)
            cache_write = rng.randrange(0, 45000) if rng.random() < 0.4 else 0
            cache_read = rng.randrange(0, 220000)
            output = rng.randrange(150, 6000)
            kind = rng.choice(KINDS)
            cost = f"{rng.random() * 0.9:.6f}" if kind in ("Included", "Usage-based") else "-"
            agent = f"bc_{rng.getrandbits(24):06x}" if rng.random() < 0.03 else ""
            writer.writerow(
                (
                    f"{stamp}.{ms % 1000:03d}Z", rng.choice(users), agent, "", kind,
                    rng.choice(MODELS), "Yes" if rng.random() < 0.1 else "No",
                    without + cache_write, without, cache_read, output,
                    without + cache_write + cache_read + output, cost,
                )
            )  # fmt: skip


def rate_bare(path: Path) -> float:
    started = time.perf_counter()
    with path.open("rb") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        count = sum(1 for _ in csv.reader(text)) - 1
    return count / (time.perf_counter() - started)


def rate_reader(path: Path) -> tuple[float, int]:
    started = time.perf_counter()
    with path.open("rb") as raw:
        reader = ExportReader(raw)
        count = sum(len(batch) for batch in reader.batches())
    return count / (time.perf_counter() - started), reader.bad_count


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.csv"
        write_export(path, ROWS)
        size_mb = os.path.getsize(path) / 1e6
        bare = max(rate_bare(path) for _ in range(2))
        full, bad = max(rate_reader(path) for _ in range(2))
    print(f"   {ROWS:,} rows, {size_mb:.0f} MB (newest format, all fields quoted, CRLF)")
    print(f"   (a) csv.reader alone          {bare / 1e3:8.0f}k rows/s  (floor)")
    print(f"   (b) ExportReader -> events    {full / 1e3:8.0f}k rows/s  ({full / bare:.2f} of a)")
    print(f"       bad rows: {bad}")
    for name in ("pyarrow", "polars"):
        found = importlib.util.find_spec(name) is not None
        print(f"   {name}: {'installed' if found else 'not installed (not a dependency)'}")
