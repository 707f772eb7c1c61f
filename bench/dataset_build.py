"""Dataset build tokens/s beside plain tokenization of the same texts, same tokenizer, same run."""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

from apollo.v1 import events_pb2 as pb
from bench._report import print_lines
from services.eventlog.archive import InMemoryArchive
from services.eventlog.events import new_event
from services.eventlog.topics import topic_for
from services.trainer.dataset_build import DatasetBuildConfig, build_dataset
from services.trainer.dataset_store import DATASETS_SUBDIR, load_dataset_rows
from services.trainer.tokenization import SampleTokenizer, load_sample_tokenizer
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


async def _build(archive: InMemoryArchive, tokenizer: SampleTokenizer, root: Path) -> float:
    """Seconds of one whole build into an empty artifacts root."""
    began = time.perf_counter()
    await build_dataset(archive, DatasetBuildConfig(ruleset_version=RULESET), tokenizer, root)
    return time.perf_counter() - began


def _plain(tokenizer: SampleTokenizer, texts: list[str]) -> float:
    """Seconds of tokenizing the samples' texts in one batch call, nothing else."""
    began = time.perf_counter()
    tokenizer.tokenizer(texts, add_special_tokens=False)
    return time.perf_counter() - began


def _built_rows(root: Path) -> list[dict]:
    """The rows of the one dataset built under `root`."""
    (dataset,) = (root / DATASETS_SUBDIR).iterdir()
    return load_dataset_rows(root, dataset.name)


async def main() -> None:
    """Build the dataset and tokenize its texts in turns, print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs per side; the median counts")
    args = parser.parse_args()
    tokenizer = load_sample_tokenizer("local")
    archive = InMemoryArchive()
    for seed in range(TRAJECTORIES):
        await archive.append([(topic_for(e).name, e) for e in _trajectory(seed)])
    builds, plains = [], []
    with tempfile.TemporaryDirectory() as name:
        # The first build goes first: the plain side tokenizes the texts of its samples.
        builds.append(await _build(archive, tokenizer, Path(name) / "build-0"))
        rows = _built_rows(Path(name) / "build-0")
        texts = [tokenizer.tokenizer.decode(row["input_ids"]) for row in rows]
        plains.append(_plain(tokenizer, texts))
        for attempt in range(1, args.repeat):
            # Taking turns at going first, so neither side always meets a warmer machine.
            if attempt % 2:
                plains.append(_plain(tokenizer, texts))
            builds.append(await _build(archive, tokenizer, Path(name) / f"build-{attempt}"))
            if not attempt % 2:
                plains.append(_plain(tokenizer, texts))
    tokens = sum(len(row["input_ids"]) for row in rows)
    value, baseline = tokens / statistics.median(builds), tokens / statistics.median(plains)
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
                # On a shared machine the fastest run of each side is the least disturbed one.
                "best_ratio": round(min(plains) / min(builds), 3),
            }
        ]
    )


if __name__ == "__main__":
    asyncio.run(main())
