"""The gRPC ControlService through a real grpc.aio server on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from apollo.v1 import control_pb2 as cpb
from apollo.v1 import control_pb2_grpc
from apollo.v1 import events_pb2 as pb
from services.gateway.grpc_auth import REQUIRED_ROLE, SERVICE
from services.gateway.grpc_server import start_grpc_server
from services.policy.scripts import script_of
from services.tasks.packs import TaskCatalog
from services.tasks.starting import DEFAULT_SUMMARY_THRESHOLD
from services.tasks.tool_args import tool_specs

pytestmark = pytest.mark.timeout(30)
METHODS = cpb.DESCRIPTOR.services_by_name["ControlService"].methods
BELOW = {"viewer": None, "annotator": "viewer", "admin": "annotator"}
REQUESTS = {
    "StartTrajectory": cpb.StartTrajectoryRequest(task_id="toy-task", policy="local"),
    "CancelTrajectory": cpb.CancelTrajectoryRequest(trajectory_id="t-unknown"),
    "ListTrajectories": cpb.ListTrajectoriesRequest(),
    "GetTrajectory": cpb.GetTrajectoryRequest(trajectory_id="t-unknown"),
    "WatchTrajectory": cpb.WatchTrajectoryRequest(trajectory_id="t-unknown"),
    "SubmitGuidance": cpb.SubmitGuidanceRequest(trajectory_id="t-unknown", text="hi"),
}


@pytest.fixture
async def channel(wired) -> AsyncIterator[grpc.aio.Channel]:
    server, port = await start_grpc_server(wired.gateway, "127.0.0.1", 0)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield channel
    await server.stop(grace=None)


def bearer(wired, role: str | None) -> tuple:
    return (("authorization", f"Bearer {wired.tokens[role]}"),) if role else ()


async def call(channel, name: str, metadata: tuple):
    stub = control_pb2_grpc.ControlServiceStub(channel)
    method = getattr(stub, name)
    if name == "WatchTrajectory":
        async for _ in method(REQUESTS[name], metadata=metadata, timeout=5):
            return None
        return None
    return await method(REQUESTS[name], metadata=metadata, timeout=5)


def test_every_method_has_a_role() -> None:
    assert {SERVICE + m.name for m in METHODS} == set(REQUIRED_ROLE)


@pytest.mark.parametrize("name", sorted(REQUESTS))
@pytest.mark.parametrize("metadata", [(), (("authorization", "Bearer apo_wrong"),)])
async def test_no_valid_token_is_unauthenticated(channel, name: str, metadata) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await call(channel, name, metadata)
    assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.parametrize(
    "name", sorted(n for n in REQUESTS if BELOW[REQUIRED_ROLE[SERVICE + n].value])
)
async def test_a_role_too_low_is_permission_denied(wired, channel, name: str) -> None:
    below = BELOW[REQUIRED_ROLE[SERVICE + name].value]
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await call(channel, name, bearer(wired, below))
    assert refused.value.code() is grpc.StatusCode.PERMISSION_DENIED


async def test_health_needs_no_token(channel) -> None:
    stub = health_pb2_grpc.HealthStub(channel)
    reply = await stub.Check(health_pb2.HealthCheckRequest(service="apollo.v1.ControlService"))
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def test_list_get_and_guidance(wired, channel, new_run) -> None:
    run = new_run()
    run.started()
    run.step()
    await wired.record(run.events)
    stub = control_pb2_grpc.ControlServiceStub(channel)
    listed = await stub.ListTrajectories(
        cpb.ListTrajectoriesRequest(), metadata=bearer(wired, "viewer")
    )
    [row] = listed.trajectories
    assert (row.trajectory_id, row.steps, row.status) == (
        run.trajectory_id,
        1,
        cpb.TRAJECTORY_STATUS_RUNNING,
    )
    got = await stub.GetTrajectory(
        cpb.GetTrajectoryRequest(trajectory_id=run.trajectory_id), metadata=bearer(wired, "viewer")
    )
    assert list(got.events) == run.events
    sent = await stub.SubmitGuidance(
        cpb.SubmitGuidanceRequest(
            trajectory_id=run.trajectory_id,
            text="why kill it?",
            kind=pb.GUIDANCE_KIND_ADVICE,
            flag_steps=[0],
        ),
        metadata=bearer(wired, "annotator"),
    )
    [event] = wired.published()
    assert event.event_id == sent.event_id
    assert event.guidance_submitted.channel == "grpc"
    assert event.guidance_submitted.annotator == "annotator-1"
    assert list(event.guidance_submitted.flagged_step_indices) == [0]


async def test_bad_requests_get_precise_codes(wired, channel, new_run) -> None:
    run = new_run()
    run.started()
    await wired.record(run.events)
    stub = control_pb2_grpc.ControlServiceStub(channel)
    empty = cpb.SubmitGuidanceRequest(trajectory_id=run.trajectory_id, text=" ")
    with pytest.raises(grpc.aio.AioRpcError) as invalid:
        await stub.SubmitGuidance(empty, metadata=bearer(wired, "admin"))
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await call(channel, "GetTrajectory", bearer(wired, "admin"))
    with pytest.raises(grpc.aio.AioRpcError) as unknown_task:
        await call(channel, "StartTrajectory", bearer(wired, "admin"))
    bad_policy = cpb.StartTrajectoryRequest(task_id="data-filtering-dedup", policy="anthropic")
    with pytest.raises(grpc.aio.AioRpcError) as invalid_policy:
        await stub.StartTrajectory(bad_policy, metadata=bearer(wired, "admin"))
    assert invalid.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert missing.value.code() is grpc.StatusCode.NOT_FOUND
    assert unknown_task.value.code() is grpc.StatusCode.NOT_FOUND
    assert "unknown task 'toy-task'" in unknown_task.value.details()
    assert invalid_policy.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert wired.published() == []


async def test_start_overrides_budgets_and_carries_the_script(wired, channel) -> None:
    pack = TaskCatalog().get("data-filtering-dedup")
    stub = control_pb2_grpc.ControlServiceStub(channel)
    request = cpb.StartTrajectoryRequest(
        task_id=pack.id,
        policy="scripted:reference",
        budgets=pb.Budgets(max_steps=5, max_evals=1),
        labels={"experiment": "no-human"},
        task_seed=1001,
    )
    reply = await stub.StartTrajectory(request, metadata=bearer(wired, "admin"))
    [event] = wired.published()
    started = event.trajectory_started
    assert event.trajectory_id == reply.trajectory_id
    assert (started.task_id, started.started_by) == (pack.id, "admin-1")
    assert list(started.tools) == tool_specs(pack.manifest.tools)
    assert started.budgets == pb.Budgets(
        max_steps=5, max_seconds=int(pack.manifest.budgets.hours * 3600), max_evals=1
    )
    assert (started.policy.backend, started.policy.model) == ("scripted", "reference")
    assert started.summary_threshold_tokens == DEFAULT_SUMMARY_THRESHOLD
    assert started.labels["experiment"] == "no-human"
    assert started.task_seed == 1001
    script = [(call.name, call.arguments) for call in script_of(started)]
    assert script == [(step.tool, step.arguments) for step in pack.reference()]


async def test_watch_sends_history_then_live_events(wired, channel, new_run) -> None:
    run = new_run()
    first = run.started()
    action, observation = run.step()
    await wired.record(run.events)
    stub = control_pb2_grpc.ControlServiceStub(channel)
    watch = stub.WatchTrajectory(
        cpb.WatchTrajectoryRequest(trajectory_id=run.trajectory_id, after_event_id=first.event_id),
        metadata=bearer(wired, "viewer"),
    )
    seen = [(await watch.read()).event, (await watch.read()).event]
    assert seen == [action, observation]
    assert wired.gateway.presence.watchers(run.trajectory_id) == ["viewer-1"]
    live, _ = run.step()
    await wired.bus.publish(live)
    assert (await asyncio.wait_for(watch.read(), 5)).event == live
    watch.cancel()
