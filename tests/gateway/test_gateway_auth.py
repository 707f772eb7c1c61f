"""Every HTTP route answers 401 without a valid token and 403 below its role."""

from __future__ import annotations

import pytest

from services.gateway.app import Gateway
from services.gateway.http_app import create_app

pytestmark = pytest.mark.timeout(30)

# The least role of every API operation. A new route fails the coverage test until listed.
REQUIRED_ROLE = {
    ("GET", "/api/me"): "viewer",
    ("GET", "/api/trajectories"): "viewer",
    ("GET", "/api/trajectories/{trajectory_id}"): "viewer",
    ("GET", "/api/trajectories/{trajectory_id}/verdicts"): "viewer",
    ("GET", "/api/attention"): "viewer",
    ("GET", "/api/stream"): "viewer",
    ("POST", "/api/trajectories/{trajectory_id}/guidance"): "annotator",
    ("POST", "/api/trajectories/{trajectory_id}/attention"): "annotator",
    ("POST", "/api/trajectories/{trajectory_id}/labels"): "annotator",
    ("POST", "/api/trajectories"): "admin",
    ("POST", "/api/trajectories/{trajectory_id}/cancel"): "admin",
}
# Logging in and out needs no session, by definition.
PUBLIC = {("POST", "/api/session"), ("DELETE", "/api/session")}
BELOW = {"viewer": None, "annotator": "viewer", "admin": "annotator"}


def operations(gateway: Gateway) -> set[tuple[str, str]]:
    schema = create_app(gateway).openapi()
    return {(method.upper(), path) for path, item in schema["paths"].items() for method in item}


def test_every_operation_is_listed_with_its_role(wired) -> None:
    assert operations(wired.gateway) == set(REQUIRED_ROLE) | PUBLIC


def _url(path: str) -> str:
    return path.replace("{trajectory_id}", "t-unknown")


@pytest.mark.parametrize(("method", "path"), sorted(REQUIRED_ROLE))
@pytest.mark.parametrize("token", [None, "apo_not-a-real-token"])
async def test_no_valid_token_is_401(wired, method: str, path: str, token: str | None) -> None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with wired.client() as client:
        reply = await client.request(method, _url(path), headers=headers, json={})
    assert reply.status_code == 401
    assert "detail" in reply.json()
    assert reply.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("method", "path"), sorted(k for k, role in REQUIRED_ROLE.items() if BELOW[role])
)
async def test_a_role_too_low_is_403(wired, method: str, path: str) -> None:
    async with wired.client(BELOW[REQUIRED_ROLE[(method, path)]]) as client:
        reply = await client.request(method, _url(path), json={})
    assert reply.status_code == 403
    assert "detail" in reply.json()


async def test_session_cookie_authenticates_until_logout(wired) -> None:
    async with wired.client() as client:
        bad = await client.post("/api/session", json={"token": "apo_wrong"})
        assert bad.status_code == 401
        login = await client.post("/api/session", json={"token": wired.tokens["annotator"]})
        assert login.status_code == 204
        assert "httponly" in login.headers["set-cookie"].lower()
        assert (await client.get("/api/me")).json() == {"name": "annotator-1", "role": "annotator"}
        assert (await client.delete("/api/session")).status_code == 204
        client.cookies.clear()  # httpx keeps an expired cookie; a browser drops it
        assert (await client.get("/api/me")).status_code == 401
