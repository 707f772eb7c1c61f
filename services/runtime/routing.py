"""A service's routing table: each event kind it consumes, and the handler that takes it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Generic, TypeVar

from apollo.v1 import events_pb2 as pb
from services.eventlog.events import body_kind

Service = TypeVar("Service")
Handler = Callable[[Service, pb.Event], Awaitable[None]]

EVENT_KINDS = frozenset(field.name for field in pb.Event.DESCRIPTOR.oneofs_by_name["body"].fields)


class UnknownEventKind(ValueError):
    """A routing table names a kind that is no event family of the schema."""


class EventRoutes(Generic[Service]):
    """Event kind → handler; events of kinds the table does not name pass by untouched."""

    def __init__(self, handlers: Mapping[str, Handler[Service]]) -> None:
        unknown = sorted(set(handlers) - EVENT_KINDS)
        if unknown:
            raise UnknownEventKind(
                f"no event family is called {', '.join(unknown)}; "
                f"route one of: {', '.join(sorted(EVENT_KINDS))}"
            )
        self._handlers = dict(handlers)

    @property
    def kinds(self) -> frozenset[str]:
        """The event kinds this table routes."""
        return frozenset(self._handlers)

    async def route(self, service: Service, event: pb.Event) -> None:
        """Hand `event` to its kind's handler, if the table has one."""
        handler = self._handlers.get(body_kind(event))
        if handler is not None:
            await handler(service, event)
