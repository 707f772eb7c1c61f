"""Who is calling: a bearer token or the session cookie, checked against the user store."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import HTTPException, Request, status

from services.gateway import metrics
from services.gateway.users import Role, User

SESSION_COOKIE = "apollo_session"


def request_token(request: Request) -> str | None:
    """The bearer token of the request, else the session cookie's."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.cookies.get(SESSION_COOKIE) or None


def unauthenticated(detail: str) -> HTTPException:
    """401 with the challenge clients expect."""
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"}
    )


async def authenticate(request: Request, token: str) -> User:
    """The token's user; 401 if it is wrong, 429 while its address sent too many wrong ones."""
    gateway = request.app.state.gateway
    client = request.client.host if request.client else "unknown"
    wait_s = gateway.sign_in.retry_after_s(client)
    if wait_s:
        metrics.SIGN_INS_THROTTLED.labels("http").inc()
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"too many wrong tokens from this address; retry in {wait_s} s",
            headers={"Retry-After": str(wait_s)},
        )
    user = await gateway.users.by_token(token)
    if user is None:
        gateway.sign_in.failed(client)
        raise unauthenticated("the token is not valid")
    return user


def require(role: Role) -> Callable[[Request], Awaitable[User]]:
    """A dependency that yields the caller if authenticated with at least `role`."""

    async def dependency(request: Request) -> User:
        token = request_token(request)
        if token is None:
            raise unauthenticated("send Authorization: Bearer TOKEN or log in at /api/session")
        user = await authenticate(request, token)
        if not user.role.allows(role):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"{user.name} is a {user.role}; this needs {role}"
            )
        return user

    return dependency


def channel(request: Request) -> str:
    """ "web" for the browser (cookie session), "api" for bearer-token clients."""
    return "api" if request.headers.get("authorization") else "web"
