"""The summarizer's loop: fold the log, answer each SummaryRequested with a ContextSummarized.

Like the policy it re-reads the whole log under a fresh group at every start, and derives
each answer's event_id from its request, so answering a request twice records it once.
"""

from __future__ import annotations

import asyncio
import time

import structlog

from apollo.v1 import events_pb2 as pb
from services.eventlog.events import new_event, new_event_id
from services.eventlog.subscription import BATCHED_FETCH_WAIT_MS, Bus, Delivery, Subscription
from services.eventlog.topics import TRAJECTORIES
from services.llm import backend_from_spec
from services.llm.backend_pool import BackendFactory, BackendPool, spec_string
from services.llm.port import BackendError, SamplingParams
from services.llm.scripted import REPLAYING_BACKENDS
from services.summarizer import metrics
from services.summarizer.handlers import ROUTES
from services.summarizer.settings import SummarizerSettings
from services.trajectory.derived_ids import derived_event_id
from services.trajectory.prompt import RenderError
from services.trajectory.snapshot import finished_snapshot
from services.trajectory.state import Trajectory
from services.trajectory.summary_prompt import render_summary_prompt, summary_span
from services.trajectory.tracker import TrajectoryTracker

log = structlog.get_logger(__name__)

SERVICE = "summarizer"


class SummarizerService:
    """Summarizes the span each pending SummaryRequested names."""

    def __init__(
        self, bus: Bus, settings: SummarizerSettings, factory: BackendFactory = backend_from_spec
    ) -> None:
        self._bus = bus
        self._settings = settings
        self._backends = BackendPool(settings.summarizer_concurrency, factory)
        self.tracker = TrajectoryTracker()
        self._running: dict[str, asyncio.Task[None]] = {}
        self.group = f"{settings.summarizer_group}.{new_event_id()}"

    async def start(self) -> None:
        """Subscribe from the beginning of the log under this process's own group."""
        await self._bus.subscribe(
            Subscription(
                "summarizer",
                (TRAJECTORIES.name,),
                self.group,
                self.on_delivery,
                fetch_wait_ms=BATCHED_FETCH_WAIT_MS,
            )
        )

    async def stop(self) -> None:
        """Abandon the summaries in flight; a restart answers them again under the same ids."""
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def on_delivery(self, delivery: Delivery) -> None:
        """The bus handler."""
        await ROUTES.route(self, delivery.event)

    def answer(self, trajectory_id: str, request: pb.Event) -> None:
        """Start answering a SummaryRequested unless its answer is already under way."""
        if request.event_id not in self._running:
            self._running[request.event_id] = asyncio.create_task(
                self._answer(trajectory_id, request), name=f"summary:{request.event_id}"
            )

    async def _answer(self, trajectory_id: str, request: pb.Event) -> None:
        try:
            state = self.tracker.get(trajectory_id)
            if state is not None:
                await self._summarize(state, request)
        # One trajectory's failure must not stop the others; its next event retries it.
        except Exception:
            log.exception("summary failed", trajectory_id=trajectory_id)
        finally:
            self._running.pop(request.event_id, None)

    async def _summarize(self, state: Trajectory, request: pb.Event) -> None:
        started = state.started.trajectory_started if state.started else None
        if started is None:
            return
        spec = self._settings.summarizer_backend or spec_string(started.policy)
        try:
            prompt = render_summary_prompt(state, request.summary_requested)
            span = summary_span(state, request.summary_requested)
        except RenderError as error:
            log.error("cannot summarize", trajectory_id=state.trajectory_id, error=str(error))
            return
        body = pb.ContextSummarized(
            request_id=request.event_id,
            first_step_index=span.first_step_index,
            last_step_index=span.last_step_index,
            action_count=span.action_count,
            prompt_digest=prompt.digest,
            # Replaced by the backend's spec when a model writes the summary.
            model=pb.ModelSpec(
                backend="log", model="built-snapshot", sampling=started.policy.sampling
            ),
        )
        answer = ""
        # A replaying backend cannot write prose: its snapshot is built from the log.
        if spec.partition(":")[0] not in REPLAYING_BACKENDS:
            answer = await self._call(spec, prompt, body)
            if answer is None:
                return
        body.summary = finished_snapshot(answer, state, span)
        source = "model" if "<state_snapshot>" in answer else "log"
        await self._bus.publish(
            new_event(
                body,
                trajectory_id=state.trajectory_id,
                service=SERVICE,
                causation_id=request.event_id,
                event_id=derived_event_id(request.occurred_at, request.event_id, "summarized"),
            )
        )
        metrics.SUMMARIES.labels(spec, source).inc()

    async def _call(self, spec: str, prompt, body: pb.ContextSummarized) -> str | None:
        try:
            lease = self._backends.lease(spec)
            async with lease.slots:
                started = time.perf_counter()
                reply = await lease.backend.complete(prompt)
                metrics.MODEL_SECONDS.labels(spec).observe(time.perf_counter() - started)
        except BackendError as error:
            metrics.BACKEND_ERRORS.labels(spec).inc()
            log.error("summarization call failed", spec=spec, error=str(error))
            return None
        body.model.CopyFrom(
            lease.backend.spec.to_proto(SamplingParams.from_proto(body.model.sampling))
        )
        body.usage.CopyFrom(reply.usage.to_proto())
        for kind, count in reply.usage.by_kind().items():
            metrics.MODEL_TOKENS.labels(spec, kind).inc(count)
        body.latency_ms = max(0, reply.latency_ms)
        return reply.text
