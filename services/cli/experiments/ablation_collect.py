"""The ablation's collection: the teacher on every training instance, with and without the
annotator, through the running stack.

Both arms of one simulated-teacher instance get the same teacher seed, so they face the same
planned mistakes; what differs is only whether guidance arrives. A model teacher runs under
its own policy spec, with no teacher labels: its mistakes are its own. A rerun skips the runs
that ended, follows the ones a kill left running, and starts the rest.
"""

from __future__ import annotations

import asyncio
import hashlib

from rich.progress import Progress

from apollo.v1 import events_pb2 as pb
from services.cli.connection import Connection, archived_records
from services.cli.experiments.ablation_plan import AblationPlan, Arm, CollectionRun
from services.cli.run_commands import follow_steered
from services.cli.simulated_annotator import SimulatedAnnotator, hints_of
from services.eventlog.bus import KafkaBus
from services.tasks.packs import TaskCatalog
from services.tasks.starting import started_event
from services.tasks.teacher import TeacherConfig
from services.trajectory import Trajectory, fold

# Trajectories collected at once: the teacher is cheap, the sandbox's commands are not.
CONCURRENCY = 3


def teacher_seed(run: CollectionRun) -> int:
    """The seed of the teacher's mistakes on one instance, the same in both arms."""
    digest = hashlib.sha256(f"{run.family}:{run.seed}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def collection_started(plan: AblationPlan, run: CollectionRun) -> pb.Event:
    """The run's TrajectoryStarted, with its derived ids and the simulated teacher's labels."""
    labels = plan.labels(run)
    if plan.teacher.is_simulated:
        labels |= TeacherConfig(seed=teacher_seed(run), rate=plan.size.deviation_rate).labels()
    started = started_event(
        TaskCatalog().get(run.family),
        plan.teacher.policy,
        started_by="cli",
        service="cli",
        labels=labels,
        seed=run.seed,
        summary_threshold=plan.size.summary_threshold,
    )
    started.trajectory_id = plan.trajectory_id(run)
    started.event_id = plan.derived_id("collect", started.trajectory_id, "started")
    return started


class Collector:
    """Runs the collection of one plan on a running stack."""

    def __init__(
        self, plan: AblationPlan, connection: Connection, gateway_url: str, annotator_token: str
    ) -> None:
        self._plan = plan
        self._connection = connection
        self._gateway_url = gateway_url
        self._token = annotator_token

    async def collect(self, progress: Progress) -> list[Trajectory]:
        """Every collection run's ended trajectory, in plan order."""
        runs = self._plan.collection
        overall = progress.add_task("collecting", total=len(runs))
        slots = asyncio.Semaphore(CONCURRENCY)
        async with KafkaBus(self._connection.kafka, client_id="apollo-ablation") as bus:

            async def one(run: CollectionRun) -> Trajectory:
                async with slots:
                    ended = await self._collect_one(bus, run, progress)
                progress.advance(overall)
                return ended

            return list(await asyncio.gather(*(one(run) for run in runs)))

    async def _collect_one(
        self, bus: KafkaBus, run: CollectionRun, progress: Progress
    ) -> Trajectory:
        trajectory_id = self._plan.trajectory_id(run)
        records = await archived_records(self._connection.postgres_dsn, trajectory_id)
        archived = fold([record.event for record in records], trajectory_id)
        if archived.is_over:
            return archived
        if archived.started is None:
            await bus.publish(collection_started(self._plan, run))
        annotator = None
        if run.arm is Arm.GUIDED:
            hints = hints_of(TaskCatalog().get(run.family).root / "hints.md")
            annotator = SimulatedAnnotator(self._gateway_url, self._token, trajectory_id, hints)
        return await follow_steered(self._connection.kafka, trajectory_id, progress, annotator)
