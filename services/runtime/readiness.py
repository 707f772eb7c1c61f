"""Readiness: the service is healthy and the broker and Postgres it depends on answer.

Liveness (`/healthz`) says whether the process works; readiness (`/readyz`) also asks the
dependencies, so a pod whose broker or archive is unreachable leaves its Service's endpoints
(the gateway stops taking requests it could not record) without being restarted for it.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import asyncpg
from prometheus_client import Gauge

from services.eventlog.postgres import POSTGRES_UNREACHABLE
from services.runtime.observability import HealthCheck
from services.runtime.settings import ServiceSettings

Probe = Callable[[], bool]

# Kubernetes probes every few seconds; an answer slower than this counts as down.
PROBE_TIMEOUT_S = 1.0
# A probe's answer is reused this long, so frequent readiness requests never become a
# connection storm on the broker or Postgres.
PROBE_TTL_S = 2.0
# Kafka's ApiVersions request (key 18), version 0: every Kafka-protocol broker answers it,
# before any authentication, with the same correlation id.
_API_VERSIONS, _CORRELATION_ID, _CLIENT_ID = 18, 0x0A_0110, b"apollo-readiness"

# Set when readiness is asked (the kubelet asks every few seconds), never before: a series
# made up front would read 0, "down", in a stack where nobody asks.
DEPENDENCY_UP = Gauge(
    "apollo_dependency_up",
    "1 when the dependency answered the service's last readiness probe, 0 when it did not",
    ["dependency"],
)


def broker_answers(bootstrap: str) -> Probe:
    """A probe that is true when some bootstrap server answers a Kafka ApiVersions request."""
    servers = [_host_port(server) for server in bootstrap.split(",") if server.strip()]
    return lambda: any(_answers_api_versions(host, port) for host, port in servers)


def postgres_answers(dsn: str) -> Probe:
    """A probe that is true when Postgres at `dsn` accepts a connection and runs a query."""
    return lambda: asyncio.run(_selects_one(dsn))


def readiness_of(health: HealthCheck, settings: ServiceSettings, uses_postgres: bool) -> Readiness:
    """A service's readiness: its health, the broker, and Postgres if it keeps state there."""
    dependencies = {"broker": broker_answers(settings.kafka)}
    if uses_postgres:
        dependencies["postgres"] = postgres_answers(settings.postgres_dsn)
    return Readiness(health, dependencies)


@dataclass
class Readiness:
    """Healthy, and every named dependency's probe true (each asked at most every TTL)."""

    health: HealthCheck
    dependencies: Mapping[str, Probe]
    ttl_s: float = PROBE_TTL_S
    _answers: dict[str, tuple[float, bool]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self) -> bool:
        # Every dependency is asked (no short circuit), so each gauge stays current.
        answers = [self._up(name, probe) for name, probe in self.dependencies.items()]
        return self.health() and all(answers)

    def _up(self, name: str, probe: Probe) -> bool:
        with self._lock:  # the HTTP server answers on several threads
            asked_at, up = self._answers.get(name, (float("-inf"), False))
            if time.monotonic() - asked_at >= self.ttl_s:
                up = probe()
                self._answers[name] = (time.monotonic(), up)
                DEPENDENCY_UP.labels(name).set(1 if up else 0)
            return up


def _host_port(server: str) -> tuple[str, int]:
    host, _, port = server.strip().rpartition(":")
    return host.strip("[]"), int(port)


def _answers_api_versions(host: str, port: int) -> bool:
    client_id = struct.pack(">h", len(_CLIENT_ID)) + _CLIENT_ID
    body = struct.pack(">hhi", _API_VERSIONS, 0, _CORRELATION_ID) + client_id
    try:
        with socket.create_connection((host, port), timeout=PROBE_TIMEOUT_S) as connection:
            connection.sendall(struct.pack(">i", len(body)) + body)
            header = _read_exactly(connection, 8)
    except OSError:
        return False
    size, correlation_id = struct.unpack(">ii", header)
    return size >= 4 and correlation_id == _CORRELATION_ID


def _read_exactly(connection: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = connection.recv(count - len(data))
        if not chunk:
            raise ConnectionResetError("the broker closed the connection")
        data += chunk
    return data


async def _selects_one(dsn: str) -> bool:
    try:
        connection = await asyncpg.connect(dsn, timeout=PROBE_TIMEOUT_S)
    except POSTGRES_UNREACHABLE:
        return False
    try:
        return await connection.fetchval("SELECT 1", timeout=PROBE_TIMEOUT_S) == 1
    except POSTGRES_UNREACHABLE:
        return False
    finally:
        await connection.close(timeout=PROBE_TIMEOUT_S)
