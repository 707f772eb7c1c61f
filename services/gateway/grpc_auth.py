"""The gRPC auth interceptor: `authorization: Bearer TOKEN` metadata and a role per method."""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable

import grpc

from services.gateway.users import Role, User, UserStore

SERVICE = "/apollo.v1.ControlService/"
# The least role of every control method; a method missing here is refused to everyone.
REQUIRED_ROLE: dict[str, Role] = {
    SERVICE + "ListTrajectories": Role.VIEWER,
    SERVICE + "GetTrajectory": Role.VIEWER,
    SERVICE + "WatchTrajectory": Role.VIEWER,
    SERVICE + "SubmitGuidance": Role.ANNOTATOR,
    SERVICE + "StartTrajectory": Role.ADMIN,
    SERVICE + "CancelTrajectory": Role.ADMIN,
}
# Health checks come from orchestrators that hold no user token.
PUBLIC_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")

CURRENT_USER: contextvars.ContextVar[User] = contextvars.ContextVar("apollo_grpc_user")


def bearer_token(metadata: tuple[tuple[str, str | bytes], ...] | None) -> str | None:
    """The token of an `authorization: Bearer ...` entry, if any."""
    for key, value in metadata or ():
        if key.lower() == "authorization" and isinstance(value, str):
            scheme, _, token = value.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


def _refusal(handler: grpc.RpcMethodHandler, code: grpc.StatusCode, detail: str):
    async def refuse_unary(request, context: grpc.aio.ServicerContext):
        await context.abort(code, detail)

    async def refuse_stream(request, context: grpc.aio.ServicerContext):
        await context.abort(code, detail)
        yield  # makes this an async generator, as a streaming handler must be

    if handler.unary_stream:
        return grpc.unary_stream_rpc_method_handler(
            refuse_stream, handler.request_deserializer, handler.response_serializer
        )
    return grpc.unary_unary_rpc_method_handler(
        refuse_unary, handler.request_deserializer, handler.response_serializer
    )


def _as_user(handler: grpc.RpcMethodHandler, user: User) -> grpc.RpcMethodHandler:
    # The handler runs in its own task, so the user travels in a context variable set there.
    if handler.unary_stream:

        async def stream(request, context):
            CURRENT_USER.set(user)
            async for response in handler.unary_stream(request, context):
                yield response

        return grpc.unary_stream_rpc_method_handler(
            stream, handler.request_deserializer, handler.response_serializer
        )

    async def unary(request, context):
        CURRENT_USER.set(user)
        return await handler.unary_unary(request, context)

    return grpc.unary_unary_rpc_method_handler(
        unary, handler.request_deserializer, handler.response_serializer
    )


class AuthInterceptor(grpc.aio.ServerInterceptor):
    """Refuses calls without a valid token (UNAUTHENTICATED) or below the method's role."""

    def __init__(self, users: UserStore) -> None:
        self._users = users

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        if handler is None or details.method.startswith(PUBLIC_PREFIXES):
            return handler
        token = bearer_token(details.invocation_metadata)
        user = None if token is None else await self._users.by_token(token)
        if user is None:
            return _refusal(
                handler, grpc.StatusCode.UNAUTHENTICATED, "send authorization: Bearer TOKEN"
            )
        needed = REQUIRED_ROLE.get(details.method)
        if needed is None or not user.role.allows(needed):
            return _refusal(
                handler,
                grpc.StatusCode.PERMISSION_DENIED,
                f"{user.name} is a {user.role}; this needs {needed or 'a listed method'}",
            )
        return _as_user(handler, user)
