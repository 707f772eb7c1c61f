"""Fuzzing the gRPC API: random and malformed requests never get an internal error status."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import grpc
import pytest
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apollo.v1 import control_pb2 as cpb
from apollo.v1 import events_pb2 as pb
from services.eventlog.archive import InMemoryArchive
from services.eventlog.events import new_event
from services.eventlog.memory_bus import InMemoryBus
from services.eventlog.topics import TRAJECTORIES
from services.gateway.app import Gateway
from services.gateway.attention import InMemoryAttentionLedger
from services.gateway.grpc_auth import SERVICE
from services.gateway.grpc_server import start_grpc_server
from services.gateway.sign_in_throttle import SignInThrottle
from services.gateway.users import InMemoryUserStore, Role

METHODS = list(cpb.DESCRIPTOR.services_by_name["ControlService"].methods)
# Statuses that mean the server failed rather than refused.
SERVER_ERRORS = {grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL, grpc.StatusCode.DATA_LOSS}
# Values the server knows, so the fuzzer gets past "not found" too.
KNOWN_STRINGS = ["t-1", "toy-task", "local", "scripted:reference", "advice", ""]
_INTS = {
    FieldDescriptor.TYPE_UINT32: st.integers(0, 2**32 - 1),
    FieldDescriptor.TYPE_UINT64: st.integers(0, 2**64 - 1),
    FieldDescriptor.TYPE_INT32: st.integers(-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_INT64: st.integers(-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_ENUM: st.integers(-(2**31), 2**31 - 1),
}


def _scalar(field: FieldDescriptor) -> st.SearchStrategy:
    if field.type == FieldDescriptor.TYPE_STRING:
        return st.sampled_from(KNOWN_STRINGS) | st.text(max_size=300)
    if field.type == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if field.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return st.floats(allow_nan=True, allow_infinity=True, width=32)
    if field.type == FieldDescriptor.TYPE_BYTES:
        return st.binary(max_size=100)
    return _INTS[field.type]


def messages(descriptor: Descriptor, depth: int = 0) -> st.SearchStrategy[dict]:
    """Field values for a message of `descriptor`, as keyword arguments."""
    fields: dict[str, st.SearchStrategy] = {}
    for field in descriptor.fields:
        message = field.message_type
        if message is not None and message.GetOptions().map_entry:
            fields[field.name] = st.dictionaries(st.text(max_size=20), st.text(max_size=20))
        elif message is not None:
            # Our own messages (budgets) nest; well-known ones (timestamps) are left out.
            if depth < 2 and message.full_name.startswith("apollo."):
                fields[field.name] = messages(message, depth + 1)
        elif field.is_repeated:
            fields[field.name] = st.lists(_scalar(field), max_size=5)
        else:
            fields[field.name] = _scalar(field)
    return st.fixed_dictionaries({}, optional=fields)


class GatewayThread:
    """A gateway over fakes and its gRPC server, on an event loop of its own thread."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.port, self.token = self._run(self._start())

    def _run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(30)

    async def _start(self) -> tuple[int, str]:
        users, archive, bus = InMemoryUserStore(), InMemoryArchive(), InMemoryBus()
        _, token = await users.add("fuzzer", Role.ADMIN)
        started = new_event(
            pb.TrajectoryStarted(task_id="toy-task"), trajectory_id="t-1", service="test"
        )
        await archive.append([(TRAJECTORIES.name, started)])
        await bus.start()
        # No throttle to speak of: the fuzzer's wrong tokens must not hide other answers.
        gateway = Gateway(
            users,
            InMemoryAttentionLedger(),
            archive,
            bus,
            sign_in=SignInThrottle(burst=10**9),
        )
        self._server, port = await start_grpc_server(gateway, "127.0.0.1", 0)
        return port, token

    def stop(self) -> None:
        self._run(self._server.stop(grace=None))
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


@pytest.fixture(scope="module")
def channel() -> Iterator[tuple[grpc.Channel, str]]:
    server = GatewayThread()
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        yield channel, server.token
    server.stop()


def call(channel: grpc.Channel, method, payload: bytes, metadata: tuple) -> None:
    """Send raw bytes as the method's request; raise its RpcError if it fails."""
    path = SERVICE + method.name
    if method.server_streaming:
        stream = channel.unary_stream(path)(payload, metadata=metadata, timeout=0.5)
        for _ in stream:
            break
        stream.cancel()
    else:
        channel.unary_unary(path)(payload, metadata=metadata, timeout=5)


def metadata_of(token: str) -> st.SearchStrategy[tuple]:
    # Printable ASCII: the client itself refuses other header values before sending.
    printable = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
    wrong = st.text(printable, max_size=60).map(lambda t: (("authorization", f"Bearer {t}"),))
    return st.just((("authorization", f"Bearer {token}"),)) | wrong | st.just(())


def assert_no_server_error(channel: grpc.Channel, method, payload: bytes, metadata) -> None:
    try:
        call(channel, method, payload, metadata)
        code, detail = grpc.StatusCode.OK, ""
    except grpc.RpcError as error:
        code, detail = error.code(), str(error)
    assert code not in SERVER_ERRORS, f"{method.name}: {detail}"


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.name)
@pytest.mark.timeout(120)
def test_random_requests_get_no_server_error(channel, method) -> None:
    grpc_channel, token = channel
    request_class = getattr(cpb, method.input_type.name)

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(fields=messages(method.input_type), metadata=st.data())
    def fuzz(fields: dict, metadata) -> None:
        payload = request_class(**fields).SerializeToString()
        chosen = metadata.draw(metadata_of(token))
        assert_no_server_error(grpc_channel, method, payload, chosen)

    fuzz()


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.name)
@pytest.mark.timeout(120)
def test_malformed_bytes_get_no_server_error(channel, method) -> None:
    grpc_channel, token = channel
    metadata = (("authorization", f"Bearer {token}"),)

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(payload=st.binary(max_size=300))
    def fuzz(payload: bytes) -> None:
        assert_no_server_error(grpc_channel, method, payload, metadata)

    fuzz()
