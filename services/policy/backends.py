"""Model backends by trajectory: the shared pool, and a fresh backend per step for scripts."""

from __future__ import annotations

from apollo.v1 import events_pb2 as pb
from services.llm import backend_from_spec
from services.llm.backend_pool import BackendFactory, BackendPool, Lease, spec_string
from services.policy.scripts import script_of


class Backends:
    """Leases each trajectory's policy backend for one step."""

    def __init__(self, concurrency: int, factory: BackendFactory = backend_from_spec) -> None:
        self._pool = BackendPool(concurrency, factory)

    def lease(self, started: pb.TrajectoryStarted, step_index: int) -> Lease:
        """The backend of a trajectory's policy for `step_index` (raises FatalBackendError)."""
        spec = spec_string(started.policy)
        if started.policy.backend == "scripted":
            # A script is positional: starting at the step makes a restart resume it exactly.
            return self._pool.fresh_lease(spec, calls=script_of(started), start=step_index)
        return self._pool.lease(spec)
