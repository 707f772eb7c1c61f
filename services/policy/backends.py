"""Model backends by trajectory: one per spec, each behind its own concurrency limit."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from apollo.v1 import events_pb2 as pb
from services.llm import backend_from_spec
from services.llm.port import ModelBackend
from services.policy.scripts import script_of

BackendFactory = Callable[..., ModelBackend]


@dataclass(frozen=True)
class Lease:
    """The backend that answers one step, and the slots it shares with its siblings."""

    spec: str
    backend: ModelBackend
    slots: asyncio.Semaphore


def spec_string(model: pb.ModelSpec) -> str:
    """The `backend_from_spec` string of a recorded ModelSpec, e.g. "anthropic:claude-x"."""
    return model.backend if not model.model else f"{model.backend}:{model.model}"


class Backends:
    """Builds each backend once (scripted ones per step) and bounds its calls in flight."""

    def __init__(self, concurrency: int, factory: BackendFactory = backend_from_spec) -> None:
        self._concurrency = concurrency
        self._factory = factory
        self._backends: dict[str, ModelBackend] = {}
        self._slots: dict[str, asyncio.Semaphore] = {}

    def lease(self, started: pb.TrajectoryStarted, step_index: int) -> Lease:
        """The backend of a trajectory's policy for `step_index` (raises FatalBackendError)."""
        spec = spec_string(started.policy)
        slots = self._slots.setdefault(spec, asyncio.Semaphore(self._concurrency))
        if started.policy.backend == "scripted":
            # A script is positional: starting at the step makes a restart resume it exactly.
            calls = script_of(started)
            return Lease(spec, self._factory(spec, calls=calls, start=step_index), slots)
        if spec not in self._backends:
            self._backends[spec] = self._factory(spec)
        return Lease(spec, self._backends[spec], slots)
