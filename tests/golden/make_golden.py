"""Write the golden events of the current schema version: `python tests/golden/make_golden.py`.

A golden is history: once committed it never changes, because it proves that what
older builds wrote still loads. So this script only adds the files that are missing
(a new body family) and leaves every existing one untouched, saying which differ
from what this build would write. A change of meaning gets a new schema version,
whose goldens go to tests/golden/v<N>/ beside the old ones.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from apollo.v1 import events_pb2 as pb
from services.eventlog.codec import encode
from services.eventlog.events import new_event
from services.eventlog.jsonl import to_json_line
from services.eventlog.upcasting import CURRENT_SCHEMA_VERSION

HERE = Path(__file__).resolve().parent
TRAJECTORY_ID = "0198c9a4-1e00-7000-8000-00000000a001"
T0 = datetime(2026, 1, 15, 9, 30, 0, 123456, tzinfo=UTC)
MODEL = pb.ModelSpec(
    backend="openai",
    model="apollo-glm-sft-3",
    sampling=pb.SamplingParams(temperature=1.0, top_p=0.95, max_tokens=8192, seed=7),
)
SCRIPTED = pb.ModelSpec(backend="scripted", model="reference", sampling=MODEL.sampling)
USAGE = pb.TokenUsage(
    prompt_tokens=48211,
    completion_tokens=173,
    approximate=True,
    cache_read_tokens=46080,
    cache_write_tokens=1920,
)
DIGEST = "sha256:" + "5e" * 32
BLOB = pb.BlobRef(digest="sha256:" + "b1" * 32, size_bytes=182_044, media_type="text/plain")


def fixed_uuid7(at: datetime, sequence: int) -> str:
    """A valid UUIDv7 made only of `at` (ms) and `sequence`, so reruns give the same ids."""
    millis = int(at.timestamp() * 1000)
    value = (millis << 80) | (0x7 << 76) | (0b10 << 62) | sequence
    return str(uuid.UUID(int=value))


def _action_proposed() -> Message:
    return pb.ActionProposed(
        step_index=41,
        model=MODEL,
        assistant_text="The dedup pass is done; score the filtered set.",
        tool_call=pb.ToolCall(call_id="call_041", name="eval", arguments_json="{}"),
        usage=USAGE,
        latency_ms=2315,
        delivered_guidance_ids=[fixed_uuid7(T0, 900)],
        summary_id=fixed_uuid7(T0, 901),
        prompt_digest=DIGEST,
    )


def _null_action() -> Message:
    proposed = _action_proposed()
    proposed.parse_error.CopyFrom(
        pb.ParseError(kind="bad_arguments", message="arguments are not valid JSON")
    )
    return proposed


def _trajectory_started() -> pb.TrajectoryStarted:
    return pb.TrajectoryStarted(
        task_id="data-filtering-dedup",
        task_title="Filter and deduplicate a pre-training corpus",
        task_description="Remove near-duplicates and low-quality documents from data/raw.",
        tools=[
            pb.ToolSpec(
                name="run_command",
                description="Run a shell command in a session.",
                parameters_json_schema='{"properties":{"command":{"type":"string"}},'
                '"required":["command"],"type":"object"}',
            )
        ],
        budgets=pb.Budgets(max_steps=4000, max_seconds=21600, max_evals=3),
        policy=SCRIPTED,
        summary_threshold_tokens=100000,
        context_window_tokens=128000,
        machines="one CPU machine, 16 cores, 64 GiB",
        started_by="alice",
        labels={"experiment": "human+filter"},
        prompt_template_version="researchgym-1",
        system_prompt="You are an interactive AI Innovator.",
        task_seed=1003,
        scripted_calls=[
            pb.ScriptedCall(name="run_command", arguments_json='{"command":"ls data/raw"}')
        ],
    )


def _imported_start() -> pb.TrajectoryStarted:
    started = _trajectory_started()
    started.labels["imported_from"] = "innovatorbench"
    started.prompt_template_version = "innovatorbench-react"
    return started


BODIES: dict[str, Callable[[], Message]] = {
    "trajectory_started": _trajectory_started,
    "action_proposed": _action_proposed,
    "action_proposed.null_action": _null_action,
    "observation_recorded": lambda: pb.ObservationRecorded(
        action_id=fixed_uuid7(T0, 902),
        step_index=41,
        tool_name="eval",
        success=True,
        message="Evaluation finished.",
        error_message="warning: 3 shards were empty",
        observation_json='{"evals_left":2,"message":"Evaluation finished.","score":47.5,'
        '"success":true}',
        truncated=True,
        full_output=BLOB,
        duration_ms=95_000,
        remaining=pb.BudgetRemaining(seconds=15_120, steps=3958, evals=2),
        eval_score=47.5,
    ),
    "guidance_submitted": lambda: pb.GuidanceSubmitted(
        annotator="alice",
        kind=pb.GUIDANCE_KIND_CORRECTION,
        text="Do not run this inference script. You have already run another training script.",
        flagged_step_indices=[39, 40],
        channel="web",
    ),
    "summary_requested": lambda: pb.SummaryRequested(
        step_index=120,
        prompt_tokens=100_412,
        threshold_tokens=100_000,
        first_step_index=31,
        last_step_index=75,
        previous_summary_id=fixed_uuid7(T0, 903),
    ),
    "context_summarized": lambda: pb.ContextSummarized(
        request_id=fixed_uuid7(T0, 904),
        summary="<state_snapshot><state_of_the_art>minhash dedup, 47.5</state_of_the_art>"
        "</state_snapshot>",
        first_step_index=31,
        last_step_index=75,
        action_count=45,
        model=MODEL,
        usage=USAGE,
        latency_ms=18_250,
        prompt_digest=DIGEST,
    ),
    "trajectory_ended": lambda: pb.TrajectoryEnded(
        reason=pb.END_REASON_TIME_BUDGET,
        final_score=52.0,
        best_score=55.5,
        steps=612,
        detail="time budget of 6 h used up",
    ),
    "trajectory_cancelled": lambda: pb.TrajectoryCancelled(
        requested_by="bob", reason="wrong task pack"
    ),
    "action_judged": lambda: pb.ActionJudged(
        action_id=fixed_uuid7(T0, 905),
        step_index=40,
        ruleset_version="sha256:" + "4c" * 32,
        verdict=pb.VERDICT_MASK,
        reasons=[
            pb.JudgeReason(
                rule_id="human-correction",
                detail="rejected by step 41",
                evidence_step_indices=[40, 41],
                quote="no, revert that edit",
            )
        ],
        judge_model=pb.ModelSpec(
            backend="anthropic",
            model="claude-judge",
            sampling=pb.SamplingParams(temperature=0.2, top_p=1.0, max_tokens=1024, seed=1),
        ),
    ),
    "dataset_built": lambda: pb.DatasetBuilt(
        dataset_id="ds-2026-01-15-a",
        ruleset_version="sha256:" + "4c" * 32,
        trajectory_ids=[TRAJECTORY_ID],
        react_samples=14,
        summary_samples=3,
        dropped_samples=1,
        format="slime",
        artifact=BLOB,
    ),
    "checkpoint_saved": lambda: pb.CheckpointSaved(
        checkpoint_id="ckpt-2026-01-15-a-0400",
        dataset_id="ds-2026-01-15-a",
        base_model="HuggingFaceTB/SmolLM2-135M-Instruct",
        uri="checkpoints/ckpt-2026-01-15-a-0400",
        optimizer_step=400,
        metrics={"loss": 0.8125},
    ),
    "evaluation_scored": lambda: pb.EvaluationScored(
        checkpoint_id="ckpt-2026-01-15-a-0400",
        task_id="data-filtering-dedup",
        evaluation_trajectory_id=fixed_uuid7(T0, 906),
        final_score=38.25,
        best_score=41.0,
        variant="human+filter",
    ),
    "trajectory_started.imported": _imported_start,
    "step_labeled": lambda: pb.StepLabeled(
        action_id=fixed_uuid7(T0, 907),
        step_index=40,
        label=pb.STEP_LABEL_MASK,
        annotator="alice",
        note="a second eval of the same unedited data",
    ),
}


def unset_fields(message: Message, prefix: str = "") -> list[str]:
    """Fields left at their default, at any depth; one member per oneof is enough."""
    missing = []
    for field in message.DESCRIPTOR.fields:
        oneof = field.containing_oneof
        if oneof is not None and message.WhichOneof(oneof.name) not in (None, field.name):
            continue
        name, value = prefix + field.name, getattr(message, field.name)
        if field.message_type is not None and not field.is_repeated:
            missing += unset_fields(value, name + ".") if message.HasField(field.name) else [name]
        elif field.message_type is not None and field.message_type.GetOptions().map_entry:
            missing += [] if value else [name]
        elif field.is_repeated and field.message_type is not None:
            missing += [m for item in value for m in unset_fields(item, name + "[].")] or (
                [] if value else [name]
            )
        elif not value and not (field.has_presence and message.HasField(field.name)):
            missing.append(name)
    return missing


def golden_event(name: str, position: int) -> pb.Event:
    """The golden event `name` (a body kind, with an optional ".variant"), every field set."""
    at = T0 + timedelta(minutes=position)
    occurred_at = Timestamp()
    occurred_at.FromDatetime(at)
    event = new_event(
        BODIES[name](),
        trajectory_id=TRAJECTORY_ID,
        service="golden",
        version="0.1.0",
        causation_id=fixed_uuid7(at, 1),
        event_id=fixed_uuid7(at, 2),
        occurred_at=occurred_at,
    )
    missing = unset_fields(event)
    # The body oneof holds exactly one family by design; everything else must be set.
    if missing:
        raise ValueError(f"golden {name} leaves fields unset: {missing}")
    return event


def write_missing(folder: Path) -> list[Path]:
    """Write the goldens `folder` lacks; return the existing ones that differ (left untouched)."""
    folder.mkdir(parents=True, exist_ok=True)
    differing = []
    for position, name in enumerate(BODIES):
        event = golden_event(name, position)
        for path, content in (
            (folder / f"{name}.bin", encode(event)),
            (folder / f"{name}.json", (to_json_line(event) + "\n").encode()),
        ):
            if not path.exists():
                path.write_bytes(content)
                print(f"wrote {path.name}")
            elif path.read_bytes() != content:
                differing.append(path)
    return differing


def main() -> int:
    """Add the missing goldens of the current version; never rewrite an existing one."""
    for path in write_missing(HERE / f"v{CURRENT_SCHEMA_VERSION}"):
        print(f"kept {path.name}: differs from this build, but goldens never change")
    return 0


if __name__ == "__main__":
    sys.exit(main())
