"""Fuzzing the HTTP API from its OpenAPI schema finds no server error (in-process, fakes)."""

from __future__ import annotations

import asyncio

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from apollo.v1 import events_pb2 as pb
from services.eventlog.archive import InMemoryArchive
from services.eventlog.events import new_event
from services.eventlog.memory_bus import InMemoryBus
from services.eventlog.topics import TRAJECTORIES
from services.gateway.app import Gateway
from services.gateway.attention import InMemoryAttentionLedger
from services.gateway.http_app import create_app
from services.gateway.users import InMemoryUserStore, Role


async def _admin_gateway() -> tuple[Gateway, str]:
    """A gateway over fakes with one running trajectory, and an admin token."""
    users, archive, bus = InMemoryUserStore(), InMemoryArchive(), InMemoryBus()
    _, token = await users.add("fuzzer", Role.ADMIN)
    started = new_event(
        pb.TrajectoryStarted(task_id="toy-task"), trajectory_id="t-1", service="test"
    )
    await archive.append([(TRAJECTORIES.name, started)])
    # No live feed: each fuzzed request runs on its own event loop in the ASGI test client.
    await bus.start()
    return Gateway(users, InMemoryAttentionLedger(), archive, bus), token


GATEWAY, TOKEN = asyncio.run(_admin_gateway())
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(GATEWAY))


# The stream never ends by design (test_gateway_stream.py covers it).
FUZZED = schema.exclude(path="/api/stream")


@FUZZED.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@pytest.mark.timeout(60)
def test_no_server_errors(case) -> None:
    # Starlette's 405 answers list only one route's methods; that is its choice, not our bug.
    case.call_and_validate(
        headers={"Authorization": f"Bearer {TOKEN}"},
        checks=[not_a_server_error, response_schema_conformance],
    )
