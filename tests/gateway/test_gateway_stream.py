"""GET /api/stream delivers live events and presence over server-sent events."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from apollo.v1 import events_pb2 as pb

pytestmark = pytest.mark.timeout(30)


async def messages(reply: httpx.Response):
    """Parsed SSE messages as (event, data) pairs."""
    kind, data = None, []
    async for line in reply.aiter_lines():
        if line.startswith("event:"):
            kind = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            data.append(line.split(":", 1)[1].strip())
        elif not line and kind:
            yield kind, "\n".join(data)
            kind, data = None, []


async def next_of(stream, kind: str) -> str:
    async for got, data in stream:
        if got == kind:
            return data
    raise AssertionError(f"the stream ended before an {kind!r} message")


async def test_a_live_event_reaches_the_watcher_with_presence(wired, new_run, served) -> None:
    run = new_run()
    run.started()
    await wired.record(run.events)
    headers = {"Authorization": f"Bearer {wired.tokens['viewer']}"}
    async with (
        httpx.AsyncClient(base_url=served, headers=headers, timeout=10) as client,
        client.stream("GET", "/api/stream", params={"trajectory_id": run.trajectory_id}) as reply,
    ):
        assert reply.headers["content-type"].startswith("text/event-stream")
        stream = messages(reply)
        presence = json.loads(await next_of(stream, "presence"))
        assert presence == {"trajectory_id": run.trajectory_id, "watchers": ["viewer-1"]}
        other = new_run()
        await wired.bus.publish(other.started())  # another trajectory: not on this stream
        action, _ = run.step()
        await wired.bus.publish(action)
        data = await asyncio.wait_for(next_of(stream, "apollo"), 5)
        assert json.loads(data)["event_id"] == action.event_id
        assert json.loads(data)["action_proposed"]["tool_call"]["name"] == "run_command"
        async with wired.client("viewer") as api:
            [row] = [
                r
                for r in (await api.get("/api/trajectories")).json()
                if r["trajectory_id"] == run.trajectory_id
            ]
        assert row["watchers"] == ["viewer-1"]


async def test_the_list_stream_sees_every_trajectory_and_who_watches(
    wired, new_run, served
) -> None:
    headers = {"Authorization": f"Bearer {wired.tokens['annotator']}"}
    async with (
        httpx.AsyncClient(base_url=served, headers=headers, timeout=10) as client,
        client.stream("GET", "/api/stream") as reply,
    ):
        stream = messages(reply)
        assert json.loads(await next_of(stream, "presence")) == {"watching": {}}
        started = new_run().started()
        await wired.bus.publish(started)
        data = json.loads(await asyncio.wait_for(next_of(stream, "apollo"), 5))
        assert data["trajectory_started"]["task_id"] == "toy-task"
        assert data["event_id"] == started.event_id
    assert pb.Event  # the data is the event's protobuf JSON


async def test_an_end_is_followed_by_the_status_the_server_derives(wired, new_run, served) -> None:
    run = new_run()
    await wired.record([run.started()])
    headers = {"Authorization": f"Bearer {wired.tokens['viewer']}"}
    async with (
        httpx.AsyncClient(base_url=served, headers=headers, timeout=10) as client,
        client.stream("GET", "/api/stream", params={"trajectory_id": run.trajectory_id}) as reply,
    ):
        stream = messages(reply)
        await next_of(stream, "presence")
        failed = run.event(pb.TrajectoryEnded(reason=pb.END_REASON_UNSPECIFIED))
        await wired.bus.publish(failed)
        status = json.loads(await asyncio.wait_for(next_of(stream, "status"), 5))
    assert status == {"trajectory_id": run.trajectory_id, "status": "failed"}


async def test_stream_without_token_is_refused(served) -> None:
    async with httpx.AsyncClient(base_url=served, timeout=10) as client:
        assert (await client.get("/api/stream")).status_code == 401
