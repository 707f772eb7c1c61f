"""`python -m services.gateway` against the real broker and Postgres."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from apollo.v1 import events_pb2 as pb
from services.eventlog.admin import ensure_topics
from services.eventlog.events import new_event
from services.eventlog.pg_archive import PgArchive
from services.eventlog.topics import TRAJECTORIES
from services.gateway.pg_store import PgUserStore
from services.gateway.users import Role

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


async def wait_for_file(path: Path, process: asyncio.subprocess.Process) -> dict:
    async with asyncio.timeout(60):
        while not await asyncio.to_thread(path.exists):
            assert process.returncode is None, "the gateway exited while starting"
            await asyncio.sleep(0.1)
    return json.loads(await asyncio.to_thread(path.read_text))


async def test_the_gateway_process_serves_http_grpc_and_live_events(
    broker, pg_dsn, tmp_path
) -> None:
    await ensure_topics(broker.address)
    users = await PgUserStore.connect(pg_dsn)
    await users.migrate()
    _, token = await users.add("ada", Role.ANNOTATOR)
    await users.close()
    started = new_event(
        pb.TrajectoryStarted(task_id="toy-task"), trajectory_id="t-proc", service="test"
    )
    archive = await PgArchive.connect(pg_dsn)
    await archive.migrate()
    await archive.append([(TRAJECTORIES.name, started)])
    await archive.close()
    url_file = tmp_path / "gateway.json"
    env = {
        **os.environ,
        "APOLLO_KAFKA": broker.address,
        "APOLLO_POSTGRES_DSN": pg_dsn,
        "APOLLO_GATEWAY_URL_FILE": str(url_file),
        "APOLLO_METRICS_PORT": "0",
        # Alone, without a recorder: commands are answered once the broker has them.
        "APOLLO_GATEWAY_CONFIRM_ARCHIVED": "false",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.gateway", env=env
    )
    try:
        urls = await wait_for_file(url_file, process)
        headers = {"Authorization": f"Bearer {token}"}
        async with (
            httpx.AsyncClient(base_url=urls["http"], headers=headers, timeout=10) as client,
            client.stream("GET", "/api/stream", params={"trajectory_id": "t-proc"}) as stream,
        ):
            [row] = (await client.get("/api/trajectories")).json()
            assert row["trajectory_id"] == "t-proc"
            reply = await client.post("/api/trajectories/t-proc/guidance", json={"text": "hello"})
            assert reply.status_code == 202
            # The gateway publishes on Kafka and its own live tail brings the event back.
            async for line in stream.aiter_lines():
                if line.startswith("data:") and reply.json()["event_id"] in line:
                    break
            assert (await client.get("/healthz")).status_code == 200
        async with grpc.aio.insecure_channel(urls["grpc"]) as channel:
            check = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=5
            )
        assert check.status == health_pb2.HealthCheckResponse.SERVING
    finally:
        process.terminate()
        assert await asyncio.wait_for(process.wait(), 20) == 0
