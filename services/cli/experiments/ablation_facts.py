"""The ablation's measured facts, from what the archive and the datasets hold."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from services.cli.experiments.ablation_results import AnnotatorFacts, DatasetFacts
from services.eventlog.verdict_model import VerdictRow
from services.judge.agreement import Agreement, against_deviations, recall_by_kind
from services.tasks.teacher import deviations
from services.trajectory import Trajectory


def dataset_facts(
    variant: str,
    manifest: dict,
    trajectories: Sequence[Trajectory],
    verdicts: Sequence[VerdictRow],
) -> DatasetFacts:
    """One variant's dataset (its manifest), the trajectories it was built from and its
    ruleset's verdicts on them."""
    counts = manifest["counts"]
    scores = [t.final_score if t.final_score is not None else 0.0 for t in trajectories]
    return DatasetFacts(
        variant=variant,
        dataset_id=manifest["dataset_id"],
        ruleset_version=manifest["ruleset_version"],
        trajectory_ids=tuple(t.trajectory_id for t in trajectories),
        samples=counts["react_samples"] + counts["summary_samples"],
        trained_turns=counts["trained_turns"],
        masked_turns=counts["masked_turns"],
        actions=len(verdicts),
        masked_actions=sum(row.masked for row in verdicts),
        steps=sum(len(t.steps) for t in trajectories),
        guidance=sum(len(t.guidance) for t in trajectories),
        mean_collection_score=sum(scores) / len(scores) if scores else 0.0,
    )


def teacher_deviations(trajectories: Sequence[Trajectory]) -> dict[str, dict[int, str]]:
    """The steps each teacher trajectory got wrong on purpose, with the mistake, by id."""
    return {
        t.trajectory_id: {step: str(kind) for step, kind in deviations(t).items()}
        for t in trajectories
    }


def judge_agreement(
    rows: Sequence[VerdictRow], deviant: Mapping[str, Mapping[int, str]]
) -> tuple[tuple[Agreement, ...], dict[str, float]]:
    """The ruleset's masks against the teacher's deviations: overall and per rule, and the
    share of each kind of mistake it masks."""
    steps = {trajectory_id: set(kinds) for trajectory_id, kinds in deviant.items()}
    return tuple(against_deviations(rows, steps)), recall_by_kind(rows, deviant)


def annotator_facts(guided: Sequence[Trajectory], attention: Mapping[str, float]) -> AnnotatorFacts:
    """Guidance in the guided arm, how long after the last recorded step each came, and the
    attention seconds the gateway recorded on each trajectory (by trajectory id)."""
    response = []
    for trajectory in guided:
        for guidance in trajectory.guidance:
            before = [
                step.action.occurred_at.ToDatetime()
                for step in trajectory.steps
                if step.action.occurred_at.ToDatetime() <= guidance.occurred_at.ToDatetime()
            ]
            if before:
                gap = guidance.occurred_at.ToDatetime() - max(before)
                response.append(gap.total_seconds())
    return AnnotatorFacts(
        guided_trajectories=len(guided),
        guidance=sum(len(t.guidance) for t in guided),
        response_seconds=tuple(response),
        attention_seconds=tuple(attention.get(t.trajectory_id, 0.0) for t in guided),
    )


def null_action_rate(trajectories: Sequence[Trajectory]) -> float:
    """Share of steps whose model answer yielded no valid tool call."""
    steps = [step for t in trajectories for step in t.steps]
    return sum(step.is_null_action for step in steps) / len(steps) if steps else 0.0
