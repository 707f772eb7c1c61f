"""/readyz asks the real broker and the real Postgres; /healthz does not depend on them."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Iterator

import httpx
import pytest

from services.cli.stack.broker import TansuBroker
from services.cli.stack.ports import free_port
from services.runtime.observability import ObservabilityServer
from services.runtime.readiness import Readiness, broker_answers, postgres_answers

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


@pytest.fixture
def silent_listener() -> Iterator[int]:
    """A port that accepts connections and closes them without a word, as a wedged or
    wrong server would."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def accept_and_close() -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            connection.close()

    threading.Thread(target=accept_and_close, daemon=True).start()
    yield port
    server.close()


def test_the_broker_probe_speaks_kafka_to_tansu(broker: TansuBroker) -> None:
    assert broker_answers(broker.address)()


def test_the_broker_probe_is_true_when_any_bootstrap_server_answers(broker: TansuBroker) -> None:
    assert broker_answers(f"127.0.0.1:{free_port()},{broker.address}")()


def test_the_broker_probe_is_false_on_a_closed_port() -> None:
    assert not broker_answers(f"127.0.0.1:{free_port()}")()


def test_the_broker_probe_is_false_when_the_port_answers_nothing(silent_listener: int) -> None:
    assert not broker_answers(f"127.0.0.1:{silent_listener}")()


async def test_the_postgres_probe_runs_a_query(pg_dsn: str) -> None:
    probe = postgres_answers(pg_dsn)
    # The probe runs on the metrics server's threads, outside the service's event loop.
    assert await _in_thread(probe)


async def test_the_postgres_probe_is_false_when_nothing_listens() -> None:
    probe = postgres_answers(f"postgresql://postgres@127.0.0.1:{free_port()}/postgres")
    assert not await _in_thread(probe)


def test_readyz_follows_the_broker_while_healthz_does_not(tmp_path) -> None:
    tansu = TansuBroker(log_path=tmp_path / "tansu.log").start()
    ready = Readiness(lambda: True, {"broker": broker_answers(tansu.address)}, ttl_s=0)
    server = ObservabilityServer(0, lambda: True, ready=ready).start()
    url = f"http://127.0.0.1:{server.port}"
    try:
        assert httpx.get(f"{url}/readyz").status_code == 200
        tansu.stop()
        reply = httpx.get(f"{url}/readyz")
        assert (reply.status_code, reply.text) == (503, "not ready\n")
        assert httpx.get(f"{url}/healthz").status_code == 200
    finally:
        server.stop()
        tansu.stop()


async def _in_thread(probe: Callable[[], bool]) -> bool:
    return await asyncio.to_thread(probe)
