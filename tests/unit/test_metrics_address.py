"""Services serve /metrics on loopback unless told another address (a pod's 0.0.0.0)."""

from __future__ import annotations

import httpx

from services.runtime.process import serving
from services.runtime.settings import ServiceSettings


class Idle:
    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass


async def test_metrics_listen_on_loopback_by_default() -> None:
    async with serving(Idle(), ServiceSettings(), lambda: True, uses_postgres=False) as server:
        assert server.host == "127.0.0.1"
        async with httpx.AsyncClient() as client:
            reply = await client.get(f"http://127.0.0.1:{server.port}/healthz")
        assert reply.status_code == 200


async def test_metrics_host_setting_chooses_the_address(monkeypatch) -> None:
    monkeypatch.setenv("APOLLO_METRICS_HOST", "0.0.0.0")
    async with serving(Idle(), ServiceSettings(), lambda: True, uses_postgres=False) as server:
        assert server.host == "0.0.0.0"
        async with httpx.AsyncClient() as client:
            reply = await client.get(f"http://127.0.0.1:{server.port}/metrics")
        assert reply.status_code == 200
