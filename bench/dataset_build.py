"""Dataset build tokens/s beside plain tokenization of the same texts, same tokenizer, same run."""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from pathlib import Path

from apollo.v1 import events_pb2 as pb
from bench._report import print_lines
from services.eventlog.archive import InMemoryArchive
from services.eventlog.events import new_event
from services.eventlog.topics import topic_for
from services.trainer.dataset_build import DatasetBuildConfig, build_dataset
from services.trainer.dataset_store import load_dataset_rows
from services.trainer.tokenization import load_sample_tokenizer
from services.trajectory import fold
from services.trajectory.prompt import render_next_prompt

TRAJECTORIES = 8
STEPS = 40
RULESET = "sha256:bench"
TARGET = 0.5


def _trajectory(seed: int) -> list[pb.Event]:
    """A scripted run of STEPS commands with sizeable outputs, every action judged keep."""
    started = pb.TrajectoryStarted(
        task_id="bench",
        task_description="Tune the model until the score stops improving.",
        tools=[
            pb.ToolSpec(
                name="run_command", description="Run a command.", parameters_json_schema="{}"
            )
        ],
        budgets=pb.Budgets(max_steps=STEPS, max_seconds=3600, max_evals=3),
        policy=pb.ModelSpec(backend="scripted", sampling=pb.SamplingParams(max_tokens=512)),
        prompt_template_version="v1",
    )
    events = [new_event(started, trajectory_id=f"bench-{seed}", service="bench")]
    for _ in range(STEPS):
        upcoming = render_next_prompt(fold(events))
        step = upcoming.step_index
        call = pb.ToolCall(
            call_id=f"c{step}",
            name="run_command",
            arguments_json=json.dumps({"command": f"python train.py --seed {seed} --step {step}"}),
        )
        action = new_event(
            pb.ActionProposed(
                step_index=step, tool_call=call, prompt_digest=upcoming.prompt.digest
            ),
            trajectory_id=f"bench-{seed}",
            service="bench",
        )
        output = "\n".join(
            f"epoch {i}: loss {1 / (i + step + 1):.5f} seed {seed}" for i in range(30)
        )
        observation = pb.ObservationRecorded(
            action_id=action.event_id,
            step_index=step,
            tool_name="run_command",
            success=True,
            observation_json=json.dumps({"success": True, "message": output, "error_message": ""}),
        )
        verdict = pb.ActionJudged(
            action_id=action.event_id,
            step_index=step,
            ruleset_version=RULESET,
            verdict=pb.VERDICT_KEEP,
        )
        events += [
            action,
            new_event(observation, trajectory_id=f"bench-{seed}", service="bench"),
            new_event(verdict, trajectory_id=f"bench-{seed}", service="bench"),
        ]
    return events


async def main() -> None:
    tokenizer = load_sample_tokenizer("local")
    archive = InMemoryArchive()
    for seed in range(TRAJECTORIES):
        await archive.append([(topic_for(e).name, e) for e in _trajectory(seed)])
    with tempfile.TemporaryDirectory() as root:
        began = time.perf_counter()
        outcome = await build_dataset(
            archive, DatasetBuildConfig(ruleset_version=RULESET), tokenizer, Path(root)
        )
        build_seconds = time.perf_counter() - began
        rows = load_dataset_rows(Path(root), outcome.manifest["dataset_id"])
    texts = [tokenizer.tokenizer.decode(row["input_ids"]) for row in rows]
    began = time.perf_counter()
    encoded = tokenizer.tokenizer(texts, add_special_tokens=False)
    plain_seconds = time.perf_counter() - began
    tokens = sum(len(ids) for ids in encoded["input_ids"])
    value, baseline = tokens / build_seconds, tokens / plain_seconds
    print_lines(
        [
            {
                "bench": "dataset_build",
                "metric": "tokens_per_s",
                "value": round(value),
                "baseline": round(baseline),
                "ratio": round(value / baseline, 3),
                "unit": "tokens/s",
                "target": TARGET,
                "samples": len(rows),
                "tokens": tokens,
            }
        ]
    )


if __name__ == "__main__":
    asyncio.run(main())
