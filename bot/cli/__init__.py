"""The ``stackspend`` command line: one verb per job."""

from __future__ import annotations

from bot.cli.app import app, main

__all__ = ["app", "main"]
