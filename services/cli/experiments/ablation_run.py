"""The ablation end to end on a running stack: collect, judge, build, train, evaluate, report.

Every stage is resumable on its own terms: collection skips ended runs and follows running
ones; judging and dataset builds are idempotent; a training run resumes from its last
checkpoint or finds itself finished; an evaluation run already scored is not run again.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

from apollo.v1 import events_pb2 as pb
from services.cli.connection import Connection, archived_end
from services.cli.dataset_commands import built_or_exit
from services.cli.eval_commands import EvaluationRequest, evaluate_checkpoint, evaluation_scores
from services.cli.experiments.ablation_collect import Collector
from services.cli.experiments.ablation_facts import (
    annotator_facts,
    dataset_facts,
    judge_agreement,
    null_action_rate,
    teacher_deviations,
)
from services.cli.experiments.ablation_plan import (
    ARM_LABEL,
    EXPERIMENT_LABEL,
    FULL,
    VARIANTS,
    AblationPlan,
    Arm,
    Variant,
)
from services.cli.experiments.ablation_plot import draw_scores
from services.cli.experiments.ablation_report import markdown_report
from services.cli.experiments.ablation_results import (
    UNTRAINED_VARIANT,
    AblationResults,
    DatasetFacts,
    StudentScores,
)
from services.cli.judge_commands import Limits, rejudge_archive
from services.cli.stages import Stages
from services.cli.train_commands import trained_or_exit
from services.eventlog.pg_archive import PgArchive
from services.eventlog.verdict_model import VerdictRow
from services.judge.agreement import Agreement
from services.judge.rejudge import Selection
from services.judge.ruleset import shipped_ruleset
from services.trainer.dataset_build import DatasetBuildConfig
from services.trainer.evaluation import UNTRAINED, plan_runs
from services.trainer.selection import TrajectorySelection
from services.trainer.tokenization import LOCAL_TOKENIZER
from services.trainer.training_config import TrainingRecipe
from services.trajectory import Trajectory, fold

FILTER_RULESET = "default"
NO_FILTER_RULESET = "unfiltered"
LOCAL_STUDENT = "local"


@dataclass(frozen=True)
class Student:
    """One trained checkpoint of a variant."""

    variant: Variant
    repeat: int
    checkpoint_id: str


class Ablation:
    """One plan, run stage by stage against a running stack."""

    def __init__(
        self,
        plan: AblationPlan,
        connection: Connection,
        gateway_url: str,
        token: str,
        student: str = LOCAL_STUDENT,
    ) -> None:
        self.plan = plan
        self.student = student
        self._connection = connection
        self._gateway_url = gateway_url
        self._token = token
        self._filter = shipped_ruleset(FILTER_RULESET)
        self._no_filter = shipped_ruleset(NO_FILTER_RULESET)

    def collect(self, console: Console) -> list[Trajectory]:
        """The teacher on every training instance in both arms (the archive holds their ends)."""
        columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                   MofNCompleteColumn())  # fmt: skip
        collector = Collector(self.plan, self._connection, self._gateway_url, self._token)
        with Progress(*columns, console=console, transient=True) as progress:
            collected = asyncio.run(collector.collect(progress))
        for trajectory in collected:
            asyncio.run(archived_end(self._connection.postgres_dsn, trajectory.trajectory_id))
        return collected

    def judge(self) -> None:
        """Judge the collected trajectories with the filter and with the keep-all ruleset."""
        selection = Selection(labels={EXPERIMENT_LABEL: self.plan.experiment})
        for ruleset in (self._filter, self._no_filter):
            asyncio.run(rejudge_archive(self._connection, ruleset, selection, Limits(), quiet=True))

    def build(self, variant: Variant) -> dict:
        """The variant's dataset (built once): its manifest."""
        config = DatasetBuildConfig(
            ruleset_version=self.ruleset_version(variant),
            selection=TrajectorySelection(
                labels={EXPERIMENT_LABEL: self.plan.experiment, ARM_LABEL: str(variant.arm)}
            ),
            max_tokens=self.plan.size.max_tokens,
        )
        return built_or_exit(self._connection, config, LOCAL_TOKENIZER, quiet=True).manifest

    def train(self, variant: Variant, dataset_id: str, repeat: int, console: Console) -> Student:
        """One repeat of the student on the variant's dataset (resumed or found if done)."""
        recipe = TrainingRecipe(
            max_steps=self.plan.size.train_steps,
            per_device_batch=1,
            grad_accum=1,
            save_steps=self.plan.size.train_steps,
            activation_checkpointing=False,
            seed=repeat,
        )
        trained = trained_or_exit(dataset_id, self.student, recipe, None, console)
        if trained is None:  # only the other processes of a distributed run get None
            raise RuntimeError("the ablation trains in one process")
        return Student(variant, repeat, trained[0].body.checkpoint_id)

    def evaluate(self, checkpoint_id: str, variant: str) -> list[pb.EvaluationScored]:
        """The checkpoint on every held-out instance, unguided: its scores there."""
        families = tuple(sorted({family for family, _ in self.plan.heldout}))
        request = EvaluationRequest(
            checkpoint_id,
            families,
            seeds=self.plan.size.heldout_seeds,
            max_steps=self.plan.size.eval_max_steps,
            variant=variant,
        )
        evaluated, _ = evaluate_checkpoint(self._connection, request, quiet=True)
        runs = plan_runs(evaluated, families, self.plan.size.heldout_seeds)
        planned = {run.trajectory_id for run in runs}
        return [
            score
            for score in evaluation_scores(self._connection, evaluated)
            if score.evaluation_trajectory_id in planned
        ]

    def verdict_rows(self, version: str, trajectory_ids: Sequence[str]) -> list[VerdictRow]:
        """A ruleset version's verdict rows on the trajectories."""
        return asyncio.run(_verdict_rows(self._connection.postgres_dsn, version, trajectory_ids))

    def attention(self) -> dict[str, float]:
        """Attention seconds the gateway recorded, by trajectory (every annotator's summed)."""
        headers = {"Authorization": f"Bearer {self._token}"}
        reply = httpx.get(f"{self._gateway_url}/api/attention", headers=headers, timeout=30)
        reply.raise_for_status()
        totals: dict[str, float] = {}
        for row in reply.json():
            totals[row["trajectory_id"]] = totals.get(row["trajectory_id"], 0.0) + row["seconds"]
        return totals

    def ruleset_version(self, variant: Variant) -> str:
        """The version whose verdicts a variant's dataset trains by."""
        return (self._filter if variant.filtered else self._no_filter).version

    def trajectories(self, trajectory_ids: Sequence[str]) -> list[Trajectory]:
        """The archived trajectories, folded."""
        return asyncio.run(_folded(self._connection.postgres_dsn, trajectory_ids))


async def _verdict_rows(dsn: str, version: str, trajectory_ids: Sequence[str]) -> list[VerdictRow]:
    archive = await PgArchive.connect(dsn)
    try:
        return await archive.verdicts(version, trajectory_ids)
    finally:
        await archive.close()


async def _folded(dsn: str, trajectory_ids: Sequence[str]) -> list[Trajectory]:
    archive = await PgArchive.connect(dsn)
    try:
        logs = await archive.logs(trajectory_ids)
    finally:
        await archive.close()
    return [
        fold([record.event for record in logs.get(trajectory_id, [])], trajectory_id)
        for trajectory_id in trajectory_ids
    ]


def run_ablation(ablation: Ablation, stages: Stages, console: Console) -> AblationResults:
    """Every stage of the ablation, each announced and timed by `stages`: what it measured."""
    plan = ablation.plan
    teacher = plan.teacher.described(plan.size.deviation_rate)
    collecting = f"{len(plan.collection)} runs of the teacher {teacher}, guided and unguided"
    with stages.stage("collect", collecting):
        collected = ablation.collect(console)
    with stages.stage("judge", f"rulesets {FILTER_RULESET} and {NO_FILTER_RULESET}"):
        ablation.judge()
    by_arm = {arm: [t for t in collected if t.started.trajectory_started.labels[ARM_LABEL] == arm]
              for arm in Arm}  # fmt: skip
    datasets: list[DatasetFacts] = []
    with stages.stage("datasets", "the four datasets of the 2x2"):
        for variant in VARIANTS:
            manifest = ablation.build(variant)
            arm = by_arm[variant.arm]
            rows = ablation.verdict_rows(
                ablation.ruleset_version(variant), [t.trajectory_id for t in arm]
            )
            datasets.append(dataset_facts(variant.name, manifest, arm, rows))
    students: list[Student] = []
    with stages.stage("train", f"{len(VARIANTS)} variants x {plan.size.repeats} repeats"):
        for facts, variant in zip(datasets, VARIANTS, strict=True):
            for repeat in range(plan.size.repeats):
                students.append(ablation.train(variant, facts.dataset_id, repeat, console))
    with stages.stage("evaluate", f"{len(students) + 1} students on {len(plan.heldout)} instances"):
        scores = _student_scores(ablation, students)
    # Only the simulated teacher's deviations are known: a model's mistakes are its own.
    agreement: tuple[Agreement, ...] | None = None
    by_mistake: dict[str, float] | None = None
    if plan.teacher.is_simulated:
        rows = ablation.verdict_rows(
            ablation.ruleset_version(FULL), [t.trajectory_id for t in collected]
        )
        agreement, by_mistake = judge_agreement(rows, teacher_deviations(collected))
    return AblationResults(
        experiment=plan.experiment,
        size=plan.size.name,
        teacher=teacher,
        simulated_teacher=plan.teacher.is_simulated,
        student_model=_student_name(ablation.student),
        heldout=tuple(f"{family}#{seed}" for family, seed in plan.heldout),
        students=tuple(scores),
        datasets=tuple(datasets),
        judge=agreement,
        judge_recall_by_mistake=by_mistake,
        annotator=annotator_facts(by_arm[Arm.GUIDED], ablation.attention()),
    )


def _student_name(student: str) -> str:
    return "SmolLM2-135M-Instruct (the local model)" if student == LOCAL_STUDENT else student


def _student_scores(ablation: Ablation, students: Sequence[Student]) -> list[StudentScores]:
    by_variant: dict[str, list[str]] = {}
    for student in students:
        by_variant.setdefault(student.variant.name, []).append(student.checkpoint_id)
    by_variant[UNTRAINED_VARIANT] = [UNTRAINED]
    result = []
    for variant, checkpoint_ids in by_variant.items():
        finals, bests, runs = [], [], []
        for checkpoint_id in checkpoint_ids:
            scores = ablation.evaluate(checkpoint_id, variant)
            finals.append(sum(s.final_score for s in scores) / len(scores))
            bests.append(sum(s.best_score for s in scores) / len(scores))
            runs += [s.evaluation_trajectory_id for s in scores]
        rate = null_action_rate(ablation.trajectories(runs))
        result.append(
            StudentScores(variant, tuple(checkpoint_ids), tuple(finals), tuple(bests), rate)
        )
    return result


def write_report(results: AblationResults, directory: Path) -> Path:
    """report.md, results.json and scores.png into `directory`: the report's path."""
    directory.mkdir(parents=True, exist_ok=True)
    draw_scores(results, directory / "scores.png")
    (directory / "results.json").write_text(json.dumps(results.as_json(), indent=2) + "\n")
    report = directory / "report.md"
    report.write_text(markdown_report(results, "scores.png") + "\n")
    return report
