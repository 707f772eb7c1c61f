"""The HTTP API's edges: body size, validation errors, token guessing and forged requests."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

import pytest
from prometheus_client import REGISTRY

from services.gateway.body_limit import DEFAULT_MAX_BODY_BYTES
from services.gateway.sign_in_throttle import SignInThrottle

pytestmark = pytest.mark.timeout(30)
MAX_BODY = DEFAULT_MAX_BODY_BYTES


def guidance_path(trajectory_id: str = "t-1") -> str:
    return f"/api/trajectories/{trajectory_id}/guidance"


async def test_a_declared_oversized_body_is_refused_before_it_is_sent(wired, served) -> None:
    # Only the headers go out: a 413 that comes back proves the body was never read.
    host = urlsplit(served)
    reader, writer = await asyncio.open_connection(host.hostname, host.port)
    writer.write(
        f"POST {guidance_path()} HTTP/1.1\r\nHost: {host.netloc}\r\n"
        f"Authorization: Bearer {wired.tokens['annotator']}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {20 * MAX_BODY}\r\n\r\n".encode()
    )
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), 5)
    writer.close()
    assert status_line.split()[1] == b"413"


async def test_a_streamed_body_is_cut_off_at_the_limit(wired) -> None:
    sent = 0

    async def chunks():
        nonlocal sent
        for _ in range(20):
            sent += 1
            yield b"x" * MAX_BODY

    async with wired.client("annotator") as client:
        reply = await client.post(guidance_path(), content=chunks())
    assert reply.status_code == 413, reply.text
    assert "over" in reply.json()["detail"]
    assert sent < 20


async def test_a_20_mb_body_is_answered_quickly_and_briefly(wired) -> None:
    body = b'{"text": "' + b"x" * (20 * MAX_BODY) + b'"}'
    async with wired.client("annotator") as client:
        started = time.perf_counter()
        reply = await client.post(guidance_path(), content=body)
        seconds = time.perf_counter() - started
    assert reply.status_code == 413
    assert len(reply.content) < 200
    assert seconds < 1


async def test_validation_errors_say_where_and_why_but_never_echo_the_input(wired, new_run) -> None:
    run = new_run()
    run.started()
    await wired.record(run.events)
    secret = "s3cret-" + "y" * 30_000  # over the guidance limit, under the body limit
    async with wired.client("annotator") as client:
        reply = await client.post(guidance_path(run.trajectory_id), json={"text": secret})
    assert reply.status_code == 422
    assert "s3cret" not in reply.text
    assert len(reply.content) < 1000
    [error] = reply.json()["detail"]
    assert set(error) == {"loc", "msg", "type"}
    assert error["loc"] == ["body", "text"]


def throttled(api: str) -> float:
    return REGISTRY.get_sample_value("apollo_gateway_sign_ins_throttled_total", {"api": api}) or 0


async def test_wrong_tokens_in_a_row_are_slowed_down_with_retry_after(wired) -> None:
    before = throttled("http")
    async with wired.client() as client:
        codes = [
            (await client.post("/api/session", json={"token": f"apo_guess{n}"})).status_code
            for n in range(30)
        ]
        refused = await client.get("/api/me", headers={"Authorization": "Bearer apo_x"})
        # Even the right token waits: a guesser must not learn it hit by a different answer.
        right = await client.post("/api/session", json={"token": wired.tokens["viewer"]})
    assert codes[:10] == [401] * 10
    assert codes[10:] == [429] * 20
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert right.status_code == 429
    assert throttled("http") - before == 22


def test_the_throttle_refills_and_remembers_a_bounded_number_of_addresses() -> None:
    now = [0.0]
    throttle = SignInThrottle(burst=2, per_minute=6, max_clients=3, clock=lambda: now[0])
    for _ in range(2):
        throttle.failed("a")
    assert throttle.retry_after_s("a") == 10
    now[0] += 10
    assert throttle.retry_after_s("a") == 0
    for client in "bcde":
        throttle.failed(client)
    assert len(throttle._buckets) == 3


async def test_a_cross_site_request_riding_the_cookie_is_refused(wired, new_run) -> None:
    run = new_run()
    run.started()
    await wired.record(run.events)
    path, body = guidance_path(run.trajectory_id), {"text": "stop"}
    async with wired.client() as client:
        await client.post("/api/session", json={"token": wired.tokens["annotator"]})
        forged_site = await client.post(path, json=body, headers={"Sec-Fetch-Site": "cross-site"})
        forged_origin = await client.post(
            path, json=body, headers={"Origin": "https://evil.example"}
        )
        own_page = await client.post(
            path,
            json=body,
            headers={"Sec-Fetch-Site": "same-origin", "Origin": "http://gateway"},
        )
        read_anyway = await client.get("/api/me", headers={"Sec-Fetch-Site": "cross-site"})
    assert forged_site.status_code == 403
    assert forged_origin.status_code == 403
    assert own_page.status_code == 202
    assert read_anyway.status_code == 200


async def test_a_forged_sign_in_is_refused(wired) -> None:
    async with wired.client() as client:
        reply = await client.post(
            "/api/session",
            json={"token": wired.tokens["admin"]},
            headers={"Origin": "https://evil.example"},
        )
    assert reply.status_code == 403
    assert "set-cookie" not in reply.headers
