"""Domain series that Prometheus sees at zero before their first increment.

rate() and increase() take a series' first sample as their base, so a labelled series that
appears together with its first increment hides that increment: a ruleset's first mask, a
dataset under a new ruleset, a variant's first score. Each series is therefore created at
zero and left so for a hold (longer than a scrape interval) before anything is added to it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from prometheus_client import Histogram
from prometheus_client.metrics import MetricWrapperBase


@dataclass(frozen=True, slots=True)
class Bump:
    """One archived event's addition to one series: an increment, or a histogram sample."""

    metric: MetricWrapperBase
    labels: tuple[str, ...]
    amount: float = 1.0

    def apply(self) -> None:
        """Add it to the series."""
        child = self.metric.labels(*self.labels)
        if isinstance(self.metric, Histogram):
            child.observe(self.amount)
        else:
            child.inc(self.amount)


class ZeroSeries:
    """When each domain series was created at zero; which ones have been zero long enough."""

    def __init__(self, hold_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._hold = hold_seconds
        self._clock = clock
        self._born: dict[tuple[MetricWrapperBase, tuple[str, ...]], float] = {}

    def create(self, metric: MetricWrapperBase, labels: tuple[str, ...]) -> None:
        """Export the series at zero, unless it is exported already."""
        key = (metric, labels)
        if key not in self._born:
            metric.labels(*labels)
            self._born[key] = self._clock()

    def ready(self, bumps: Iterable[Bump]) -> bool:
        """Whether every series these bumps add to was exported at zero for the whole hold."""
        now = self._clock()
        return all(
            now - self._born.get((bump.metric, bump.labels), now) >= self._hold for bump in bumps
        )

    def __len__(self) -> int:
        return len(self._born)
