"""Token guessing is slowed down: wrong tokens from one client address are rate-limited.

Each address has a bucket of `burst` wrong tokens that refills at `per_minute`; once it is
empty, sign-ins (and bearer-token calls) from that address are refused with a retry time
before the token is even looked up. A sign-in carries only a token, and a wrong token names
no user, so the address is the only key there is. The newest `max_clients` addresses are
remembered, so memory stays bounded under a flood from many addresses.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class SignInThrottle:
    """Per-address token buckets of wrong-token allowances."""

    def __init__(
        self,
        burst: int = 10,
        per_minute: float = 10.0,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._burst = burst
        self._per_second = per_minute / 60
        self._max_clients = max_clients
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def _bucket(self, client: str) -> _Bucket:
        now = self._clock()
        bucket = self._buckets.pop(client, None) or _Bucket(float(self._burst), now)
        bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.updated) * self._per_second)
        bucket.updated = now
        self._buckets[client] = bucket
        while len(self._buckets) > self._max_clients:
            self._buckets.popitem(last=False)
        return bucket

    def retry_after_s(self, client: str) -> int:
        """0 if the client may try a token now, else whole seconds until it may."""
        missing = 1 - self._bucket(client).tokens
        return 0 if missing <= 0 else math.ceil(missing / self._per_second)

    def failed(self, client: str) -> None:
        """Count one wrong token from the client."""
        bucket = self._bucket(client)
        bucket.tokens = max(0.0, bucket.tokens - 1)
