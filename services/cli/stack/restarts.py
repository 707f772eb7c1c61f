"""How often the supervisor restarts a child: a budget per child over a rolling window."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

# A child that dies this often is left down: it would only crash again. A window rather
# than a lifetime count, so a 30-hour run survives one crash an hour for ever.
MAX_RESTARTS = 5
WINDOW_S = 300.0


@dataclass
class RestartBudget:
    """At most `max_restarts` restarts of one child within any `window_s` seconds."""

    max_restarts: int = MAX_RESTARTS
    window_s: float = WINDOW_S
    clock: Callable[[], float] = time.monotonic
    _recent: deque[float] = field(default_factory=deque)

    def take(self) -> bool:
        """Spend one restart now; False (and nothing spent) when the window's are used up."""
        now = self.clock()
        while self._recent and now - self._recent[0] >= self.window_s:
            self._recent.popleft()
        if len(self._recent) >= self.max_restarts:
            return False
        self._recent.append(now)
        return True

    def forgive(self, since: float) -> None:
        """Give back the restarts spent at or after `since` (clock seconds)."""
        self._recent = deque(spent for spent in self._recent if spent < since)


@dataclass
class RestartBudgets:
    """One `RestartBudget` per child, by name."""

    max_restarts: int = MAX_RESTARTS
    window_s: float = WINDOW_S
    _budgets: dict[str, RestartBudget] = field(default_factory=dict)

    def take(self, child: str) -> bool:
        """Spend one of `child`'s restarts now, if its window has one left."""
        return self._budget(child).take()

    def forgive(self, child: str, since: float) -> None:
        """Give back `child`'s restarts spent at or after `since`."""
        self._budget(child).forgive(since)

    def _budget(self, child: str) -> RestartBudget:
        return self._budgets.setdefault(child, RestartBudget(self.max_restarts, self.window_s))
