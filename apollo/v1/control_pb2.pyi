import datetime

from apollo.v1 import events_pb2 as _events_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TrajectoryStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRAJECTORY_STATUS_UNSPECIFIED: _ClassVar[TrajectoryStatus]
    TRAJECTORY_STATUS_RUNNING: _ClassVar[TrajectoryStatus]
    TRAJECTORY_STATUS_FINISHED: _ClassVar[TrajectoryStatus]
    TRAJECTORY_STATUS_FAILED: _ClassVar[TrajectoryStatus]
    TRAJECTORY_STATUS_CANCELLED: _ClassVar[TrajectoryStatus]
TRAJECTORY_STATUS_UNSPECIFIED: TrajectoryStatus
TRAJECTORY_STATUS_RUNNING: TrajectoryStatus
TRAJECTORY_STATUS_FINISHED: TrajectoryStatus
TRAJECTORY_STATUS_FAILED: TrajectoryStatus
TRAJECTORY_STATUS_CANCELLED: TrajectoryStatus

class TrajectorySummary(_message.Message):
    __slots__ = ("trajectory_id", "task_id", "status", "steps", "guidance_count", "started_at", "last_activity_at", "final_score", "needs_attention")
    TRAJECTORY_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    GUIDANCE_COUNT_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_ACTIVITY_AT_FIELD_NUMBER: _ClassVar[int]
    FINAL_SCORE_FIELD_NUMBER: _ClassVar[int]
    NEEDS_ATTENTION_FIELD_NUMBER: _ClassVar[int]
    trajectory_id: str
    task_id: str
    status: TrajectoryStatus
    steps: int
    guidance_count: int
    started_at: _timestamp_pb2.Timestamp
    last_activity_at: _timestamp_pb2.Timestamp
    final_score: float
    needs_attention: bool
    def __init__(self, trajectory_id: _Optional[str] = ..., task_id: _Optional[str] = ..., status: _Optional[_Union[TrajectoryStatus, str]] = ..., steps: _Optional[int] = ..., guidance_count: _Optional[int] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_activity_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., final_score: _Optional[float] = ..., needs_attention: _Optional[bool] = ...) -> None: ...

class StartTrajectoryRequest(_message.Message):
    __slots__ = ("task_id", "policy", "budgets", "summary_threshold_tokens", "labels", "task_seed")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    BUDGETS_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_THRESHOLD_TOKENS_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    TASK_SEED_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    policy: str
    budgets: _events_pb2.Budgets
    summary_threshold_tokens: int
    labels: _containers.ScalarMap[str, str]
    task_seed: int
    def __init__(self, task_id: _Optional[str] = ..., policy: _Optional[str] = ..., budgets: _Optional[_Union[_events_pb2.Budgets, _Mapping]] = ..., summary_threshold_tokens: _Optional[int] = ..., labels: _Optional[_Mapping[str, str]] = ..., task_seed: _Optional[int] = ...) -> None: ...

class StartTrajectoryResponse(_message.Message):
    __slots__ = ("trajectory_id",)
    TRAJECTORY_ID_FIELD_NUMBER: _ClassVar[int]
    trajectory_id: str
    def __init__(self, trajectory_id: _Optional[str] = ...) -> None: ...

class CancelTrajectoryRequest(_message.Message):
    __slots__ = ("trajectory_id", "reason")
    TRAJECTORY_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    trajectory_id: str
    reason: str
    def __init__(self, trajectory_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class CancelTrajectoryResponse(_message.Message):
    __slots__ = ("event_id",)
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    def __init__(self, event_id: _Optional[str] = ...) -> None: ...

class ListTrajectoriesRequest(_message.Message):
    __slots__ = ("limit", "status")
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    limit: int
    status: TrajectoryStatus
    def __init__(self, limit: _Optional[int] = ..., status: _Optional[_Union[TrajectoryStatus, str]] = ...) -> None: ...

class ListTrajectoriesResponse(_message.Message):
    __slots__ = ("trajectories",)
    TRAJECTORIES_FIELD_NUMBER: _ClassVar[int]
    trajectories: _containers.RepeatedCompositeFieldContainer[TrajectorySummary]
    def __init__(self, trajectories: _Optional[_Iterable[_Union[TrajectorySummary, _Mapping]]] = ...) -> None: ...

class GetTrajectoryRequest(_message.Message):
    __slots__ = ("trajectory_id",)
    TRAJECTORY_ID_FIELD_NUMBER: _ClassVar[int]
    trajectory_id: str
    def __init__(self, trajectory_id: _Optional[str] = ...) -> None: ...

class GetTrajectoryResponse(_message.Message):
    __slots__ = ("summary", "events")
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    summary: TrajectorySummary
    events: _containers.RepeatedCompositeFieldContainer[_events_pb2.Event]
    def __init__(self, summary: _Optional[_Union[TrajectorySummary, _Mapping]] = ..., events: _Optional[_Iterable[_Union[_events_pb2.Event, _Mapping]]] = ...) -> None: ...

class WatchTrajectoryRequest(_message.Message):
    __slots__ = ("trajectory_id", "after_event_id")
    TRAJECTORY_ID_FIELD_NUMBER: _ClassVar[int]
    AFTER_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    trajectory_id: str
    after_event_id: str
    def __init__(self, trajectory_id: _Optional[str] = ..., after_event_id: _Optional[str] = ...) -> None: ...

class WatchTrajectoryResponse(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: _events_pb2.Event
    def __init__(self, event: _Optional[_Union[_events_pb2.Event, _Mapping]] = ...) -> None: ...

class SubmitGuidanceRequest(_message.Message):
    __slots__ = ("trajectory_id", "text", "kind", "flag_steps")
    TRAJECTORY_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    FLAG_STEPS_FIELD_NUMBER: _ClassVar[int]
    trajectory_id: str
    text: str
    kind: _events_pb2.GuidanceKind
    flag_steps: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, trajectory_id: _Optional[str] = ..., text: _Optional[str] = ..., kind: _Optional[_Union[_events_pb2.GuidanceKind, str]] = ..., flag_steps: _Optional[_Iterable[int]] = ...) -> None: ...

class SubmitGuidanceResponse(_message.Message):
    __slots__ = ("event_id",)
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    def __init__(self, event_id: _Optional[str] = ...) -> None: ...
