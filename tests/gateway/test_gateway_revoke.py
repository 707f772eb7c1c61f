"""A revoked user's token stops working everywhere: HTTP, cookies, gRPC and open streams."""

from __future__ import annotations

import asyncio

import grpc
import httpx
import pytest

from apollo.v1 import control_pb2 as cpb
from apollo.v1 import control_pb2_grpc
from services.gateway.grpc_server import start_grpc_server

pytestmark = pytest.mark.timeout(30)


async def test_after_revoke_the_token_and_its_cookie_get_401(wired) -> None:
    token = wired.tokens["annotator"]
    async with wired.client("annotator") as bearer, wired.client() as browser:
        await browser.post("/api/session", json={"token": token})
        assert (await bearer.get("/api/me")).status_code == 200
        assert (await browser.get("/api/me")).status_code == 200

        assert await wired.gateway.users.revoke("annotator-1")

        assert (await bearer.get("/api/me")).status_code == 401
        assert (await browser.get("/api/me")).status_code == 401
        assert (await browser.post("/api/session", json={"token": token})).status_code == 401
    assert not await wired.gateway.users.revoke("annotator-1")


async def read_to_the_end(watch) -> None:
    while await asyncio.wait_for(watch.read(), 5) is not grpc.aio.EOF:
        pass


async def test_after_revoke_grpc_refuses_the_token_and_ends_its_watch(wired, new_run) -> None:
    run = new_run()
    run.started()
    await wired.record(run.events)
    server, port = await start_grpc_server(wired.gateway, "127.0.0.1", 0)
    metadata = (("authorization", f"Bearer {wired.tokens['viewer']}"),)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = control_pb2_grpc.ControlServiceStub(channel)
            watch = stub.WatchTrajectory(
                cpb.WatchTrajectoryRequest(trajectory_id=run.trajectory_id), metadata=metadata
            )
            await watch.read()  # the started event: the watch is live

            await wired.gateway.users.revoke("viewer-1")

            with pytest.raises(grpc.aio.AioRpcError) as ended:
                await read_to_the_end(watch)
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stub.ListTrajectories(cpb.ListTrajectoriesRequest(), metadata=metadata)
    finally:
        await server.stop(grace=None)
    assert ended.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_after_revoke_an_open_event_stream_ends(wired, served) -> None:
    headers = {"Authorization": f"Bearer {wired.tokens['viewer']}"}
    async with (
        httpx.AsyncClient(base_url=served, headers=headers, timeout=10) as client,
        client.stream("GET", "/api/stream") as reply,
    ):
        lines = reply.aiter_lines()
        assert (await anext(lines)).startswith("event: presence")
        await wired.gateway.users.revoke("viewer-1")

        async def drain() -> None:
            async for _ in lines:
                pass

        await asyncio.wait_for(drain(), 5)


async def test_wrong_grpc_tokens_in_a_row_are_slowed_down(wired) -> None:
    server, port = await start_grpc_server(wired.gateway, "127.0.0.1", 0)
    codes = []
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = control_pb2_grpc.ControlServiceStub(channel)
            for n in range(30):
                try:
                    await stub.ListTrajectories(
                        cpb.ListTrajectoriesRequest(),
                        metadata=(("authorization", f"Bearer apo_guess{n}"),),
                        timeout=5,
                    )
                except grpc.aio.AioRpcError as error:
                    codes.append(error.code())
                    retry = dict(error.trailing_metadata() or ()).get("retry-after")
    finally:
        await server.stop(grace=None)
    assert codes[:10] == [grpc.StatusCode.UNAUTHENTICATED] * 10
    assert codes[10:] == [grpc.StatusCode.RESOURCE_EXHAUSTED] * 20
    assert int(retry) >= 1
