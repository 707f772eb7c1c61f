"""Model backends by spec: each built once, each behind its own limit of calls in flight."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from apollo.v1 import events_pb2 as pb
from services.llm.backend_spec import backend_from_spec
from services.llm.port import ModelBackend

BackendFactory = Callable[..., ModelBackend]


@dataclass(frozen=True)
class Lease:
    """The backend that answers one call, and the slots it shares with its siblings."""

    spec: str
    backend: ModelBackend
    slots: asyncio.Semaphore


def spec_string(model: pb.ModelSpec) -> str:
    """The `backend_from_spec` string of a recorded ModelSpec, e.g. "anthropic:claude-x"."""
    return model.backend if not model.model else f"{model.backend}:{model.model}"


class BackendPool:
    """Builds each spec's backend once and bounds the calls in flight per spec."""

    def __init__(self, concurrency: int, factory: BackendFactory = backend_from_spec) -> None:
        if concurrency < 1:
            raise ValueError(f"a backend needs at least one call in flight, not {concurrency}")
        self._concurrency = concurrency
        self._factory = factory
        self._backends: dict[str, ModelBackend] = {}
        self._slots: dict[str, asyncio.Semaphore] = {}

    def lease(self, spec: str) -> Lease:
        """The shared backend of `spec` (raises FatalBackendError for a bad spec)."""
        if spec not in self._backends:
            self._backends[spec] = self._factory(spec)
        return Lease(spec, self._backends[spec], self._slots_of(spec))

    def fresh_lease(self, spec: str, **options: object) -> Lease:
        """A backend of `spec` built anew with `options`, sharing the spec's slots."""
        return Lease(spec, self._factory(spec, **options), self._slots_of(spec))

    def _slots_of(self, spec: str) -> asyncio.Semaphore:
        return self._slots.setdefault(spec, asyncio.Semaphore(self._concurrency))
