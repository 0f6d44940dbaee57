"""The coverage gate of ``make test``: the total and every module against their thresholds.

Reads ``coverage.json`` (written by ``coverage json`` after the test run) and the thresholds
from ``pyproject.toml``: the total against ``[tool.coverage.report] fail_under`` and each
module against ``[tool.stackspend.coverage] module_floor``. Names every module under the
floor and exits 1 when anything is short; prints the lowest modules either way.

Run as ``python -m bench.coverage_gate [--root DIR]``.
"""

from __future__ import annotations

import json
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LOWEST_SHOWN = 10


@dataclass(frozen=True)
class Thresholds:
    total: float
    module_floor: float


def thresholds(root: Path) -> Thresholds:
    config = tomllib.loads((root / "pyproject.toml").read_text())["tool"]
    return Thresholds(
        total=float(config["coverage"]["report"]["fail_under"]),
        module_floor=float(config["stackspend"]["coverage"]["module_floor"]),
    )


def module_name(path: str) -> str:
    return path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")


def module_figures(report: dict[str, Any]) -> dict[str, float]:
    """Percent of lines covered per module (modules without statements left out)."""
    figures: dict[str, float] = {}
    for path, data in report["files"].items():
        summary = data["summary"]
        if summary["num_statements"]:
            figures[module_name(path)] = float(summary["percent_covered"])
    return figures


def failures(report: dict[str, Any], limits: Thresholds) -> list[str]:
    problems: list[str] = []
    total = float(report["totals"]["percent_covered"])
    if total < limits.total:
        problems.append(f"total line coverage {total:.1f}% is under {limits.total:g}%")
    for name, percent in sorted(module_figures(report).items(), key=lambda item: item[1]):
        if percent < limits.module_floor:
            problems.append(f"{name}: {percent:.1f}% is under the {limits.module_floor:g}% floor")
    return problems


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    root = Path(args[args.index("--root") + 1]).resolve() if "--root" in args else ROOT
    path = root / "coverage.json"
    if not path.exists():
        print(f"coverage gate: no {path} (make test writes it)")
        return 1
    report = json.loads(path.read_text())
    limits = thresholds(root)
    figures = sorted(module_figures(report).items(), key=lambda item: item[1])
    print(
        f"coverage gate: total {report['totals']['percent_covered']:.1f}% "
        f"(at least {limits.total:g}%), every module at least {limits.module_floor:g}%"
    )
    print(f"  lowest {LOWEST_SHOWN}:")
    for name, percent in figures[:LOWEST_SHOWN]:
        print(f"    {percent:5.1f}%  {name}")
    problems = failures(report, limits)
    for problem in problems:
        print(f"  FAIL {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
