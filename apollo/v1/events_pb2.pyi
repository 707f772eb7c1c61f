import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GuidanceKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GUIDANCE_KIND_UNSPECIFIED: _ClassVar[GuidanceKind]
    GUIDANCE_KIND_ADVICE: _ClassVar[GuidanceKind]
    GUIDANCE_KIND_KNOWLEDGE: _ClassVar[GuidanceKind]
    GUIDANCE_KIND_CORRECTION: _ClassVar[GuidanceKind]

class EndReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    END_REASON_UNSPECIFIED: _ClassVar[EndReason]
    END_REASON_FINISHED: _ClassVar[EndReason]
    END_REASON_STEP_BUDGET: _ClassVar[EndReason]
    END_REASON_TIME_BUDGET: _ClassVar[EndReason]
    END_REASON_ERROR: _ClassVar[EndReason]
    END_REASON_CANCELLED: _ClassVar[EndReason]

class Verdict(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VERDICT_UNSPECIFIED: _ClassVar[Verdict]
    VERDICT_KEEP: _ClassVar[Verdict]
    VERDICT_MASK: _ClassVar[Verdict]

class StepLabel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STEP_LABEL_UNSPECIFIED: _ClassVar[StepLabel]
    STEP_LABEL_KEEP: _ClassVar[StepLabel]
    STEP_LABEL_MASK: _ClassVar[StepLabel]
GUIDANCE_KIND_UNSPECIFIED: GuidanceKind
GUIDANCE_KIND_ADVICE: GuidanceKind
GUIDANCE_KIND_KNOWLEDGE: GuidanceKind
GUIDANCE_KIND_CORRECTION: GuidanceKind
END_REASON_UNSPECIFIED: EndReason
END_REASON_FINISHED: EndReason
END_REASON_STEP_BUDGET: EndReason
END_REASON_TIME_BUDGET: EndReason
END_REASON_ERROR: EndReason
END_REASON_CANCELLED: EndReason
VERDICT_UNSPECIFIED: Verdict
VERDICT_KEEP: Verdict
VERDICT_MASK: Verdict
STEP_LABEL_UNSPECIFIED: StepLabel
STEP_LABEL_KEEP: StepLabel
STEP_LABEL_MASK: StepLabel

class Event(_message.Message):
    __slots__ = ("event_id", "trajectory_id", "occurred_at", "source", "causation_id", "schema_version", "trajectory_started", "action_proposed", "observation_recorded", "guidance_submitted", "summary_requested", "context_summarized", "trajectory_ended", "trajectory_cancelled", "action_judged", "dataset_built", "checkpoint_saved", "evaluation_scored", "step_labeled")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TRAJECTORY_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    CAUSATION_ID_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    TRAJECTORY_STARTED_FIELD_NUMBER: _ClassVar[int]
    ACTION_PROPOSED_FIELD_NUMBER: _ClassVar[int]
    OBSERVATION_RECORDED_FIELD_NUMBER: _ClassVar[int]
    GUIDANCE_SUBMITTED_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_REQUESTED_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_SUMMARIZED_FIELD_NUMBER: _ClassVar[int]
    TRAJECTORY_ENDED_FIELD_NUMBER: _ClassVar[int]
    TRAJECTORY_CANCELLED_FIELD_NUMBER: _ClassVar[int]
    ACTION_JUDGED_FIELD_NUMBER: _ClassVar[int]
    DATASET_BUILT_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_SAVED_FIELD_NUMBER: _ClassVar[int]
    EVALUATION_SCORED_FIELD_NUMBER: _ClassVar[int]
    STEP_LABELED_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    trajectory_id: str
    occurred_at: _timestamp_pb2.Timestamp
    source: Source
    causation_id: str
    schema_version: int
    trajectory_started: TrajectoryStarted
    action_proposed: ActionProposed
    observation_recorded: ObservationRecorded
    guidance_submitted: GuidanceSubmitted
    summary_requested: SummaryRequested
    context_summarized: ContextSummarized
    trajectory_ended: TrajectoryEnded
    trajectory_cancelled: TrajectoryCancelled
    action_judged: ActionJudged
    dataset_built: DatasetBuilt
    checkpoint_saved: CheckpointSaved
    evaluation_scored: EvaluationScored
    step_labeled: StepLabeled
    def __init__(self, event_id: _Optional[str] = ..., trajectory_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., source: _Optional[_Union[Source, _Mapping]] = ..., causation_id: _Optional[str] = ..., schema_version: _Optional[int] = ..., trajectory_started: _Optional[_Union[TrajectoryStarted, _Mapping]] = ..., action_proposed: _Optional[_Union[ActionProposed, _Mapping]] = ..., observation_recorded: _Optional[_Union[ObservationRecorded, _Mapping]] = ..., guidance_submitted: _Optional[_Union[GuidanceSubmitted, _Mapping]] = ..., summary_requested: _Optional[_Union[SummaryRequested, _Mapping]] = ..., context_summarized: _Optional[_Union[ContextSummarized, _Mapping]] = ..., trajectory_ended: _Optional[_Union[TrajectoryEnded, _Mapping]] = ..., trajectory_cancelled: _Optional[_Union[TrajectoryCancelled, _Mapping]] = ..., action_judged: _Optional[_Union[ActionJudged, _Mapping]] = ..., dataset_built: _Optional[_Union[DatasetBuilt, _Mapping]] = ..., checkpoint_saved: _Optional[_Union[CheckpointSaved, _Mapping]] = ..., evaluation_scored: _Optional[_Union[EvaluationScored, _Mapping]] = ..., step_labeled: _Optional[_Union[StepLabeled, _Mapping]] = ...) -> None: ...

class Source(_message.Message):
    __slots__ = ("service", "version")
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    service: str
    version: str
    def __init__(self, service: _Optional[str] = ..., version: _Optional[str] = ...) -> None: ...

class BlobRef(_message.Message):
    __slots__ = ("digest", "size_bytes", "media_type")
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    MEDIA_TYPE_FIELD_NUMBER: _ClassVar[int]
    digest: str
    size_bytes: int
    media_type: str
    def __init__(self, digest: _Optional[str] = ..., size_bytes: _Optional[int] = ..., media_type: _Optional[str] = ...) -> None: ...

class Budgets(_message.Message):
    __slots__ = ("max_steps", "max_seconds", "max_evals")
    MAX_STEPS_FIELD_NUMBER: _ClassVar[int]
    MAX_SECONDS_FIELD_NUMBER: _ClassVar[int]
    MAX_EVALS_FIELD_NUMBER: _ClassVar[int]
    max_steps: int
    max_seconds: int
    max_evals: int
    def __init__(self, max_steps: _Optional[int] = ..., max_seconds: _Optional[int] = ..., max_evals: _Optional[int] = ...) -> None: ...

class SamplingParams(_message.Message):
    __slots__ = ("temperature", "top_p", "max_tokens", "seed")
    TEMPERATURE_FIELD_NUMBER: _ClassVar[int]
    TOP_P_FIELD_NUMBER: _ClassVar[int]
    MAX_TOKENS_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    temperature: float
    top_p: float
    max_tokens: int
    seed: int
    def __init__(self, temperature: _Optional[float] = ..., top_p: _Optional[float] = ..., max_tokens: _Optional[int] = ..., seed: _Optional[int] = ...) -> None: ...

class ModelSpec(_message.Message):
    __slots__ = ("backend", "model", "sampling")
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SAMPLING_FIELD_NUMBER: _ClassVar[int]
    backend: str
    model: str
    sampling: SamplingParams
    def __init__(self, backend: _Optional[str] = ..., model: _Optional[str] = ..., sampling: _Optional[_Union[SamplingParams, _Mapping]] = ...) -> None: ...

class ToolSpec(_message.Message):
    __slots__ = ("name", "description", "parameters_json_schema")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_JSON_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    parameters_json_schema: str
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., parameters_json_schema: _Optional[str] = ...) -> None: ...

class TrajectoryStarted(_message.Message):
    __slots__ = ("task_id", "task_title", "task_description", "tools", "budgets", "policy", "summary_threshold_tokens", "context_window_tokens", "machines", "started_by", "labels", "prompt_template_version", "scripted_calls", "system_prompt", "task_seed")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_TITLE_FIELD_NUMBER: _ClassVar[int]
    TASK_DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    TOOLS_FIELD_NUMBER: _ClassVar[int]
    BUDGETS_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_THRESHOLD_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_WINDOW_TOKENS_FIELD_NUMBER: _ClassVar[int]
    MACHINES_FIELD_NUMBER: _ClassVar[int]
    STARTED_BY_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    PROMPT_TEMPLATE_VERSION_FIELD_NUMBER: _ClassVar[int]
    SCRIPTED_CALLS_FIELD_NUMBER: _ClassVar[int]
    SYSTEM_PROMPT_FIELD_NUMBER: _ClassVar[int]
    TASK_SEED_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    task_title: str
    task_description: str
    tools: _containers.RepeatedCompositeFieldContainer[ToolSpec]
    budgets: Budgets
    policy: ModelSpec
    summary_threshold_tokens: int
    context_window_tokens: int
    machines: str
    started_by: str
    labels: _containers.ScalarMap[str, str]
    prompt_template_version: str
    scripted_calls: _containers.RepeatedCompositeFieldContainer[ScriptedCall]
    system_prompt: str
    task_seed: int
    def __init__(self, task_id: _Optional[str] = ..., task_title: _Optional[str] = ..., task_description: _Optional[str] = ..., tools: _Optional[_Iterable[_Union[ToolSpec, _Mapping]]] = ..., budgets: _Optional[_Union[Budgets, _Mapping]] = ..., policy: _Optional[_Union[ModelSpec, _Mapping]] = ..., summary_threshold_tokens: _Optional[int] = ..., context_window_tokens: _Optional[int] = ..., machines: _Optional[str] = ..., started_by: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., prompt_template_version: _Optional[str] = ..., scripted_calls: _Optional[_Iterable[_Union[ScriptedCall, _Mapping]]] = ..., system_prompt: _Optional[str] = ..., task_seed: _Optional[int] = ...) -> None: ...

class ScriptedCall(_message.Message):
    __slots__ = ("name", "arguments_json")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ARGUMENTS_JSON_FIELD_NUMBER: _ClassVar[int]
    name: str
    arguments_json: str
    def __init__(self, name: _Optional[str] = ..., arguments_json: _Optional[str] = ...) -> None: ...

class ToolCall(_message.Message):
    __slots__ = ("call_id", "name", "arguments_json")
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ARGUMENTS_JSON_FIELD_NUMBER: _ClassVar[int]
    call_id: str
    name: str
    arguments_json: str
    def __init__(self, call_id: _Optional[str] = ..., name: _Optional[str] = ..., arguments_json: _Optional[str] = ...) -> None: ...

class ParseError(_message.Message):
    __slots__ = ("kind", "message")
    KIND_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    kind: str
    message: str
    def __init__(self, kind: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class TokenUsage(_message.Message):
    __slots__ = ("prompt_tokens", "completion_tokens", "approximate", "cache_read_tokens", "cache_write_tokens")
    PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    APPROXIMATE_FIELD_NUMBER: _ClassVar[int]
    CACHE_READ_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHE_WRITE_TOKENS_FIELD_NUMBER: _ClassVar[int]
    prompt_tokens: int
    completion_tokens: int
    approximate: bool
    cache_read_tokens: int
    cache_write_tokens: int
    def __init__(self, prompt_tokens: _Optional[int] = ..., completion_tokens: _Optional[int] = ..., approximate: _Optional[bool] = ..., cache_read_tokens: _Optional[int] = ..., cache_write_tokens: _Optional[int] = ...) -> None: ...

class ActionProposed(_message.Message):
    __slots__ = ("step_index", "model", "assistant_text", "tool_call", "parse_error", "usage", "latency_ms", "delivered_guidance_ids", "summary_id", "prompt_digest")
    STEP_INDEX_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    ASSISTANT_TEXT_FIELD_NUMBER: _ClassVar[int]
    TOOL_CALL_FIELD_NUMBER: _ClassVar[int]
    PARSE_ERROR_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_GUIDANCE_IDS_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_ID_FIELD_NUMBER: _ClassVar[int]
    PROMPT_DIGEST_FIELD_NUMBER: _ClassVar[int]
    step_index: int
    model: ModelSpec
    assistant_text: str
    tool_call: ToolCall
    parse_error: ParseError
    usage: TokenUsage
    latency_ms: int
    delivered_guidance_ids: _containers.RepeatedScalarFieldContainer[str]
    summary_id: str
    prompt_digest: str
    def __init__(self, step_index: _Optional[int] = ..., model: _Optional[_Union[ModelSpec, _Mapping]] = ..., assistant_text: _Optional[str] = ..., tool_call: _Optional[_Union[ToolCall, _Mapping]] = ..., parse_error: _Optional[_Union[ParseError, _Mapping]] = ..., usage: _Optional[_Union[TokenUsage, _Mapping]] = ..., latency_ms: _Optional[int] = ..., delivered_guidance_ids: _Optional[_Iterable[str]] = ..., summary_id: _Optional[str] = ..., prompt_digest: _Optional[str] = ...) -> None: ...

class BudgetRemaining(_message.Message):
    __slots__ = ("seconds", "steps", "evals")
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    EVALS_FIELD_NUMBER: _ClassVar[int]
    seconds: int
    steps: int
    evals: int
    def __init__(self, seconds: _Optional[int] = ..., steps: _Optional[int] = ..., evals: _Optional[int] = ...) -> None: ...

class ObservationRecorded(_message.Message):
    __slots__ = ("action_id", "step_index", "tool_name", "success", "message", "error_message", "observation_json", "truncated", "full_output", "duration_ms", "remaining", "eval_score")
    ACTION_ID_FIELD_NUMBER: _ClassVar[int]
    STEP_INDEX_FIELD_NUMBER: _ClassVar[int]
    TOOL_NAME_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    OBSERVATION_JSON_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    FULL_OUTPUT_FIELD_NUMBER: _ClassVar[int]
    DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    REMAINING_FIELD_NUMBER: _ClassVar[int]
    EVAL_SCORE_FIELD_NUMBER: _ClassVar[int]
    action_id: str
    step_index: int
    tool_name: str
    success: bool
    message: str
    error_message: str
    observation_json: str
    truncated: bool
    full_output: BlobRef
    duration_ms: int
    remaining: BudgetRemaining
    eval_score: float
    def __init__(self, action_id: _Optional[str] = ..., step_index: _Optional[int] = ..., tool_name: _Optional[str] = ..., success: _Optional[bool] = ..., message: _Optional[str] = ..., error_message: _Optional[str] = ..., observation_json: _Optional[str] = ..., truncated: _Optional[bool] = ..., full_output: _Optional[_Union[BlobRef, _Mapping]] = ..., duration_ms: _Optional[int] = ..., remaining: _Optional[_Union[BudgetRemaining, _Mapping]] = ..., eval_score: _Optional[float] = ...) -> None: ...

class GuidanceSubmitted(_message.Message):
    __slots__ = ("annotator", "kind", "text", "flagged_step_indices", "channel")
    ANNOTATOR_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    FLAGGED_STEP_INDICES_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    annotator: str
    kind: GuidanceKind
    text: str
    flagged_step_indices: _containers.RepeatedScalarFieldContainer[int]
    channel: str
    def __init__(self, annotator: _Optional[str] = ..., kind: _Optional[_Union[GuidanceKind, str]] = ..., text: _Optional[str] = ..., flagged_step_indices: _Optional[_Iterable[int]] = ..., channel: _Optional[str] = ...) -> None: ...

class SummaryRequested(_message.Message):
    __slots__ = ("step_index", "prompt_tokens", "threshold_tokens", "first_step_index", "last_step_index", "previous_summary_id")
    STEP_INDEX_FIELD_NUMBER: _ClassVar[int]
    PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_TOKENS_FIELD_NUMBER: _ClassVar[int]
    FIRST_STEP_INDEX_FIELD_NUMBER: _ClassVar[int]
    LAST_STEP_INDEX_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_SUMMARY_ID_FIELD_NUMBER: _ClassVar[int]
    step_index: int
    prompt_tokens: int
    threshold_tokens: int
    first_step_index: int
    last_step_index: int
    previous_summary_id: str
    def __init__(self, step_index: _Optional[int] = ..., prompt_tokens: _Optional[int] = ..., threshold_tokens: _Optional[int] = ..., first_step_index: _Optional[int] = ..., last_step_index: _Optional[int] = ..., previous_summary_id: _Optional[str] = ...) -> None: ...

class ContextSummarized(_message.Message):
    __slots__ = ("request_id", "summary", "first_step_index", "last_step_index", "action_count", "model", "usage", "latency_ms", "prompt_digest")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    FIRST_STEP_INDEX_FIELD_NUMBER: _ClassVar[int]
    LAST_STEP_INDEX_FIELD_NUMBER: _ClassVar[int]
    ACTION_COUNT_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    PROMPT_DIGEST_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    summary: str
    first_step_index: int
    last_step_index: int
    action_count: int
    model: ModelSpec
    usage: TokenUsage
    latency_ms: int
    prompt_digest: str
    def __init__(self, request_id: _Optional[str] = ..., summary: _Optional[str] = ..., first_step_index: _Optional[int] = ..., last_step_index: _Optional[int] = ..., action_count: _Optional[int] = ..., model: _Optional[_Union[ModelSpec, _Mapping]] = ..., usage: _Optional[_Union[TokenUsage, _Mapping]] = ..., latency_ms: _Optional[int] = ..., prompt_digest: _Optional[str] = ...) -> None: ...

class TrajectoryEnded(_message.Message):
    __slots__ = ("reason", "final_score", "best_score", "steps", "detail")
    REASON_FIELD_NUMBER: _ClassVar[int]
    FINAL_SCORE_FIELD_NUMBER: _ClassVar[int]
    BEST_SCORE_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    reason: EndReason
    final_score: float
    best_score: float
    steps: int
    detail: str
    def __init__(self, reason: _Optional[_Union[EndReason, str]] = ..., final_score: _Optional[float] = ..., best_score: _Optional[float] = ..., steps: _Optional[int] = ..., detail: _Optional[str] = ...) -> None: ...

class TrajectoryCancelled(_message.Message):
    __slots__ = ("requested_by", "reason")
    REQUESTED_BY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    requested_by: str
    reason: str
    def __init__(self, requested_by: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class JudgeReason(_message.Message):
    __slots__ = ("rule_id", "detail", "evidence_step_indices", "quote")
    RULE_ID_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_STEP_INDICES_FIELD_NUMBER: _ClassVar[int]
    QUOTE_FIELD_NUMBER: _ClassVar[int]
    rule_id: str
    detail: str
    evidence_step_indices: _containers.RepeatedScalarFieldContainer[int]
    quote: str
    def __init__(self, rule_id: _Optional[str] = ..., detail: _Optional[str] = ..., evidence_step_indices: _Optional[_Iterable[int]] = ..., quote: _Optional[str] = ...) -> None: ...

class ActionJudged(_message.Message):
    __slots__ = ("action_id", "step_index", "ruleset_version", "verdict", "reasons", "judge_model")
    ACTION_ID_FIELD_NUMBER: _ClassVar[int]
    STEP_INDEX_FIELD_NUMBER: _ClassVar[int]
    RULESET_VERSION_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    JUDGE_MODEL_FIELD_NUMBER: _ClassVar[int]
    action_id: str
    step_index: int
    ruleset_version: str
    verdict: Verdict
    reasons: _containers.RepeatedCompositeFieldContainer[JudgeReason]
    judge_model: ModelSpec
    def __init__(self, action_id: _Optional[str] = ..., step_index: _Optional[int] = ..., ruleset_version: _Optional[str] = ..., verdict: _Optional[_Union[Verdict, str]] = ..., reasons: _Optional[_Iterable[_Union[JudgeReason, _Mapping]]] = ..., judge_model: _Optional[_Union[ModelSpec, _Mapping]] = ...) -> None: ...

class StepLabeled(_message.Message):
    __slots__ = ("action_id", "step_index", "label", "annotator", "note")
    ACTION_ID_FIELD_NUMBER: _ClassVar[int]
    STEP_INDEX_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    ANNOTATOR_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    action_id: str
    step_index: int
    label: StepLabel
    annotator: str
    note: str
    def __init__(self, action_id: _Optional[str] = ..., step_index: _Optional[int] = ..., label: _Optional[_Union[StepLabel, str]] = ..., annotator: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class DatasetBuilt(_message.Message):
    __slots__ = ("dataset_id", "ruleset_version", "trajectory_ids", "react_samples", "summary_samples", "dropped_samples", "format", "artifact")
    DATASET_ID_FIELD_NUMBER: _ClassVar[int]
    RULESET_VERSION_FIELD_NUMBER: _ClassVar[int]
    TRAJECTORY_IDS_FIELD_NUMBER: _ClassVar[int]
    REACT_SAMPLES_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_SAMPLES_FIELD_NUMBER: _ClassVar[int]
    DROPPED_SAMPLES_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    ARTIFACT_FIELD_NUMBER: _ClassVar[int]
    dataset_id: str
    ruleset_version: str
    trajectory_ids: _containers.RepeatedScalarFieldContainer[str]
    react_samples: int
    summary_samples: int
    dropped_samples: int
    format: str
    artifact: BlobRef
    def __init__(self, dataset_id: _Optional[str] = ..., ruleset_version: _Optional[str] = ..., trajectory_ids: _Optional[_Iterable[str]] = ..., react_samples: _Optional[int] = ..., summary_samples: _Optional[int] = ..., dropped_samples: _Optional[int] = ..., format: _Optional[str] = ..., artifact: _Optional[_Union[BlobRef, _Mapping]] = ...) -> None: ...

class CheckpointSaved(_message.Message):
    __slots__ = ("checkpoint_id", "dataset_id", "base_model", "uri", "optimizer_step", "metrics")
    class MetricsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    CHECKPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    DATASET_ID_FIELD_NUMBER: _ClassVar[int]
    BASE_MODEL_FIELD_NUMBER: _ClassVar[int]
    URI_FIELD_NUMBER: _ClassVar[int]
    OPTIMIZER_STEP_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    checkpoint_id: str
    dataset_id: str
    base_model: str
    uri: str
    optimizer_step: int
    metrics: _containers.ScalarMap[str, float]
    def __init__(self, checkpoint_id: _Optional[str] = ..., dataset_id: _Optional[str] = ..., base_model: _Optional[str] = ..., uri: _Optional[str] = ..., optimizer_step: _Optional[int] = ..., metrics: _Optional[_Mapping[str, float]] = ...) -> None: ...

class EvaluationScored(_message.Message):
    __slots__ = ("checkpoint_id", "task_id", "evaluation_trajectory_id", "final_score", "best_score", "variant")
    CHECKPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    EVALUATION_TRAJECTORY_ID_FIELD_NUMBER: _ClassVar[int]
    FINAL_SCORE_FIELD_NUMBER: _ClassVar[int]
    BEST_SCORE_FIELD_NUMBER: _ClassVar[int]
    VARIANT_FIELD_NUMBER: _ClassVar[int]
    checkpoint_id: str
    task_id: str
    evaluation_trajectory_id: str
    final_score: float
    best_score: float
    variant: str
    def __init__(self, checkpoint_id: _Optional[str] = ..., task_id: _Optional[str] = ..., evaluation_trajectory_id: _Optional[str] = ..., final_score: _Optional[float] = ..., best_score: _Optional[float] = ..., variant: _Optional[str] = ...) -> None: ...
