"""Observation events: the capped JSON in the event, the full one in the blob store."""

from __future__ import annotations

from apollo.v1 import events_pb2 as pb
from services.eventlog.blobs import BlobStore
from services.sandbox.runtime import TrajectoryRuntime
from services.sandbox.toolbox import ToolOutcome
from services.trajectory.canonical import canonical_json

# ResearchGym caps tool outputs at 30,000 characters.
MAX_OBSERVATION_CHARS = 30_000
MEDIA_TYPE = "application/json"
# Command output keeps its newest part (the error is at the end); file content its start.
_KEEP_NEWEST = {"output"}


def cap(observation: dict, max_chars: int = MAX_OBSERVATION_CHARS) -> tuple[dict, bool]:
    """The observation with its longest text fields shortened so its JSON fits."""
    size = len(canonical_json(observation))
    if size <= max_chars:
        return observation, False
    capped = dict(observation)
    texts = sorted(
        (k for k, v in capped.items() if isinstance(v, str)), key=lambda k: -len(capped[k])
    )
    for key in texts:
        excess = len(canonical_json(capped)) - max_chars
        if excess <= 0:
            break
        value = capped[key]
        # Escapes (a newline is two characters in JSON) make the JSON longer than the text.
        encoded = len(canonical_json(value))
        keep = max(0, (encoded - excess - 200) * len(value) // encoded)
        note = f"[{len(value) - keep} characters cut; full output in the blob store]"
        newest, oldest = value[len(value) - keep :], value[:keep]
        capped[key] = (note + newest) if key in _KEEP_NEWEST else (oldest + note)
    if len(canonical_json(capped)) > max_chars:
        capped = {k: capped[k] for k in ("success", "message", "error_message")}
        capped["error_message"] = capped["error_message"][:2000]
        capped["message"] = capped["message"][:2000]
    return capped, True


async def observation_body(
    action: pb.ActionProposed,
    action_id: str,
    tool_name: str,
    outcome: ToolOutcome,
    rt: TrajectoryRuntime | None,
    blobs: BlobStore,
    duration_ms: int,
) -> pb.ObservationRecorded:
    """The ObservationRecorded body for one action's outcome."""
    full = outcome.observation()
    shown, truncated = cap(full)
    body = pb.ObservationRecorded(
        action_id=action_id,
        step_index=action.step_index,
        tool_name=tool_name,
        success=outcome.success,
        message=str(full.get("message", ""))[:2000],
        error_message=outcome.error_message[:2000],
        observation_json=canonical_json(shown),
        truncated=truncated,
        duration_ms=duration_ms,
    )
    if truncated:
        body.full_output.CopyFrom(await blobs.put(canonical_json(full).encode(), MEDIA_TYPE))
    if outcome.eval_score is not None:
        body.eval_score = outcome.eval_score
    if rt is not None:
        body.remaining.CopyFrom(
            pb.BudgetRemaining(
                seconds=rt.seconds_left,
                steps=max(0, rt.budgets.max_steps - action.step_index - 1),
                evals=rt.evals_left,
            )
        )
    return body
