"""Write the sample trajectory (an `apollo export` file): `python tests/golden/make_sample.py`.

Every id, timestamp and digest is derived from fixed inputs, so the file is the same
on every run; a test checks that the committed file is exactly what this writes.
"""

from __future__ import annotations

import hashlib
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from apollo.v1 import events_pb2 as pb
from services.eventlog.events import new_event
from services.eventlog.jsonl import to_json_line
from services.trajectory.canonical import canonical_json

SAMPLE = Path(__file__).resolve().parents[2] / "services" / "cli" / "samples"
SAMPLE_FILE = SAMPLE / "sample_trajectory.jsonl"
T0 = datetime(2026, 1, 12, 10, 0, 0, tzinfo=UTC)
BUDGETS = pb.Budgets(max_steps=4000, max_seconds=6 * 3600, max_evals=3)
POLICY = pb.ModelSpec(
    backend="local",
    model="SmolLM2-135M-Instruct",
    sampling=pb.SamplingParams(temperature=1.0, top_p=1.0, max_tokens=8192, seed=0),
)
GUIDANCE = "Do not run this inference script. You have already run another training script."
TASK = """\
Motivation: a small model is only as good as its pre-training data.
Task: filter the web-crawl corpus in data/raw/ (2.1 M documents, JSON lines) into
data/filtered/ so that a 135M-parameter model trained on it scores well.
Data: data/raw/*.jsonl; a 5,000-document labelled quality sample in data/labels.jsonl.
Constraints: keep at least 30% of the tokens; no external data.
Evaluation: `eval` trains a reference model on data/filtered/ and scores it on a hidden
benchmark (0-100; the unfiltered baseline scores about 0, the reference solution 80)."""


def fixed_uuid7(at: datetime, sequence: int) -> str:
    """A valid UUIDv7 made only of `at` (ms) and `sequence`, so reruns give the same ids."""
    millis = int(at.timestamp() * 1000)
    value = (millis << 80) | (0x7 << 76) | (0b10 << 62) | sequence
    return str(uuid.UUID(int=value))


TRAJECTORY_ID = fixed_uuid7(T0, 0)


def _tool(name: str, description: str, properties: dict, required: list[str]) -> pb.ToolSpec:
    schema = {"properties": properties, "required": required, "type": "object"}
    return pb.ToolSpec(
        name=name, description=description, parameters_json_schema=canonical_json(schema)
    )


TOOLS = [
    _tool(
        "run_command",
        "Run a shell command in a session; blocking runs wait at most 10 s.",
        {
            "command": {"type": "string"},
            "session": {"type": "string"},
            "wait_for_completion": {"type": "boolean"},
        },
        ["command", "session"],
    ),
    _tool(
        "open_file",
        "Show a file around a line.",
        {"path": {"type": "string"}, "line": {"type": "integer"}, "context": {"type": "integer"}},
        ["path"],
    ),
    _tool(
        "edit_file",
        "Replace lines start..end (inclusive) of a file with new content.",
        {
            "path": {"type": "string"},
            "start": {"type": "integer"},
            "end": {"type": "integer"},
            "content": {"type": "string"},
        },
        ["path", "start", "end", "content"],
    ),
    _tool("eval", "Grade the current outputs; returns the score and evals left.", {}, []),
    _tool("finish", "End the task.", {"summary": {"type": "string"}}, ["summary"]),
]


class ScriptedStep(NamedTuple):
    """One step of the sample: the agent's call and what the sandbox answered."""

    minute: int  # when the observation is recorded, in minutes after the start
    thought: str
    tool: str
    arguments: dict
    message: str
    output: str = ""
    eval_score: float | None = None


STEPS = [
    ScriptedStep(
        1,
        "Look at the workspace first.",
        "run_command",
        {"command": "ls data scripts", "session": "main", "wait_for_completion": True},
        "Command finished.",
        "data:\nlabels.jsonl\nraw\n\nscripts:\nfilter.py\nrun_inference.py\n"
        "train_quality_classifier.py\n",
    ),
    ScriptedStep(
        2,
        "Read the filter to see what is missing.",
        "open_file",
        {"path": "scripts/filter.py", "line": 1, "context": 40},
        "Opened scripts/filter.py.",
        "1 import json\n...\n27 def keep(doc, score):\n"
        "28     # TODO: decide from the quality score\n29     return True\n",
    ),
    ScriptedStep(
        4,
        "Train the quality classifier on the labelled sample in the background.",
        "run_command",
        {
            "command": "python scripts/train_quality_classifier.py --out models/quality.bin",
            "session": "train",
            "wait_for_completion": False,
        },
        "Command started in session train.",
        "epoch 1/3 ...",
    ),
    ScriptedStep(
        5,
        "Score the raw corpus with the inference script meanwhile.",
        "run_command",
        {
            "command": "python scripts/run_inference.py --model models/quality.bin data/raw",
            "session": "infer",
            "wait_for_completion": False,
        },
        "Command started in session infer.",
        "loading models/quality.bin ...",
    ),
    ScriptedStep(
        7,
        "The human is right: stop the inference run and let training finish.",
        "run_command",
        {"command": "pkill -f run_inference.py", "session": "infer", "wait_for_completion": True},
        "Command finished.",
    ),
    ScriptedStep(
        21,
        "Training finished; keep documents whose quality score is at least 0.6.",
        "edit_file",
        {
            "path": "scripts/filter.py",
            "start": 28,
            "end": 29,
            "content": "    return score >= 0.6\n",
        },
        "Edited scripts/filter.py lines 28-29.",
    ),
    ScriptedStep(
        34,
        "Filtered set written; grade it.",
        "eval",
        {},
        "Evaluation finished.",
        "score 61.5 (2 evals left)",
        eval_score=61.5,
    ),
    ScriptedStep(
        36,
        "Good enough with the budget left; stop here.",
        "finish",
        {"summary": "Trained the quality classifier and kept documents scoring >= 0.6."},
        "Task finished.",
    ),
]
# The step the annotator corrects while it is being started.
CORRECTED_STEP = 3
FINAL_SCORE = 63.0


def _event(body: Message, minutes: float, sequence: int, service: str, cause: str = "") -> pb.Event:
    at = T0 + timedelta(minutes=minutes)
    occurred_at = Timestamp()
    occurred_at.FromDatetime(at)
    return new_event(
        body,
        trajectory_id=TRAJECTORY_ID,
        service=service,
        causation_id=cause,
        event_id=fixed_uuid7(at, sequence),
        occurred_at=occurred_at,
    )


def _started() -> pb.Event:
    body = pb.TrajectoryStarted(
        task_id="data-filtering-quality",
        task_title="Filter a web corpus for pre-training quality",
        task_description=TASK,
        tools=TOOLS,
        budgets=BUDGETS,
        policy=POLICY,
        summary_threshold_tokens=6144,
        context_window_tokens=8192,
        machines="One CPU machine: 16 cores, 64 GiB memory, no GPU.",
        started_by="cli",
        labels={"origin": "built-in sample"},
        prompt_template_version="researchgym-1",
    )
    return _event(body, 0, 1, "gateway")


def _action(index: int, step: ScriptedStep, cause: str, delivered: list[str]) -> pb.Event:
    body = pb.ActionProposed(
        step_index=index,
        model=POLICY,
        assistant_text=step.thought,
        tool_call=pb.ToolCall(
            call_id=f"call_{index:04d}",
            name=step.tool,
            arguments_json=canonical_json(step.arguments),
        ),
        usage=pb.TokenUsage(prompt_tokens=1450 + 310 * index, completion_tokens=60 + 7 * index),
        latency_ms=2100 + 90 * index,
        delivered_guidance_ids=delivered,
        prompt_digest="sha256:" + hashlib.sha256(f"sample step {index}".encode()).hexdigest(),
    )
    return _event(body, step.minute - 0.5, 2, "policy", cause)


def _observation(action: pb.Event, step: ScriptedStep, evals_used: int) -> pb.Event:
    index = action.action_proposed.step_index
    result = {"message": step.message, "output": step.output, "success": True}
    if step.eval_score is not None:
        result |= {"evals_left": BUDGETS.max_evals - evals_used, "score": step.eval_score}
    body = pb.ObservationRecorded(
        action_id=action.event_id,
        step_index=index,
        tool_name=step.tool,
        success=True,
        message=step.message,
        observation_json=canonical_json(result),
        duration_ms=800 + 150 * index,
        remaining=pb.BudgetRemaining(
            seconds=BUDGETS.max_seconds - step.minute * 60,
            steps=BUDGETS.max_steps - index - 1,
            evals=BUDGETS.max_evals - evals_used,
        ),
        eval_score=step.eval_score,
    )
    return _event(body, step.minute, 3, "sandbox", action.event_id)


def _correction(step: ScriptedStep) -> pb.Event:
    body = pb.GuidanceSubmitted(
        annotator="alice",
        kind=pb.GUIDANCE_KIND_CORRECTION,
        text=GUIDANCE,
        flagged_step_indices=[CORRECTED_STEP],
        channel="web",
    )
    return _event(body, step.minute - 0.25, 4, "gateway")


def sample_events() -> list[pb.Event]:
    """The sample trajectory, in log order."""
    events = [_started()]
    evals_used, delivered = 0, []
    for index, step in enumerate(STEPS):
        action = _action(index, step, events[-1].event_id, delivered)
        events.append(action)
        delivered = []
        if index == CORRECTED_STEP:
            events.append(_correction(step))
            delivered = [events[-1].event_id]  # it enters the next prompt
        evals_used += step.tool == "eval"
        events.append(_observation(action, step, evals_used))
    ended = pb.TrajectoryEnded(
        reason=pb.END_REASON_FINISHED,
        final_score=FINAL_SCORE,
        best_score=max(FINAL_SCORE, *(s.eval_score for s in STEPS if s.eval_score is not None)),
        steps=len(STEPS),
        detail=f"finish called; the forced final evaluation scored {FINAL_SCORE}",
    )
    # The forced final evaluation takes a few minutes after `finish`.
    events.append(_event(ended, STEPS[-1].minute + 3, 5, "sandbox", events[-1].event_id))
    return events


def sample_text() -> str:
    """The file's content: one `to_json_line` per event."""
    return "".join(to_json_line(event) + "\n" for event in sample_events())


def main() -> int:
    """(Re)write the sample file."""
    SAMPLE_FILE.write_text(sample_text(), encoding="utf-8")
    print(f"wrote {len(sample_events())} events to {SAMPLE_FILE.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
