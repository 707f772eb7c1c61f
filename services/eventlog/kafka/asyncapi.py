"""The AsyncAPI document of the bus: every topic, its key, and every event family on it.

FastStream generates it from a broker that declares one publisher per topic; each event
family's payload schema is read from the protobuf descriptors, so the document follows
`protos/apollo/v1/events.proto` without being written by hand.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any, Literal, Union

import yaml
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from pydantic import BaseModel, create_model

from apollo.v1 import deadletter_pb2
from apollo.v1 import events_pb2 as pb
from services.eventlog.topics import ALL_TOPICS, DEADLETTER, Topic, topic_for
from services.eventlog.upcasting import CURRENT_SCHEMA_VERSION

# The documented server: the embedded stack's broker (a deployment names its own).
DOCUMENTED_BOOTSTRAP = "127.0.0.1:9092"

_ENVELOPE = (
    "Each message is an `apollo.v1.Event` in protobuf binary: the envelope (event_id, "
    "trajectory_id, occurred_at, source, causation_id, schema_version) and one body of "
    "the families below."
)

_SCALARS: dict[int, type] = {
    FieldDescriptor.TYPE_STRING: str,
    FieldDescriptor.TYPE_BOOL: bool,
    FieldDescriptor.TYPE_BYTES: bytes,
    FieldDescriptor.TYPE_DOUBLE: float,
    FieldDescriptor.TYPE_FLOAT: float,
}


def event_families() -> list[Descriptor]:
    """The body messages of the Event envelope's oneof, in field order."""
    return [field.message_type for field in pb.Event.DESCRIPTOR.oneofs_by_name["body"].fields]


def families_on(topic: Topic) -> list[Descriptor]:
    """The event families published on `topic`."""
    return [family for family in event_families() if topic_for(_example(family)) == topic]


def asyncapi_broker() -> KafkaBroker:
    """A broker declaring one publisher per topic, with the payload schemas of its families."""
    broker = KafkaBroker(
        DOCUMENTED_BOOTSTRAP,
        description="Apollo's event bus: immutable events on Kafka topics",
    )
    for topic in ALL_TOPICS:
        bodies = (
            [deadletter_pb2.DeadLetter.DESCRIPTOR] if topic == DEADLETTER else families_on(topic)
        )
        models = tuple(_model(body) for body in bodies)
        broker.publisher(
            topic.name,
            title=topic.name,
            description=_describe(topic),
            schema=Union[models] if len(models) > 1 else models[0],  # noqa: UP007
        )
    return broker


def asyncapi_yaml() -> str:
    """The AsyncAPI 3.0 document of every topic and event family, as YAML."""
    specification = AsyncAPI(
        asyncapi_broker(),
        title="Apollo event bus",
        version=f"schema-v{CURRENT_SCHEMA_VERSION}",
        description=_ENVELOPE,
        schema_version="3.0.0",
    )
    document = specification.to_specification().to_jsonable()
    # FastStream assumes JSON bodies; ours are protobuf binary.
    document["defaultContentType"] = "application/x-protobuf"
    # Sorted: FastStream lists publishers in no fixed order, and the document is committed.
    return yaml.safe_dump(document, sort_keys=True, allow_unicode=True)


def _describe(topic: Topic) -> str:
    if topic == DEADLETTER:
        return f"{topic.description}; {topic.partitions} partition(s); apollo.v1.DeadLetter"
    families = ", ".join(family.name for family in families_on(topic))
    return f"{topic.description}; {topic.partitions} partition(s); families: {families}"


def _example(family: Descriptor) -> pb.Event:
    event = pb.Event()
    getattr(event, _body_field(family)).SetInParent()
    return event


def _body_field(family: Descriptor) -> str:
    body = pb.Event.DESCRIPTOR.oneofs_by_name["body"]
    return next(field.name for field in body.fields if field.message_type is family)


@cache
def _model(message: Descriptor) -> type[BaseModel]:
    fields: dict[str, Any] = {field.name: (_field_type(field), None) for field in message.fields}
    return create_model(message.name, __doc__=f"apollo.v1 {message.full_name}", **fields)


def _field_type(field: FieldDescriptor) -> Any:
    message = field.message_type
    if message is not None and message.GetOptions().map_entry:
        return dict[str, _field_type(message.fields_by_name["value"])]
    if message is not None:
        timestamp = message.full_name == "google.protobuf.Timestamp"
        item: Any = datetime if timestamp else _model(message)
    elif field.enum_type is not None:
        item = Literal[tuple(value.name for value in field.enum_type.values)]
    else:
        item = _SCALARS.get(field.type, int)
    return list[item] if field.is_repeated else item | None
