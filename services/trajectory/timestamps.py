"""Protobuf timestamps as aware UTC datetimes, cheaply: every folded or archived event has one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from google.protobuf.timestamp_pb2 import Timestamp

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The seconds of 0001-01-01T00:00:00Z up to 9999-12-31T23:59:59Z: what a Timestamp may hold.
_VALID_SECONDS = range(-62_135_596_800, 253_402_300_800)
_NANOS_PER_SECOND = 1_000_000_000


def utc_datetime(stamp: Timestamp) -> datetime:
    """`stamp.ToDatetime(tzinfo=UTC)` (microseconds, rounded toward zero), without its checks'
    cost for a valid timestamp; an invalid one raises the library's error."""
    seconds, nanos = stamp.seconds, stamp.nanos
    if seconds in _VALID_SECONDS and 0 <= nanos < _NANOS_PER_SECOND:
        return _EPOCH + timedelta(0, seconds, nanos // 1000)
    return stamp.ToDatetime(tzinfo=UTC)
