"""Checking that every recorded action's prompt re-renders to its recorded digest."""

from __future__ import annotations

from dataclasses import dataclass

from services.trajectory.prompt import RenderError, render_action_prompt
from services.trajectory.state import Trajectory


@dataclass(frozen=True, slots=True)
class DigestCheck:
    """One action's recorded digest against the digest of its re-rendered prompt."""

    step_index: int
    recorded: str
    rendered: str
    # Why the prompt could not be rendered ("" when it was).
    error: str = ""

    @property
    def matches(self) -> bool:
        """Whether the prompt was rebuilt exactly."""
        return not self.error and self.recorded == self.rendered


def check_digests(state: Trajectory) -> list[DigestCheck]:
    """One check per recorded action, in step order."""
    checks = []
    for step in state.steps:
        recorded = step.action.action_proposed.prompt_digest
        try:
            rendered = render_action_prompt(state, step.action).digest
        except RenderError as error:
            checks.append(DigestCheck(step.index, recorded, "", str(error)))
            continue
        checks.append(DigestCheck(step.index, recorded, rendered))
    return checks
