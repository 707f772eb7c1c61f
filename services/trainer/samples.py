"""Training samples as plain values: one per context window or summarization call (no I/O)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum

from services.trajectory.prompt_model import ChatMessage, ToolDefinition

ASSISTANT = "assistant"


class SampleKind(StrEnum):
    """What a sample teaches: acting in a window, or summarizing one."""

    REACT = "react"
    SUMMARY = "summary"


@dataclass(frozen=True, slots=True)
class SampleTurn:
    """One message of a sample and whether its tokens carry loss."""

    message: ChatMessage
    # Set on assistant turns only: False when the action's verdict masks it, or when the
    # turn is context from an earlier window (then `mask_rules` is empty).
    train: bool | None = None
    # The rules of the mask verdict that dropped this turn from the loss.
    mask_rules: tuple[str, ...] = ()

    @property
    def masked(self) -> bool:
        """Whether a verdict dropped this turn from the loss."""
        return self.train is False and bool(self.mask_rules)

    def as_row(self) -> dict:
        """The turn as a `messages` entry of samples.parquet."""
        return {**self.message.as_json(), "train": self.train, "mask_rules": list(self.mask_rules)}


@dataclass(frozen=True, slots=True)
class Sample:
    """One multi-turn training sample: the exact prompt the model saw plus its answers."""

    kind: SampleKind
    trajectory_id: str
    task_id: str
    # The window's position in its trajectory; summary samples count their own calls.
    window_index: int
    turns: tuple[SampleTurn, ...]
    tools: tuple[ToolDefinition, ...]
    # The recorded digest of the last prompt the sample holds.
    prompt_digest: str

    @property
    def sample_id(self) -> str:
        """Stable within a trajectory: kind, trajectory and window."""
        return f"{self.trajectory_id}:{self.kind.value}:{self.window_index}"

    @property
    def trained_turns(self) -> int:
        """How many assistant turns carry loss."""
        return sum(1 for turn in self.turns if turn.train)

    def tools_json(self) -> str:
        """The tool definitions as a JSON list (name, description, parameters)."""
        return json.dumps(
            [
                {
                    "name": tool.name,
                    "description": tool.description,
                    "parameters": json.loads(tool.parameters_json_schema or "{}"),
                }
                for tool in self.tools
            ],
            ensure_ascii=False,
        )


@dataclass(frozen=True, slots=True)
class RejectedSample:
    """A sample left out because its prompt did not re-render to the recorded digest."""

    trajectory_id: str
    # The step whose prompt differs, or the summary call's request id.
    step: str
    reason: str

    def __str__(self) -> str:
        return f"trajectory {self.trajectory_id}, {self.step}: {self.reason}"
