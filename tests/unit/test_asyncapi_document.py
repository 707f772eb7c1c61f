"""docs/asyncapi.yaml: valid AsyncAPI, every topic and event family, and never stale."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from apollo.v1 import events_pb2 as pb
from services.eventlog.kafka.asyncapi import asyncapi_yaml
from services.eventlog.topics import ALL_TOPICS

pytestmark = pytest.mark.timeout(30)

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.yaml"


@pytest.fixture(scope="module")
def document() -> dict:
    return yaml.safe_load(DOCUMENT.read_text())


def test_the_committed_document_is_what_the_code_generates() -> None:
    assert DOCUMENT.read_text() == asyncapi_yaml(), "stale: run `apollo docs asyncapi`"


def test_it_is_an_asyncapi_3_document_of_a_kafka_server(document: dict) -> None:
    assert document["asyncapi"] == "3.0.0"
    assert document["info"]["title"]
    assert {server["protocol"] for server in document["servers"].values()} == {"kafka"}


def test_every_topic_is_a_channel_with_a_message_and_a_send_operation(document: dict) -> None:
    channels = {channel["address"]: name for name, channel in document["channels"].items()}
    assert set(channels) == {topic.name for topic in ALL_TOPICS}
    sent = {op["channel"]["$ref"] for op in document["operations"].values()}
    for name in channels.values():
        assert document["channels"][name]["messages"], name
        assert f"#/channels/{name}" in sent


def test_every_event_family_has_a_payload_schema_on_its_topic(document: dict) -> None:
    schemas = document["components"]["schemas"]
    families = [f.message_type.name for f in pb.Event.DESCRIPTOR.oneofs_by_name["body"].fields]
    offered = set()
    for message in document["components"]["messages"].values():
        payload = schemas[message["payload"]["$ref"].rsplit("/", 1)[-1]]
        refs = [option["$ref"] for option in payload.get("anyOf", [])]
        offered |= {ref.rsplit("/", 1)[-1] for ref in refs} or {payload["title"]}
    assert set(families) <= offered
    for family in families:
        assert schemas[family]["type"] == "object"
    assert "step_index" in schemas["ActionProposed"]["properties"]


def test_every_reference_resolves(document: dict) -> None:
    def refs(node: object) -> list[str]:
        if isinstance(node, dict):
            return [v for k, v in node.items() if k == "$ref"] + [
                r for v in node.values() for r in refs(v)
            ]
        if isinstance(node, list):
            return [r for v in node for r in refs(v)]
        return []

    for ref in refs(document):
        target: object = document
        for part in ref.removeprefix("#/").split("/"):
            assert isinstance(target, dict), ref
            assert part in target, ref
            target = target[part]
