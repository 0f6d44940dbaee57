"""``GET /metrics``: every metric of this process (or of all its worker processes), in
Prometheus' text format.

waitress serves with threads in one process, so the default registry has everything. When
``PROMETHEUS_MULTIPROC_DIR`` is set (several worker processes behind one port), each process
writes its values to files in that directory and the scrape collects them all; the directory
must exist, be empty at start-up and be writable. prometheus_client itself reads the variable
when it is first imported, so it is set in the environment, not in StackSpend's settings.
"""

from __future__ import annotations

import os
from typing import Final

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROC_DIR: Final = "PROMETHEUS_MULTIPROC_DIR"


def registry() -> CollectorRegistry:
    """The default registry, or in multi-process mode one that collects every process."""
    directory = os.environ.get(MULTIPROC_DIR)
    if not directory:
        return REGISTRY
    collecting = CollectorRegistry()
    MultiProcessCollector(collecting, path=directory)  # type: ignore[no-untyped-call]
    return collecting


def exposition() -> tuple[bytes, str]:
    """The scrape's body and its content type."""
    return generate_latest(registry()), CONTENT_TYPE_LATEST
