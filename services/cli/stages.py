"""Numbered, timed stages of a long command (the demo, an experiment) on stderr."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

from rich.console import Console


class Stages:
    """Announces each stage as `n/total name: what` and how long it took (a quiet console for
    none); `seconds` keeps every stage's wall time for the command's JSON."""

    def __init__(self, console: Console, total: int) -> None:
        self._console = console
        self._total = total
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def stage(self, name: str, what: str) -> Iterator[None]:
        """Time one stage, announcing it and how long it took."""
        number = len(self.seconds) + 1
        self._console.print(f"[bold]{number}/{self._total} {name}[/bold]: {what}")
        started = time.perf_counter()
        yield
        self.seconds[name] = round(time.perf_counter() - started, 1)
        self._console.print(f"    {name} done in {self.seconds[name]:.1f} s")
