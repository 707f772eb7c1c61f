"""GET /api/stream: live events and presence as server-sent events."""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from apollo.v1 import events_pb2 as pb
from services.eventlog.archive import end_status
from services.eventlog.jsonl import to_json_line
from services.gateway.http_auth import request_token, require
from services.gateway.presence import LIST
from services.gateway.users import Role, User

router = APIRouter(prefix="/api")
# Every stream sends the same few newest events: each is serialized once, not once per watcher.
_RECENT_LINES = 256


class _RecentLines:
    """The JSON lines of the newest events, by event id."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._lines: OrderedDict[str, str] = OrderedDict()

    def line(self, event: pb.Event) -> str:
        """The event's JSON line, serialized on first request."""
        line = self._lines.get(event.event_id)
        if line is None:
            line = self._lines[event.event_id] = to_json_line(event)
            if len(self._lines) > self._size:
                self._lines.popitem(last=False)
        return line


_recent = _RecentLines(_RECENT_LINES)


@router.get(
    "/stream",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "An SSE stream"}},
)
async def stream(
    request: Request,
    user: Annotated[User, Depends(require(Role.VIEWER))],
    trajectory_id: Annotated[str | None, Query(max_length=200)] = None,
) -> EventSourceResponse:
    """`event: apollo` per live event (protobuf JSON), `event: status` after an end, presence."""
    return EventSourceResponse(_messages(request, user, trajectory_id or None))


async def _messages(
    request: Request, user: User, trajectory_id: str | None
) -> AsyncIterator[ServerSentEvent]:
    gateway = request.app.state.gateway
    interval = gateway.presence_interval_s
    token = request_token(request)
    with (
        gateway.presence.watching(trajectory_id or LIST, user.name),
        gateway.live.stream(trajectory_id) as live,
    ):
        yield _presence(gateway, trajectory_id)
        while not live.overflowed:
            try:
                event = await asyncio.wait_for(live.queue.get(), timeout=interval)
            except TimeoutError:
                if await gateway.users.by_token(token) is None:
                    return  # revoked: the stream ends with the token
                yield _presence(gateway, trajectory_id)
                continue
            yield ServerSentEvent(data=_recent.line(event), event="apollo", id=event.event_id)
            status = end_status(event)
            if status is not None:
                # The browser shows the status the server derives instead of deriving its own.
                data = {"trajectory_id": event.trajectory_id, "status": status}
                yield ServerSentEvent(data=json.dumps(data), event="status")


def _presence(gateway, trajectory_id: str | None) -> ServerSentEvent:
    if trajectory_id is None:
        data = {"watching": gateway.presence.by_trajectory()}
    else:
        data = {
            "trajectory_id": trajectory_id,
            "watchers": gateway.presence.watchers(trajectory_id),
        }
    return ServerSentEvent(data=json.dumps(data), event="presence")
