"""The gateway's commands: submit guidance, label a step, cancel, start; shared by HTTP
and gRPC."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from apollo.v1 import events_pb2 as pb
from services.eventlog.events import new_event
from services.eventlog.subscription import Bus
from services.gateway import metrics
from services.gateway.confirmation import ArchivedConfirmation
from services.gateway.live import LiveLog
from services.tasks.packs import TaskCatalog, TaskPackError
from services.tasks.starting import DEFAULT_SUMMARY_THRESHOLD, started_event
from services.trajectory import Trajectory
from services.trajectory.state import is_evaluation

SERVICE = "gateway"
MAX_GUIDANCE_CHARS = 20_000
MAX_FLAGGED_STEPS = 1_000
MAX_LABEL_NOTE_CHARS = 2_000
# The largest step index a uint32 field can carry.
MAX_STEP_INDEX = 2**32 - 1
GUIDANCE_KINDS: dict[str, int] = {
    "advice": pb.GUIDANCE_KIND_ADVICE,
    "knowledge": pb.GUIDANCE_KIND_KNOWLEDGE,
    "correction": pb.GUIDANCE_KIND_CORRECTION,
}
STEP_LABELS: dict[str, int] = {"keep": pb.STEP_LABEL_KEEP, "mask": pb.STEP_LABEL_MASK}
# Where guidance comes from: the web app, HTTP clients with a bearer token, gRPC.
GUIDANCE_CHANNELS = ("web", "api", "grpc")


class UnknownTrajectory(LookupError):
    """Neither the archive nor the live log knows this trajectory."""


class TrajectoryAlreadyEnded(RuntimeError):
    """The trajectory is over; guidance or a cancel would reach no one."""


class InvalidGuidance(ValueError):
    """Guidance that cannot be delivered as given."""


class UnknownStep(LookupError):
    """The trajectory has no action at this step."""


class UnknownTask(LookupError):
    """No task pack has this id."""


@dataclass(frozen=True)
class GuidanceRequest:
    """One guidance message (or a step flag) from one annotator through one channel."""

    trajectory_id: str
    annotator: str
    text: str
    kind: str
    flag_steps: tuple[int, ...]
    channel: str


@dataclass(frozen=True)
class LabelRequest:
    """One annotator's keep/mask label of one step, with an optional note."""

    trajectory_id: str
    annotator: str
    step_index: int
    label: str
    note: str = ""


@dataclass(frozen=True)
class StartRequest:
    """A trajectory to start: the task, the policy spec, who asks, and optional overrides."""

    task_id: str
    policy: str
    started_by: str
    budgets: pb.Budgets | None = None
    summary_threshold: int = DEFAULT_SUMMARY_THRESHOLD
    labels: Mapping[str, str] = field(default_factory=dict)
    # The task family's instance.
    task_seed: int = 0


def check_guidance(text: str, kind: str, flag_steps: Sequence[int]) -> None:
    """Raise `InvalidGuidance` with a message the annotator can act on."""
    if kind not in GUIDANCE_KINDS:
        raise InvalidGuidance(f"kind {kind!r} is not one of {', '.join(GUIDANCE_KINDS)}")
    if not text.strip() and not flag_steps:
        raise InvalidGuidance("write some guidance text or flag at least one step")
    if len(text) > MAX_GUIDANCE_CHARS:
        raise InvalidGuidance(f"guidance text is over {MAX_GUIDANCE_CHARS:,} characters")
    if len(flag_steps) > MAX_FLAGGED_STEPS:
        raise InvalidGuidance(f"flag at most {MAX_FLAGGED_STEPS} steps at once")
    if any(not 0 <= step <= MAX_STEP_INDEX for step in flag_steps):
        raise InvalidGuidance("flagged steps are step indices: whole numbers from 0")


def guidance_body(request: GuidanceRequest) -> pb.GuidanceSubmitted:
    """The event body of a checked request."""
    check_guidance(request.text, request.kind, request.flag_steps)
    return pb.GuidanceSubmitted(
        annotator=request.annotator,
        kind=GUIDANCE_KINDS[request.kind],
        text=request.text,
        flagged_step_indices=sorted(set(request.flag_steps)),
        channel=request.channel,
    )


class Control:
    """Turns annotators' commands into events on the log, after checking they make sense."""

    def __init__(
        self,
        bus: Bus,
        live: LiveLog,
        tasks: TaskCatalog,
        confirmation: ArchivedConfirmation | None = None,
    ) -> None:
        self._bus = bus
        self._live = live
        self._tasks = tasks
        # Without one (tests with no recorder), a command is answered once the broker has it.
        self._confirmation = confirmation
        # Each counter series starts at zero, so rate() counts its first message too.
        for kind in GUIDANCE_KINDS:
            for source in GUIDANCE_CHANNELS:
                metrics.GUIDANCE_SUBMITTED.labels(kind, source)
        for label in STEP_LABELS:
            metrics.STEP_LABELS.labels(label)

    async def running(self, trajectory_id: str) -> Trajectory:
        """The trajectory's state; raises if it is unknown or already over."""
        state = await self._live.state(trajectory_id)
        if state is None:
            raise UnknownTrajectory(f"no trajectory {trajectory_id!r}")
        if state.is_over:
            raise TrajectoryAlreadyEnded(f"trajectory {trajectory_id!r} has already ended")
        return state

    async def submit_guidance(self, request: GuidanceRequest) -> str:
        """Publish GuidanceSubmitted; return its event_id."""
        body = guidance_body(request)
        state = await self.running(request.trajectory_id)
        if state.started is not None and is_evaluation(state.started.trajectory_started):
            raise InvalidGuidance(
                f"trajectory {request.trajectory_id!r} evaluates a checkpoint and takes no "
                "guidance; guide a training run instead"
            )
        event = new_event(body, trajectory_id=request.trajectory_id, service=SERVICE)
        await self._publish(event)
        metrics.GUIDANCE_SUBMITTED.labels(request.kind, request.channel).inc()
        waited = self._live.answer_flag(request.trajectory_id)
        if waited is not None:
            metrics.ATTENTION_RESPONSE_SECONDS.observe(waited)
        return event.event_id

    async def label_step(self, request: LabelRequest) -> str:
        """Publish StepLabeled about the step's newest action; return its event_id.

        Ended trajectories can be labelled too: that is where the judge is calibrated.
        """
        state = await self._live.state(request.trajectory_id)
        if state is None:
            raise UnknownTrajectory(f"no trajectory {request.trajectory_id!r}")
        # A retried step has several actions; the newest is the one the run went on with.
        actions = [step.action_id for step in state.steps if step.index == request.step_index]
        if not actions:
            raise UnknownStep(
                f"trajectory {request.trajectory_id!r} has no action at step {request.step_index}"
            )
        body = pb.StepLabeled(
            action_id=actions[-1],
            step_index=request.step_index,
            label=STEP_LABELS[request.label],
            annotator=request.annotator,
            note=request.note,
        )
        event = new_event(body, trajectory_id=request.trajectory_id, service=SERVICE)
        await self._publish(event)
        metrics.STEP_LABELS.labels(request.label).inc()
        return event.event_id

    async def cancel(self, trajectory_id: str, requested_by: str, reason: str) -> str:
        """Publish TrajectoryCancelled; return its event_id."""
        await self.running(trajectory_id)
        body = pb.TrajectoryCancelled(requested_by=requested_by, reason=reason)
        event = new_event(body, trajectory_id=trajectory_id, service=SERVICE)
        await self._publish(event)
        return event.event_id

    async def start(self, request: StartRequest) -> str:
        """Publish TrajectoryStarted; return the new trajectory's id.

        Raises `UnknownTask`, or `BadPolicy` for a policy spec no backend answers to.
        """
        try:
            pack = self._tasks.get(request.task_id)
        except TaskPackError as error:
            raise UnknownTask(str(error)) from error
        event = started_event(
            pack,
            request.policy,
            started_by=request.started_by,
            service=SERVICE,
            budgets=request.budgets,
            summary_threshold=request.summary_threshold,
            labels=request.labels,
            seed=request.task_seed,
        )
        await self._publish(event)
        return event.trajectory_id

    async def _publish(self, event: pb.Event) -> None:
        await self._bus.publish(event)
        if self._confirmation is not None:
            await self._confirmation.wait(event.event_id)
