"""The FastAPI app: routes, error mapping, metrics, security headers and the static web app."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services.gateway import http_routes, http_stream, metrics
from services.gateway.body_limit import BodyLimit
from services.gateway.confirmation import NotArchivedYet
from services.gateway.control import (
    InvalidGuidance,
    TrajectoryAlreadyEnded,
    UnknownStep,
    UnknownTask,
    UnknownTrajectory,
)
from services.gateway.same_origin import cross_site_refusal
from services.gateway.verdicts import UnknownRulesetVersion
from services.tasks.starting import BadPolicy

if TYPE_CHECKING:
    from services.gateway.app import Gateway

HealthCheck = Callable[[], bool]
# Agent output is data: the web app must render it as text. This header makes an injected
# inline <script> inert even if some view forgets; the app's own scripts are files.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
_ERRORS: dict[type[Exception], int] = {
    UnknownTrajectory: status.HTTP_404_NOT_FOUND,
    UnknownStep: status.HTTP_404_NOT_FOUND,
    UnknownRulesetVersion: status.HTTP_404_NOT_FOUND,
    TrajectoryAlreadyEnded: status.HTTP_409_CONFLICT,
    InvalidGuidance: status.HTTP_422_UNPROCESSABLE_CONTENT,
    UnknownTask: status.HTTP_422_UNPROCESSABLE_CONTENT,
    BadPolicy: status.HTTP_422_UNPROCESSABLE_CONTENT,
    NotArchivedYet: status.HTTP_503_SERVICE_UNAVAILABLE,
}


def create_app(gateway: Gateway, health: HealthCheck = lambda: True) -> FastAPI:
    """The HTTP app over a wired gateway."""
    app = FastAPI(
        title="Apollo gateway",
        version="1",
        description=(
            "Watch trajectories and their verdicts, give asynchronous guidance, label steps, "
            "start and stop runs."
        ),
        docs_url=None,
        redoc_url=None,
    )
    app.state.gateway = gateway
    app.include_router(http_routes.router)
    app.include_router(http_stream.router)
    for error, code in _ERRORS.items():
        app.add_exception_handler(error, _reply_with(code))
    app.add_exception_handler(RequestValidationError, _validation_failed)
    # Innermost, so the route itself reads through the limit (and its 413 is counted).
    app.add_middleware(BodyLimit, max_bytes=gateway.max_body_bytes)
    app.middleware("http")(_same_origin_only)
    app.middleware("http")(_count_and_secure)
    _add_operational_routes(app, gateway, health)
    return app


def _reply_with(code: int) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def reply(request: Request, error: Exception) -> Response:
        return JSONResponse({"detail": str(error)}, status_code=code)

    return reply


async def _validation_failed(request: Request, error: RequestValidationError) -> Response:
    # Where and why only: echoing the input would send a 20 MB body straight back.
    detail = [{k: e[k] for k in ("loc", "msg", "type") if k in e} for e in error.errors()]
    return JSONResponse({"detail": detail}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


async def _same_origin_only(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    refusal = cross_site_refusal(request)
    if refusal is not None:
        return JSONResponse({"detail": refusal}, status_code=status.HTTP_403_FORBIDDEN)
    return await call_next(request)


async def _count_and_secure(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    response = await call_next(request)
    response.headers.update(SECURITY_HEADERS)
    # The route template, not the path: ids would make the label set unbounded.
    route = request.scope.get("route")
    template = getattr(route, "path", "unmatched")
    metrics.HTTP_REQUESTS.labels(template, str(response.status_code)).inc()
    return response


def _add_operational_routes(app: FastAPI, gateway: Gateway, health: HealthCheck) -> None:
    @app.get("/", include_in_schema=False)
    async def index() -> Response:
        page = gateway.static_dir / "index.html"
        if not page.is_file():
            return PlainTextResponse("the web app is not installed", status_code=404)
        return FileResponse(page)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> Response:
        ok = health()
        return PlainTextResponse("ok\n" if ok else "unhealthy\n", status_code=200 if ok else 503)

    @app.get("/metrics", include_in_schema=False)
    async def prometheus() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    app.mount("/static", StaticFiles(directory=gateway.static_dir, check_dir=False), "static")
