"""The gateway's settings (environment variables APOLLO_*)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from services.gateway.body_limit import DEFAULT_MAX_BODY_BYTES
from services.runtime.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    """Where the gateway listens and how eagerly it asks for a human."""

    gateway_host: str = Field(
        default="127.0.0.1", description="Interface of the HTTP and gRPC ports"
    )
    gateway_port: int = Field(default=0, ge=0, description="HTTP port; 0 picks a free one")
    gateway_grpc_port: int = Field(default=0, ge=0, description="gRPC port; 0 picks a free one")
    gateway_url_file: Path | None = Field(
        default=None,
        description='Where to write {"http": URL, "grpc": HOST:PORT} once both ports are bound',
    )
    gateway_presence_interval_s: float = Field(
        default=5.0, gt=0, description="Seconds between presence messages on every SSE stream"
    )
    gateway_secure_cookie: bool = Field(
        default=False, description="Mark the session cookie Secure (when served over HTTPS)"
    )
    gateway_task_dirs: list[Path] = Field(
        default_factory=list,
        description="Extra task pack directories to start runs from (the built-ins always "
        "load); the sandbox needs the same ones in APOLLO_SANDBOX_TASK_DIRS",
    )
    gateway_no_progress_steps: int = Field(
        default=20,
        ge=1,
        description="Steps without a file change or eval that need attention (a quarter of "
        "the step budget when that is fewer)",
    )
    gateway_stall_seconds: float = Field(
        default=900.0, gt=0, description="Seconds without any event that need attention"
    )
    gateway_max_body_bytes: int = Field(
        default=DEFAULT_MAX_BODY_BYTES,
        ge=1024,
        description="Largest HTTP request body; a larger one is answered 413 unread",
    )
    gateway_confirm_archived: bool = Field(
        default=True,
        description="Answer guidance, labels, cancels and starts only once the recorder "
        "archived them (503 / UNAVAILABLE after 10 s: retry), so an accepted command "
        "survives a broker crash; needs a recorder",
    )
    gateway_sign_in_burst: int = Field(
        default=10, ge=1, description="Wrong tokens a client address may send in a row"
    )
    gateway_sign_in_per_minute: float = Field(
        default=10.0,
        gt=0,
        description="Wrong tokens a client address regains per minute after its burst; "
        "beyond them sign-ins are answered 429 (gRPC RESOURCE_EXHAUSTED) with a retry time",
    )
