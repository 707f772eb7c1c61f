"""Cutting a trajectory into samples: one per context window, one per summarization call.

Every prompt in a window is a prefix of the next, so the window's last prompt plus its
last action holds every earlier prompt and answer of the window. Each action's prompt is
that prefix, and its digest must be the one recorded with the action.
"""

from __future__ import annotations

from collections.abc import Iterable

from apollo.v1 import events_pb2 as pb
from services.trainer.samples import ASSISTANT, RejectedSample, Sample, SampleKind, SampleTurn
from services.trainer.verdict_masks import RulesetMasks
from services.trajectory.prompt import RenderError, render_action_prompt, window_steps
from services.trajectory.prompt_layout import action_message
from services.trajectory.prompt_model import ChatMessage, Prompt
from services.trajectory.state import Step, Trajectory, next_step_index
from services.trajectory.summary_prompt import render_summary_prompt

Cut = tuple[list[Sample], list[RejectedSample]]


def trajectory_samples(state: Trajectory, events: Iterable[pb.Event], masks: RulesetMasks) -> Cut:
    """The react samples of every window, then the summary samples, and what was rejected."""
    samples: list[Sample] = []
    rejected: list[RejectedSample] = []
    try:
        windows = _windows(state)
    except RenderError as error:
        return [], [RejectedSample(state.trajectory_id, "every step", str(error))]
    for window_index, window in enumerate(windows):
        try:
            samples.append(_window_sample(state, window_index, window, masks))
        except _Mismatch as mismatch:
            rejected.append(mismatch.rejection)
    for call_index, (request, summary) in enumerate(_summary_calls(state, events)):
        try:
            samples.append(_summary_sample(state, call_index, request, summary))
        except _Mismatch as mismatch:
            rejected.append(mismatch.rejection)
    return samples, rejected


class _Mismatch(Exception):
    def __init__(self, rejection: RejectedSample) -> None:
        super().__init__(str(rejection))
        self.rejection = rejection


def _windows(state: Trajectory) -> list[list[Step]]:
    """The recorded steps (the first action of each index) grouped by the summary they built on."""
    steps = window_steps(state, 0, next_step_index(state)) if state.steps else []
    windows: list[list[Step]] = []
    for step in steps:
        summary_id = step.action.action_proposed.summary_id
        if windows and windows[-1][-1].action.action_proposed.summary_id == summary_id:
            windows[-1].append(step)
        else:
            windows.append([step])
    return windows


def _window_sample(
    state: Trajectory, window_index: int, window: list[Step], masks: RulesetMasks
) -> Sample:
    last = window[-1]
    try:
        prompt = render_action_prompt(state, last.action)
    except RenderError as error:
        where = f"step {last.index}"
        raise _Mismatch(RejectedSample(state.trajectory_id, where, str(error))) from error
    messages = [*prompt.messages, action_message(last.index, last.action.action_proposed)]
    assistant_positions = [i for i, message in enumerate(messages) if message.role == ASSISTANT]
    if len(assistant_positions) < len(window):
        raise _Mismatch(
            RejectedSample(
                state.trajectory_id,
                f"step {window[0].index}",
                f"the window shows {len(assistant_positions)} answers for {len(window)} actions",
            )
        )
    # A window opens with the steps after its summary's span: those answers were written
    # under the window before (and trained there), so here they are context only.
    context = len(assistant_positions) - len(window)
    trained = {
        position: SampleTurn(messages[position], False)
        for position in assistant_positions[:context]
    }
    # The digest of each step's prompt: the messages before its answer.
    digests = Prompt(tuple(messages), prompt.tools, prompt.sampling).prefix_digests()
    for step, position in zip(window, assistant_positions[context:], strict=True):
        _check_digest(state, step, digests[position])
        rules = masks.rules_masking(step.action_id)
        trained[position] = SampleTurn(messages[position], rules is None, rules or ())
    turns = tuple(trained.get(i, SampleTurn(message)) for i, message in enumerate(messages))
    return Sample(
        SampleKind.REACT,
        state.trajectory_id,
        state.task_id,
        window_index,
        turns,
        prompt.tools,
        last.action.action_proposed.prompt_digest,
    )


def _check_digest(state: Trajectory, step: Step, digest: str) -> None:
    recorded = step.action.action_proposed.prompt_digest
    if digest != recorded:
        raise _Mismatch(
            RejectedSample(
                state.trajectory_id,
                f"step {step.index}",
                f"the re-rendered prompt has digest {digest}, the action recorded {recorded}",
            )
        )


def _summary_calls(
    state: Trajectory, events: Iterable[pb.Event]
) -> list[tuple[pb.SummaryRequested, pb.Event]]:
    """Each ContextSummarized with the SummaryRequested it answers, in log order."""
    requests = {e.event_id: e.summary_requested for e in events if e.HasField("summary_requested")}
    return [
        (requests[summary.context_summarized.request_id], summary)
        for summary in state.summaries
        if summary.context_summarized.request_id in requests
    ]


def _summary_sample(
    state: Trajectory, call_index: int, request: pb.SummaryRequested, summary: pb.Event
) -> Sample:
    body = summary.context_summarized
    where = f"summary {summary.event_id}"
    try:
        prompt = render_summary_prompt(state, request)
    except RenderError as error:
        raise _Mismatch(RejectedSample(state.trajectory_id, where, str(error))) from error
    if prompt.digest != body.prompt_digest:
        raise _Mismatch(
            RejectedSample(
                state.trajectory_id,
                where,
                f"the re-rendered summary prompt has digest {prompt.digest}, "
                f"the summary recorded {body.prompt_digest}",
            )
        )
    answer = SampleTurn(ChatMessage(ASSISTANT, body.summary), train=True)
    turns = (*(SampleTurn(message) for message in prompt.messages), answer)
    return Sample(
        SampleKind.SUMMARY,
        state.trajectory_id,
        state.task_id,
        call_index,
        turns,
        prompt.tools,
        body.prompt_digest,
    )
