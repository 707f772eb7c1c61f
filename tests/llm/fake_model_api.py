"""A loopback HTTP server base for fake model APIs: queued replies and injected failures."""

from __future__ import annotations

import json
from collections import deque
from typing import Any, Self

from aiohttp import web


class RequestRejected(Exception):
    """The fake found the request malformed; it answers 400 with this message."""


class LoopbackModelAPI:
    """Serves one POST route on 127.0.0.1; subclasses build replies and error bodies."""

    path = "/"

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._failures: deque[tuple[int, dict[str, str]]] = deque()
        self._replies: deque[dict[str, Any]] = deque()
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def start(self) -> Self:
        app = web.Application()
        app.router.add_post(self.path, self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # port 0 asked the OS for a free one
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def fail_next(self, status: int, headers: dict[str, str] | None = None) -> None:
        """Answer the next request with this HTTP status instead of a reply.

        Unless `headers` say otherwise, the answer asks for a retry a millisecond later
        (`retry-after-ms`, which both SDKs honour), so retry tests take no time.
        """
        self._failures.append((status, {"retry-after-ms": "1"} if headers is None else headers))

    def queue_reply(self, reply: dict[str, Any]) -> None:
        self._replies.append(reply)

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(body)
        self.headers.append(dict(request.headers))
        if self._failures:
            status, headers = self._failures.popleft()
            return web.json_response(self.error_body(status), status=status, headers=headers)
        try:
            self.check_request(body, request.headers)
        except RequestRejected as error:
            return web.json_response(self.error_body(400, str(error)), status=400)
        reply = self._replies.popleft() if self._replies else {}
        return web.json_response(self.build_reply(body, reply))

    def check_request(self, body: dict[str, Any], headers: Any) -> None:
        raise NotImplementedError

    def build_reply(self, body: dict[str, Any], reply: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def error_body(self, status: int, message: str = "") -> dict[str, Any]:
        raise NotImplementedError


def prompt_size(body: dict[str, Any]) -> int:
    """A stand-in prompt token count the tests can predict."""
    return len(json.dumps(body.get("messages", []))) // 4
