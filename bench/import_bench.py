"""CSV import speed against the database's floor, and the memory of a large import.

Printed in one run, as ratios (figures of a shared machine are noisy; ratios measured in
the same run are not):

1. floor: the rows of the first ``BENCH_IMPORT_FLOOR_ROWS`` (default 200,000) rows of the
   export, in the ledger's stored form, written by plain ``sqlite3`` ``executemany`` in
   1,000-row transactions (SQLite) and by ``COPY`` (PostgreSQL): ``ingest_bench``'s floor.
2. import: ``bot.usecases.imports.import_cursor_csv`` on the export file, end to end (read,
   parse, join rule, ingest with rollups, 20,000-row transactions), into a freshly migrated
   database with a connection never synced. SQLite: the whole file of ``BENCH_IMPORT_ROWS``
   rows (default 2,000,000), with the import process's peak RSS (VmHWM). PostgreSQL: the
   first ``BENCH_IMPORT_FLOOR_ROWS`` rows (the same rows as its floor).
3. parse only: ``ExportReader`` over the same file, nothing written: the share of the
   import that is reading the CSV.

Targets (issue 13): import >= 0.5 of the floor on SQLite and >= 0.5 of ``COPY`` on
PostgreSQL; peak RSS < 200 MB for a 2-million-row import. The export is synthetic
(``bench.csv_bench.write_export``: 200 people, five models, newest format).
"""

from __future__ import annotations

import json
import os
import pickle
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from bench.csv_bench import write_export
from bench.ingest_bench import Database, child_floor, postgres_answers
from bench.ingest_bench import child as run_child

HERE = Path(__file__).resolve()
ROOT = HERE.parent.parent
ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "2000000"))
FLOOR_ROWS = int(os.environ.get("BENCH_IMPORT_FLOOR_ROWS", "200000"))
RSS_TARGET_MB = 200


def _head(path: Path, rows: int, out: Path) -> None:
    """The header and the first ``rows`` rows of ``path`` (one row per line here)."""
    with path.open("rb") as source, out.open("wb") as target:
        for index, line in enumerate(source):
            if index > rows:
                break
            target.write(line)


def child_pages(csv_path: str, pages_path: str) -> dict[str, Any]:
    """The export's events, pickled as pages for ``ingest_bench``'s floor."""
    from connectors.cursor.csv_export import ExportReader

    with open(csv_path, "rb") as stream:
        pages = [SimpleNamespace(events=batch) for batch in ExportReader(stream).batches(1000)]
    with open(pages_path, "wb") as handle:
        pickle.dump(pages, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return {"events": sum(len(page.events) for page in pages)}


def child_import(csv_path: str, backend: str) -> dict[str, Any]:
    from bench.ledger_bench import TEAM_ID, memory_mb
    from bot.usecases.imports import import_cursor_csv

    with Database(backend) as (engine, _connection_id):
        baseline = memory_mb()
        cpu, started = time.process_time(), time.perf_counter()
        with open(csv_path, "rb") as stream:
            summary = import_cursor_csv(engine, TEAM_ID, stream, pause_collector=True)  # as the CLI
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        rows = summary.to_json()["imported"]
    return {
        "rows": rows,
        "rate": rows / seconds,
        "cpu_rate": rows / cpu,
        "peak_mb": memory_mb(),
        "baseline_mb": baseline,
    }


def child_parse(csv_path: str) -> dict[str, Any]:
    from connectors.cursor.csv_export import ExportReader

    started = time.perf_counter()
    with open(csv_path, "rb") as stream:
        rows = sum(len(batch) for batch in ExportReader(stream).batches())
    return {"rows": rows, "rate": rows / (time.perf_counter() - started)}


def child(*args: str) -> dict[str, Any]:
    return run_child(ROOT, *args, script=HERE)


def line(name: str, figure: str, details: str) -> None:
    print(f"  {name:<34} {figure:>22}   {details}", flush=True)


def main() -> None:
    print(f"import_bench: {ROWS:,}-row export; floor and PostgreSQL on its first {FLOOR_ROWS:,}")
    with tempfile.TemporaryDirectory(prefix="import-bench-") as folder:
        whole, head = Path(folder) / "export.csv", Path(folder) / "head.csv"
        pages = Path(folder) / "pages.pickle"
        write_export(whole, ROWS)
        _head(whole, FLOOR_ROWS, head)
        child("pages", str(head), str(pages))
        parse = child("parse", str(whole))
        line("parse only (ExportReader)", f"{parse['rate']:,.0f} rows/s", "SQLite run's file")
        backends = ["sqlite"] + (["postgres"] if postgres_answers() else [])
        for backend in backends:
            floor = child("floor", str(pages), backend)
            source = whole if backend == "sqlite" else head
            imported = child("import", str(source), backend)
            ratio = imported["rate"] / floor["rate"]
            what = "executemany" if backend == "sqlite" else "COPY"
            line(f"{backend} floor ({what})", f"{floor['rate']:,.0f} rows/s", "")
            line(
                f"{backend} import",
                f"{imported['rate']:,.0f} rows/s",
                f"{ratio:.2f} of the floor (target >= 0.50); "
                f"{imported['cpu_rate']:,.0f} rows per CPU second; {imported['rows']:,} rows",
            )
            if backend == "sqlite":
                verdict = "meets" if imported["peak_mb"] < RSS_TARGET_MB else "MISSES"
                line(
                    "sqlite import peak RSS",
                    f"{imported['peak_mb']:,.0f} MB",
                    f"{verdict} < {RSS_TARGET_MB} MB (VmHWM; {imported['baseline_mb']:,.0f} MB "
                    "after imports and migrating)",
                )
        if len(backends) == 1:
            print("  postgres: skipped, no server answers at STACKSPEND_TEST_POSTGRES_URL")


CHILDREN: dict[str, Callable[..., dict[str, Any]]] = {
    "pages": child_pages,
    "import": child_import,
    "parse": child_parse,
    "floor": child_floor,
}

if __name__ == "__main__":
    if len(sys.argv) > 1:
        name, *args = sys.argv[1:]
        print(json.dumps(CHILDREN[name](*args)))
    else:
        main()
