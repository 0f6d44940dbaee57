"""`stackspend sync` runs a deep sync, `--light` a light one; each line says which and how
many Cursor requests it made."""

from __future__ import annotations

import re

from tests.bot.cli_support import run


def test_the_cli_syncs_deep_by_default_and_light_when_asked(synced: dict[str, str]) -> None:
    code, out, err = run(synced, "sync", "--light")
    assert code == 0, err
    assert re.search(r"^T1: synced \d+ pages: .*\(light sync, 1 Cursor request\)$", out.strip())
    code, out, err = run(synced, "sync")
    assert code == 0, err
    deep = re.search(r"\(deep sync, (\d+) Cursor requests\)", out)
    assert deep is not None and int(deep.group(1)) >= 4  # members, events, spend, daily usage
