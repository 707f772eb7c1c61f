"""The gRPC ControlService over the gateway's commands, with auth and standard health checks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from apollo.v1 import control_pb2 as cpb
from apollo.v1 import control_pb2_grpc
from apollo.v1 import events_pb2 as pb
from services.eventlog.archive import TrajectoryRow
from services.gateway.confirmation import NotArchivedYet
from services.gateway.control import (
    GuidanceRequest,
    InvalidGuidance,
    StartRequest,
    TrajectoryAlreadyEnded,
    UnknownTask,
    UnknownTrajectory,
)
from services.gateway.grpc_auth import CURRENT_TOKEN, CURRENT_USER, AuthInterceptor
from services.tasks.starting import DEFAULT_SUMMARY_THRESHOLD, BadPolicy
from services.trajectory import TrajectoryStatus

if TYPE_CHECKING:
    from services.gateway.app import Gateway

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000
STATUS_BY_NAME = {
    TrajectoryStatus.RUNNING: cpb.TRAJECTORY_STATUS_RUNNING,
    TrajectoryStatus.FINISHED: cpb.TRAJECTORY_STATUS_FINISHED,
    TrajectoryStatus.FAILED: cpb.TRAJECTORY_STATUS_FAILED,
    TrajectoryStatus.CANCELLED: cpb.TRAJECTORY_STATUS_CANCELLED,
}
NAME_BY_STATUS = {code: name for name, code in STATUS_BY_NAME.items()}
KIND_BY_ENUM = {
    pb.GUIDANCE_KIND_ADVICE: "advice",
    pb.GUIDANCE_KIND_KNOWLEDGE: "knowledge",
    pb.GUIDANCE_KIND_CORRECTION: "correction",
}
_CODES: dict[type[Exception], grpc.StatusCode] = {
    UnknownTrajectory: grpc.StatusCode.NOT_FOUND,
    TrajectoryAlreadyEnded: grpc.StatusCode.FAILED_PRECONDITION,
    InvalidGuidance: grpc.StatusCode.INVALID_ARGUMENT,
    UnknownTask: grpc.StatusCode.NOT_FOUND,
    BadPolicy: grpc.StatusCode.INVALID_ARGUMENT,
    NotArchivedYet: grpc.StatusCode.UNAVAILABLE,
}


def _timestamp(value) -> Timestamp | None:
    if value is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def summary_proto(row: TrajectoryRow, needs_attention: bool) -> cpb.TrajectorySummary:
    """A list row as the proto message."""
    message = cpb.TrajectorySummary(
        trajectory_id=row.trajectory_id,
        task_id=row.task_id,
        status=STATUS_BY_NAME[row.status],
        steps=row.steps,
        guidance_count=row.guidance_count,
        started_at=_timestamp(row.started_at),
        last_activity_at=_timestamp(row.last_activity_at),
        needs_attention=needs_attention,
    )
    if row.final_score is not None:
        message.final_score = row.final_score
    return message


async def _abort_for(context: grpc.aio.ServicerContext, error: Exception) -> None:
    await context.abort(_CODES[type(error)], str(error))


class ControlServicer(control_pb2_grpc.ControlServiceServicer):
    """Thin translation between the control protos and the gateway's commands."""

    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway

    def _summary(self, row: TrajectoryRow) -> cpb.TrajectorySummary:
        flagged = row.status == "running" and bool(self._gateway.live.reasons(row.trajectory_id))
        return summary_proto(row, flagged)

    async def ListTrajectories(self, request, context):
        limit = min(request.limit or DEFAULT_LIMIT, MAX_LIMIT)
        status = NAME_BY_STATUS.get(request.status)
        rows = await self._gateway.archive.trajectories(limit=limit, status=status)
        return cpb.ListTrajectoriesResponse(trajectories=[self._summary(r) for r in rows])

    async def GetTrajectory(self, request, context):
        row = await self._gateway.archive.trajectory(request.trajectory_id)
        if row is None:
            await context.abort(
                grpc.StatusCode.NOT_FOUND, f"no trajectory {request.trajectory_id!r}"
            )
        records = await self._gateway.archive.events(request.trajectory_id)
        return cpb.GetTrajectoryResponse(
            summary=self._summary(row), events=[record.event for record in records]
        )

    async def WatchTrajectory(self, request, context) -> AsyncIterator[cpb.WatchTrajectoryResponse]:
        gateway, tid = self._gateway, request.trajectory_id
        # Subscribe before reading the archive, so no event falls between the two.
        with (
            gateway.presence.watching(tid, CURRENT_USER.get().name),
            gateway.live.stream(tid) as live,
        ):
            records = await gateway.archive.events(tid)
            if not records and await gateway.live.state(tid) is None:
                await context.abort(grpc.StatusCode.NOT_FOUND, f"no trajectory {tid!r}")
            ids = [record.event_id for record in records]
            start = ids.index(request.after_event_id) + 1 if request.after_event_id in ids else 0
            sent = set(ids)
            for record in records[start:]:
                yield cpb.WatchTrajectoryResponse(event=record.event)
            while not live.overflowed:
                try:
                    event = await asyncio.wait_for(live.queue.get(), gateway.presence_interval_s)
                except TimeoutError:
                    if await gateway.users.by_token(CURRENT_TOKEN.get()) is None:
                        await context.abort(grpc.StatusCode.UNAUTHENTICATED, "token revoked")
                    continue
                if event.event_id not in sent:
                    sent.add(event.event_id)
                    yield cpb.WatchTrajectoryResponse(event=event)
            await context.abort(
                grpc.StatusCode.RESOURCE_EXHAUSTED, "too slow a reader; watch again"
            )

    async def SubmitGuidance(self, request, context):
        command = GuidanceRequest(
            trajectory_id=request.trajectory_id,
            annotator=CURRENT_USER.get().name,
            text=request.text,
            kind=KIND_BY_ENUM.get(request.kind, "advice"),
            flag_steps=tuple(request.flag_steps),
            channel="grpc",
        )
        try:
            event_id = await self._gateway.control.submit_guidance(command)
        except (
            UnknownTrajectory,
            TrajectoryAlreadyEnded,
            InvalidGuidance,
            NotArchivedYet,
        ) as error:
            await _abort_for(context, error)
        return cpb.SubmitGuidanceResponse(event_id=event_id)

    async def CancelTrajectory(self, request, context):
        user = CURRENT_USER.get().name
        try:
            event_id = await self._gateway.control.cancel(
                request.trajectory_id, user, request.reason
            )
        except (UnknownTrajectory, TrajectoryAlreadyEnded, NotArchivedYet) as error:
            await _abort_for(context, error)
        return cpb.CancelTrajectoryResponse(event_id=event_id)

    async def StartTrajectory(self, request, context):
        command = StartRequest(
            task_id=request.task_id,
            policy=request.policy,
            started_by=CURRENT_USER.get().name,
            budgets=request.budgets,
            summary_threshold=request.summary_threshold_tokens or DEFAULT_SUMMARY_THRESHOLD,
            labels=dict(request.labels),
            task_seed=request.task_seed,
        )
        try:
            trajectory_id = await self._gateway.control.start(command)
        except (UnknownTask, BadPolicy, NotArchivedYet) as error:
            await _abort_for(context, error)
        return cpb.StartTrajectoryResponse(trajectory_id=trajectory_id)


async def start_grpc_server(gateway: Gateway, host: str, port: int) -> tuple[grpc.aio.Server, int]:
    """A started grpc.aio server with the control and health services; returns its port."""
    server = grpc.aio.server(interceptors=[AuthInterceptor(gateway.users, gateway.sign_in)])
    control_pb2_grpc.add_ControlServiceServicer_to_server(ControlServicer(gateway), server)
    checks = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(checks, server)
    bound = server.add_insecure_port(f"{host}:{port}")
    await server.start()
    for service in ("", "apollo.v1.ControlService"):
        await checks.set(service, health_pb2.HealthCheckResponse.SERVING)
    return server, bound
