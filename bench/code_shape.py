"""The shape of the code: figures a maintainer reads before and after a redesign.

- modules over 300 lines (outside the network-edge fakes, ``connectors/cursor/sim*`` and
  ``bot/testing/``, and the migrations);
- function length: median, p90 and max, in lines, over every function and method (outside
  the fakes);
- duplicated blocks: places where six or more lines repeat with only names, strings and
  numbers changed (outside the migrations);
- direct session call sites in ``bot/`` outside the use-case layer (``bot/usecases``);
- line coverage, when a ``coverage.json`` from ``make test`` is at hand;
- start-up of ``stackspend --help`` and ``stackspend report`` (best of 5), from ``startup_bench``.

``python -m bench.code_shape`` prints them; ``--no-startup`` skips the timed part and
``--root PATH`` measures another checkout (an older commit, for a before-and-after).
"""

from __future__ import annotations

import ast
import io
import itertools
import json
import keyword
import re
import statistics
import sys
import tokenize
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # --root PATH measures another checkout
PACKAGES = ("bot", "connectors", "ledger", "digests")
USE_CASE_LAYER = "bot/usecases"
LONG_MODULE = 300
WINDOW = 6
SESSION_CALL = re.compile(r"\b(session_scope|Session)\(|\bselect\(")


def is_network_fake(path: str) -> bool:
    """The Cursor simulator and the fake Slack Web API: stand-ins for the network edge."""
    return path.startswith(("connectors/cursor/sim", "bot/testing/"))


def sources(root: Path) -> Iterator[tuple[str, str]]:
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            yield path.relative_to(root).as_posix(), path.read_text()


def long_modules(files: dict[str, str]) -> list[tuple[str, int]]:
    sized = [(name, len(text.splitlines())) for name, text in files.items()]
    return sorted(
        ((n, s) for n, s in sized if s > LONG_MODULE and not is_network_fake(n)),
        key=lambda item: -item[1],
    )


def function_lengths(files: dict[str, str]) -> list[tuple[int, str]]:
    lengths = []
    for name, text in files.items():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                end = node.end_lineno or node.lineno
                lengths.append((end - node.lineno + 1, f"{name}:{node.lineno} {node.name}"))
    return sorted(lengths)


def shape_of(line: str) -> str | None:
    """A line with names, strings and numbers blurred; None for lines that say nothing alone."""
    if line.lstrip().startswith(("from ", "import ", "#")):
        return None
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(line.strip() + "\n").readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return line.strip() or None
    parts = []
    for token in tokens:
        if token.type == tokenize.NAME and not keyword.iskeyword(token.string):
            parts.append("n")
        elif token.type == tokenize.STRING:
            parts.append("s")
        elif token.type == tokenize.NUMBER:
            parts.append("0")
        elif token.type in (tokenize.OP, tokenize.NAME):
            parts.append(token.string)
    shape = " ".join(parts)
    return shape if len(shape) > 3 else None


@dataclass(frozen=True)
class Place:
    module: str
    line: int


def duplicated_blocks(files: dict[str, str]) -> list[tuple[Place, Place]]:
    """Pairs of places that share WINDOW or more similar lines, overlapping windows merged."""
    seen: dict[tuple[str, ...], list[Place]] = defaultdict(list)
    for name, text in files.items():
        shaped = [(i + 1, shape_of(raw)) for i, raw in enumerate(text.splitlines())]
        kept = [(number, shape) for number, shape in shaped if shape is not None]
        for start in range(len(kept) - WINDOW + 1):
            window = tuple(shape for _, shape in kept[start : start + WINDOW])
            if len(set(window)) < WINDOW // 2:
                continue  # a run of keyword arguments or list items: same shape, not a copy
            seen[window].append(Place(name, kept[start][0]))
    candidates = sorted(
        (first.module, second.module, second.line - first.line, first.line)
        for places in seen.values()
        for first, second in itertools.pairwise(places)
        if first.module != second.module or second.line - first.line >= WINDOW
    )
    pairs: list[tuple[Place, Place]] = []
    previous: tuple[str, str, int, int] | None = None
    for module, other, offset, line in candidates:
        continues = previous is not None and previous[:3] == (module, other, offset)
        if not (continues and previous is not None and line - previous[3] <= WINDOW):
            pairs.append((Place(module, line), Place(other, line + offset)))
        previous = (module, other, offset, line)
    return pairs


def session_call_sites(files: dict[str, str]) -> list[str]:
    sites = []
    for name, text in files.items():
        if not name.startswith("bot/") or name.startswith(USE_CASE_LAYER):
            continue
        for number, raw in enumerate(text.splitlines(), start=1):
            if SESSION_CALL.search(raw) and not raw.lstrip().startswith(("#", "from ", "import ")):
                sites.append(f"{name}:{number}")
    return sites


def coverage_figure(root: Path) -> str:
    report = root / "coverage.json"
    if not report.exists():
        return "n/a (run make test to write coverage.json)"
    totals = json.loads(report.read_text())["totals"]
    return f"{totals['percent_covered']:.1f}%"


def percentile(values: list[int], fraction: float) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    root = Path(args[args.index("--root") + 1]).resolve() if "--root" in args else ROOT
    files = dict(sources(root))
    modules = long_modules(files)
    product = {name: text for name, text in files.items() if not is_network_fake(name)}
    lengths = function_lengths(product)
    sizes = [size for size, _ in lengths]
    duplicates = duplicated_blocks(product)
    sites = session_call_sites(files)
    print(f"  modules over {LONG_MODULE} lines: {len(modules)}")
    for name, size in modules:
        print(f"    {name}: {size}")
    print(
        f"  function length: median {statistics.median(sizes):.0f}, "
        f"p90 {percentile(sizes, 0.9)}, max {sizes[-1]} ({lengths[-1][1]})"
    )
    print(f"  functions over 50 lines: {sum(1 for size in sizes if size > 50)}")
    print(f"  duplicated blocks of {WINDOW}+ similar lines: {len(duplicates)}")
    for first, second in duplicates[:10]:
        print(f"    {first.module}:{first.line} ~ {second.module}:{second.line}")
    print(f"  session call sites in bot/ outside {USE_CASE_LAYER}: {len(sites)}")
    print(f"  coverage: {coverage_figure(root)}")
    if "--no-startup" not in args:
        from bench import startup_bench

        startup_bench.main()


if __name__ == "__main__":
    main()
