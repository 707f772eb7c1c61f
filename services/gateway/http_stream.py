"""GET /api/stream: live events and presence as server-sent events."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from services.eventlog.jsonl import to_json_line
from services.gateway.http_auth import require
from services.gateway.presence import LIST
from services.gateway.users import Role, User

router = APIRouter(prefix="/api")


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
    """`event: apollo` per live event (protobuf JSON) and `event: presence` periodically."""
    return EventSourceResponse(_messages(request, user, trajectory_id or None))


async def _messages(
    request: Request, user: User, trajectory_id: str | None
) -> AsyncIterator[ServerSentEvent]:
    gateway = request.app.state.gateway
    interval = gateway.presence_interval_s
    with (
        gateway.presence.watching(trajectory_id or LIST, user.name),
        gateway.live.stream(trajectory_id) as live,
    ):
        yield _presence(gateway, trajectory_id)
        while not live.overflowed:
            try:
                event = await asyncio.wait_for(live.queue.get(), timeout=interval)
            except TimeoutError:
                yield _presence(gateway, trajectory_id)
                continue
            yield ServerSentEvent(data=to_json_line(event), event="apollo", id=event.event_id)


def _presence(gateway, trajectory_id: str | None) -> ServerSentEvent:
    if trajectory_id is None:
        data = {"watching": gateway.presence.by_trajectory()}
    else:
        data = {
            "trajectory_id": trajectory_id,
            "watchers": gateway.presence.watchers(trajectory_id),
        }
    return ServerSentEvent(data=json.dumps(data), event="presence")
