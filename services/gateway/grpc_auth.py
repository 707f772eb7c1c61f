"""The gRPC auth interceptor: `authorization: Bearer TOKEN` metadata and a role per method,
token guessing throttled, and malformed requests refused as such."""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Awaitable, Callable

import grpc
from google.protobuf.message import DecodeError

from services.gateway import metrics
from services.gateway.sign_in_throttle import SignInThrottle
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
# The caller's token, so a long watch can notice when it is revoked.
CURRENT_TOKEN: contextvars.ContextVar[str] = contextvars.ContextVar("apollo_grpc_token")


def bearer_token(metadata: tuple[tuple[str, str | bytes], ...] | None) -> str | None:
    """The token of an `authorization: Bearer ...` entry, if any."""
    for key, value in metadata or ():
        if key.lower() == "authorization" and isinstance(value, str):
            scheme, _, token = value.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


def client_address(peer: str) -> str:
    """The address part of a gRPC peer ("ipv4:10.0.0.7:5123" -> "ipv4:10.0.0.7")."""
    address, _, port = peer.rpartition(":")
    return address if port.isdigit() else peer


Check = Callable[[grpc.aio.ServicerContext], Awaitable[None]]


# What a request that is not a valid message deserializes to, so it gets INVALID_ARGUMENT
# instead of grpc's UNKNOWN.
MALFORMED = object()


def _lenient(deserialize: Callable[[bytes], object]) -> Callable[[bytes], object]:
    def parse(data: bytes) -> object:
        try:
            return deserialize(data)
        except DecodeError:
            return MALFORMED

    return parse


async def _admit_request(request, context: grpc.aio.ServicerContext, check: Check) -> None:
    await check(context)
    if request is MALFORMED:
        await context.abort(
            grpc.StatusCode.INVALID_ARGUMENT, "the request is not a valid protobuf message"
        )


def _checked(handler: grpc.RpcMethodHandler, check: Check) -> grpc.RpcMethodHandler:
    # The check runs in the handler's own task, so the user it sets reaches the handler.
    parse = _lenient(handler.request_deserializer)
    if handler.unary_stream:

        async def stream(request, context):
            await _admit_request(request, context, check)
            async for response in handler.unary_stream(request, context):
                yield response

        return grpc.unary_stream_rpc_method_handler(stream, parse, handler.response_serializer)

    async def unary(request, context):
        await _admit_request(request, context, check)
        return await handler.unary_unary(request, context)

    return grpc.unary_unary_rpc_method_handler(unary, parse, handler.response_serializer)


class AuthInterceptor(grpc.aio.ServerInterceptor):
    """Refuses calls without a valid token (UNAUTHENTICATED) or below the method's role, and
    calls from an address that sent too many wrong tokens (RESOURCE_EXHAUSTED)."""

    def __init__(self, users: UserStore, throttle: SignInThrottle) -> None:
        self._users = users
        self._throttle = throttle

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        if handler is None or details.method.startswith(PUBLIC_PREFIXES):
            return handler
        token = bearer_token(details.invocation_metadata)
        return _checked(handler, functools.partial(self._admit, details.method, token))

    async def _admit(
        self, method: str, token: str | None, context: grpc.aio.ServicerContext
    ) -> None:
        """Set the caller as the current user, or abort the call."""
        client = client_address(context.peer())
        wait_s = self._throttle.retry_after_s(client)
        if wait_s:
            metrics.SIGN_INS_THROTTLED.labels("grpc").inc()
            context.set_trailing_metadata((("retry-after", str(wait_s)),))
            await context.abort(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"too many wrong tokens from this address; retry in {wait_s} s",
            )
        user = None if token is None else await self._users.by_token(token)
        if user is None:
            if token is not None:
                self._throttle.failed(client)
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "send authorization: Bearer TOKEN")
        needed = REQUIRED_ROLE.get(method)
        if needed is None or not user.role.allows(needed):
            await context.abort(
                grpc.StatusCode.PERMISSION_DENIED,
                f"{user.name} is a {user.role}; this needs {needed or 'a listed method'}",
            )
        CURRENT_USER.set(user)
        CURRENT_TOKEN.set(token)
