"""Model backends by trajectory: the shared pool, and a fresh backend per step for replays."""

from __future__ import annotations

from services.llm import backend_from_spec
from services.llm.backend_pool import BackendFactory, BackendPool, Lease, spec_string
from services.llm.scripted import ScriptedCall
from services.policy.scripts import script_of
from services.tasks.teacher import TEACHER_BACKEND, teacher_calls
from services.trajectory.state import Trajectory


class Backends:
    """Leases each trajectory's policy backend for one step."""

    def __init__(self, concurrency: int, factory: BackendFactory = backend_from_spec) -> None:
        self._pool = BackendPool(concurrency, factory)
        # Each running scripted trajectory's parsed calls: parsing the whole script on every
        # step would make a step cost grow with the script's length.
        self._scripts: dict[str, tuple[ScriptedCall, ...]] = {}

    def lease(self, state: Trajectory, step_index: int) -> Lease:
        """The backend of a started trajectory's policy for `step_index` (raises
        FatalBackendError, or BadScript for malformed calls or teacher labels)."""
        started = state.started.trajectory_started
        spec = spec_string(started.policy)
        # A replay is positional: starting at the step makes a restart resume it exactly.
        if started.policy.backend == "scripted":
            calls = self._scripts.get(state.trajectory_id)
            if calls is None:
                calls = self._scripts[state.trajectory_id] = tuple(script_of(started))
            return self._pool.fresh_lease(spec, calls=calls, start=step_index)
        if started.policy.backend == TEACHER_BACKEND:
            # The teacher's calls so far follow from the log: where guidance was delivered.
            made = teacher_calls(state)
            calls = [ScriptedCall(teacher.call.tool, teacher.call.arguments) for teacher in made]
            return self._pool.fresh_lease(spec, calls=calls, start=step_index)
        return self._pool.lease(spec)

    def forget(self, trajectory_id: str) -> None:
        """Drop what is kept for a trajectory that is over."""
        self._scripts.pop(trajectory_id, None)
