"""A rich progress bar on a terminal (stderr), silent otherwise: the CLI's long verbs."""

from __future__ import annotations

from typing import Any

from rich.progress import BarColumn, Progress, ProgressColumn, TaskID, TextColumn, TimeElapsedColumn


class TerminalBar:
    """``label``, a bar, ``columns`` and the time elapsed, while the block runs.

    ``fields`` are the task's own fields (their starting values), read by ``columns``
    as ``{task.fields[name]}``; ``update`` moves the bar and sets them."""

    def __init__(
        self, label: str, columns: tuple[ProgressColumn, ...], *, enabled: bool, **fields: Any
    ) -> None:
        self._progress = (
            Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                *columns,
                TimeElapsedColumn(),
                transient=True,
            )
            if enabled
            else None
        )
        self._label = label
        self._fields = fields
        self._task: TaskID | None = None

    def __enter__(self) -> TerminalBar:
        if self._progress is not None:
            self._progress.start()
            self._task = self._progress.add_task(self._label, total=None, **self._fields)
        return self

    def __exit__(self, *_: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def update(self, *, total: float | None, completed: float, **fields: Any) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, total=total, completed=completed, **fields)
