"""Request bodies over the gateway's limit are refused with 413 before they are read."""

from __future__ import annotations

from fastapi import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Guidance is at most 20,000 characters: a mebibyte leaves room for any request we take.
DEFAULT_MAX_BODY_BYTES = 1024 * 1024


def too_large(max_bytes: int) -> str:
    """The 413 detail."""
    return f"the request body is over {max_bytes} bytes"


class BodyLimit:
    """ASGI middleware: a declared Content-Length over the limit is answered at once, and a
    streamed (chunked) body is cut off as soon as what arrived passes it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self._app = app
        self._max = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > self._max:
            detail = too_large(self._max) if declared.isdigit() else "bad Content-Length"
            code = 413 if declared.isdigit() else 400
            await JSONResponse({"detail": detail}, status_code=code)(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self._max:
                # Raised inside the route, so the app's handler answers it as a 413.
                raise HTTPException(413, too_large(self._max))
            return message

        await self._app(scope, counted, send)
