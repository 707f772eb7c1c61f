"""Dead-letter records: where a message was read, its exact bytes, and why it was refused."""

from __future__ import annotations

import pytest

from services.eventlog.codec import RejectedMessage
from services.eventlog.deadletter import (
    HANDLER_FAILED,
    HandlerFailure,
    dead_letter_for,
    parse_dead_letter,
)
from services.eventlog.memory_bus import Record

pytestmark = pytest.mark.timeout(10)


def test_a_dead_letter_keeps_the_message_its_origin_and_the_reason() -> None:
    message = Record("apollo.trajectories.v1", 0, 41, b"trajectory-1", b"\x00garbage")
    rejection = RejectedMessage("undecodable", "not a protobuf Event: truncated")

    letter = parse_dead_letter(
        dead_letter_for(message, rejection, "apollo-judge").SerializeToString()
    )

    assert (letter.topic, letter.partition, letter.offset) == ("apollo.trajectories.v1", 0, 41)
    assert (letter.key, letter.raw) == (b"trajectory-1", b"\x00garbage")
    assert (letter.error_class, letter.reason) == ("undecodable", "not a protobuf Event: truncated")
    assert letter.consumer_group == "apollo-judge"
    assert letter.dead_lettered_at.seconds > 0


def test_a_message_without_key_or_value_is_dead_lettered_with_empty_bytes() -> None:
    tombstone = Record("apollo.trajectories.v1", 0, 7, None, None)

    letter = dead_letter_for(tombstone, RejectedMessage("undecodable", "no value"), "g")

    assert (letter.key, letter.raw) == (b"", b"")


def test_a_handler_failure_names_the_last_error_and_the_attempts() -> None:
    failure = HandlerFailure.after(ConnectionError("sandbox unreachable"), attempts=3)

    assert failure.error_class == HANDLER_FAILED
    assert (
        failure.reason == "handler failed 3 times, last with ConnectionError: sandbox unreachable"
    )
