"""Structured JSON logs, Prometheus metrics, and health and readiness checks for every service."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

HealthCheck = Callable[[], bool]


class _CurrentStderr:
    """`sys.stderr` as it is when a line is written: a test runner or the CLI may swap it."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(service: str, level: str = "INFO") -> structlog.stdlib.BoundLogger:
    """JSON lines on stderr, one per event, bound to the service name."""
    logging.basicConfig(stream=sys.stderr, level=level, format="%(message)s")
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(file=_CurrentStderr()),
        cache_logger_on_first_use=True,
    )
    return structlog.get_logger(service=service)


def _handler_for(health: HealthCheck, ready: HealthCheck) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/metrics":
                self._reply(200, generate_latest(), CONTENT_TYPE_LATEST)
            elif self.path == "/healthz":
                self._answer(health(), b"unhealthy\n")
            elif self.path == "/readyz":
                self._answer(ready(), b"not ready\n")
            else:
                self._reply(404, b"not found\n", "text/plain")

        def _answer(self, ok: bool, failure: bytes) -> None:
            self._reply(200 if ok else 503, b"ok\n" if ok else failure, "text/plain")

        def _reply(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Scrapes are not worth a log line each."""

    return _Handler


class ObservabilityServer:
    """Serves `/metrics` (Prometheus text format), `/healthz` (liveness) and `/readyz`
    (readiness: `ready`, or the health check alone), on loopback by default."""

    def __init__(
        self,
        port: int,
        health: HealthCheck,
        host: str = "127.0.0.1",
        ready: HealthCheck | None = None,
    ) -> None:
        handler = _handler_for(health, ready or health)
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def host(self) -> str:
        return self._server.server_address[0]

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def start(self) -> ObservabilityServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
