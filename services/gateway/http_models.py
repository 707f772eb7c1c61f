"""The HTTP API's request and response bodies, as its OpenAPI schema shows them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.gateway.attention import MAX_HEARTBEAT_SECONDS
from services.gateway.control import (
    MAX_FLAGGED_STEPS,
    MAX_GUIDANCE_CHARS,
    MAX_LABEL_NOTE_CHARS,
    MAX_STEP_INDEX,
    check_guidance,
)
from services.tasks.families import MAX_SEED
from services.tasks.starting import POLICY_SPECS
from services.trajectory import TrajectoryStatus


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SessionLogin(_Body):
    """Exchange an API token for the session cookie (so EventSource can authenticate)."""

    token: str = Field(min_length=1, max_length=200, description="An API token (apo_...)")


class Me(BaseModel):
    """The authenticated user."""

    name: str
    role: Literal["viewer", "annotator", "admin"]


class TrajectorySummary(BaseModel):
    """One row of the trajectory list."""

    trajectory_id: str
    task_id: str
    status: TrajectoryStatus
    steps: int
    guidance_count: int
    guidance_per_100_steps: float | None = Field(
        description="The intervention rate: guidance messages per 100 steps; null before a step"
    )
    started_at: str | None = Field(description="ISO 8601, UTC")
    last_activity_at: str = Field(description="ISO 8601, UTC")
    final_score: float | None
    needs_attention: bool = Field(description="True when drift signals ask for a human")
    attention_reasons: list[str]
    watchers: list[str] = Field(description="Users with a live stream of it open")


class SessionView(BaseModel):
    """The latest output of one sandbox session."""

    session: str
    last_command: str | None
    output: str
    idle: bool


class FileChange(BaseModel):
    """A file the agent created or edited at a step."""

    step: int
    path: str
    tool: str


class TrajectoryDetail(BaseModel):
    """A trajectory's summary, events (protobuf JSON, proto field names) and panels."""

    summary: TrajectorySummary
    events: list[dict[str, Any]]
    sessions: list[SessionView]
    file_changes: list[FileChange]


class GuidanceIn(_Body):
    """Guidance for the agent's next step boundary, and/or steps flagged as wrong."""

    text: str = Field(default="", max_length=MAX_GUIDANCE_CHARS, description="Shown to the agent")
    kind: Literal["advice", "knowledge", "correction"] = "advice"
    flag_steps: list[int] = Field(
        default_factory=list,
        max_length=MAX_FLAGGED_STEPS,
        description="Step indices (from 0) marked as wrong, for the judge",
    )

    @model_validator(mode="after")
    def _deliverable(self) -> GuidanceIn:
        # The same rules as gRPC, so both channels refuse the same input with the same words.
        check_guidance(self.text, self.kind, self.flag_steps)
        return self


class StepLabelIn(_Body):
    """An annotator's label of one step: keep it in training, or mask it."""

    step_index: int = Field(ge=0, le=MAX_STEP_INDEX, description="The labelled step (from 0)")
    label: Literal["keep", "mask"]
    note: str = Field(default="", max_length=MAX_LABEL_NOTE_CHARS, description="Why, optional")


class JudgeReasonOut(BaseModel):
    """One rule that fired, with its evidence."""

    rule_id: str
    detail: str
    evidence_step_indices: list[int] = Field(description="The steps the rule looked at")
    quote: str = Field(description="A short quote that made the rule fire")


class VerdictOut(BaseModel):
    """The verdict on one action under one ruleset version."""

    action_id: str
    step_index: int
    verdict: Literal["keep", "mask"]
    reasons: list[JudgeReasonOut]


class RulesetJudgementOut(BaseModel):
    """A ruleset version that judged the trajectory."""

    ruleset_version: str
    actions_judged: int
    actions_masked: int


class TrajectoryVerdictsOut(BaseModel):
    """The verdicts of one ruleset version, and every version that judged the trajectory."""

    ruleset_version: str | None = Field(description="The version shown; null if none judged it")
    versions: list[RulesetJudgementOut] = Field(description="Newest first")
    verdicts: list[VerdictOut] = Field(description="In step order")


class EventId(BaseModel):
    """The id of the event a command published."""

    event_id: str


class AttentionIn(_Body):
    """A heartbeat: the trajectory was on screen for this many seconds."""

    seconds: float = Field(gt=0, le=MAX_HEARTBEAT_SECONDS)


class AttentionOut(BaseModel):
    """Seconds one annotator spent on one trajectory."""

    annotator: str
    trajectory_id: str
    seconds: float


class StartIn(_Body):
    """Start a trajectory on a task."""

    task_id: str = Field(min_length=1, max_length=200, description="A task pack id")
    policy: str = Field(min_length=1, max_length=200, description=POLICY_SPECS)
    max_steps: int | None = Field(
        default=None, ge=1, le=MAX_STEP_INDEX, description="Step budget; the task's own if absent"
    )
    task_seed: int = Field(
        default=0, ge=0, le=MAX_SEED, description="The task family's instance; 0 is the default"
    )


class TrajectoryId(BaseModel):
    """The id of a started trajectory."""

    trajectory_id: str


class CancelIn(_Body):
    """Why the trajectory should stop."""

    reason: str = Field(default="", max_length=2000)


class Problem(BaseModel):
    """An error."""

    detail: Any
