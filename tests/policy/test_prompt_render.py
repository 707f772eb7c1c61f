"""The policy prompt: the paper's layout, exact re-rendering and the strict-prefix property."""

from __future__ import annotations

import itertools
import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from log_book import LogBook

from services.trajectory import fold
from services.trajectory.derived_ids import derived_event_id
from services.trajectory.prompt import RenderError, render_next_prompt, render_prompt


def roles(prompt) -> list[str]:
    return [message.role for message in prompt.messages]


def test_a_fresh_trajectory_gets_system_then_task_with_the_whole_budget(book: LogBook) -> None:
    prompt = render_prompt(book.events)
    assert roles(prompt) == ["system", "user"]
    system, task = (message.content for message in prompt.messages)
    assert "Follow <real_user> content" in system
    assert "- run_command: Run a shell command." in system
    assert "call eval 3 times" in system
    assert task.startswith("<task_description>\nMake the tests pass.\n</task_description>")
    assert "Remaining time: 1h 00m 00s. Remaining steps: 50. Evaluations left: 3." in task
    assert [tool.name for tool in prompt.tools] == ["run_command", "eval", "finish"]
    assert prompt.sampling.max_tokens == 8192


def test_each_step_is_the_call_then_the_observation_with_that_moments_budget(
    book: LogBook,
) -> None:
    book.step(arguments={"command": "ls"})
    prompt = render_prompt(book.events)
    assistant, tool = prompt.messages[2:]
    # Reasoning of earlier turns is not re-sent: the call alone stands for the turn.
    assert (assistant.role, assistant.content) == ("assistant", "")
    assert assistant.tool_calls[0].name == "run_command"
    assert json.loads(assistant.tool_calls[0].arguments_json) == {"command": "ls"}
    assert (tool.role, tool.tool_call_id) == ("tool", assistant.tool_calls[0].call_id)
    observation = json.loads(tool.content)
    assert observation["message"] == "ok"
    assert observation["remaining"] == {"time": "0h 59m 50s", "steps": 49, "evals": 3}


def test_a_null_action_shows_its_text_and_the_error_observation_as_a_user_turn(
    book: LogBook,
) -> None:
    book.step(tool="")
    assistant, error = render_prompt(book.events).messages[2:]
    assert (assistant.role, assistant.content, assistant.tool_calls) == (
        "assistant",
        "thinking out loud",
        (),
    )
    assert error.role == "user"
    assert "remaining" in json.loads(error.content)


def test_guidance_appears_once_after_the_last_tool_result_and_stays_there(book: LogBook) -> None:
    book.step()
    guidance = book.guidance("Do not run this inference script.")
    upcoming = render_next_prompt(fold(book.events))
    assert upcoming.delivered_guidance_ids == (guidance.event_id,)
    last = upcoming.prompt.messages[-1]
    assert (last.role, last.content) == (
        "user",
        "<real_user>Do not run this inference script.</real_user>",
    )
    book.step()
    book.step()
    later = render_prompt(book.events)
    shown = [m for m in later.messages if m.role == "user" and "<real_user>" in m.content]
    assert len(shown) == 1
    assert later.messages.index(shown[0]) == 4  # after step 0's tool result, before step 1
    assert render_next_prompt(fold(book.events)).delivered_guidance_ids == ()


def test_several_messages_at_one_boundary_share_one_user_turn_in_log_order(
    book: LogBook,
) -> None:
    book.guidance("first")
    book.guidance("second")
    last = render_prompt(book.events).messages[-1]
    assert last.content == "<real_user>first</real_user>\n<real_user>second</real_user>"


def test_after_a_summary_the_pair_replaces_the_summarized_steps(book: LogBook) -> None:
    for _ in range(4):
        book.step()
    summary = book.summarize(first=0, last=1, text="<state_snapshot>S</state_snapshot>")
    upcoming = render_next_prompt(fold(book.events))
    assert upcoming.summary_id == summary.event_id
    prompt = upcoming.prompt
    assert roles(prompt) == ["system", "user", "assistant", "user"] + ["assistant", "tool"] * 2
    intro, go_on = prompt.messages[2].content, prompt.messages[3].content
    assert intro.startswith("I made 2 actions so far.")
    assert intro.endswith("<state_snapshot>S</state_snapshot>")
    assert go_on.startswith("OK, continue")
    assert "Check all sessions first" in go_on
    assert prompt.messages[4].tool_calls[0].call_id == "call-2"


def test_every_recorded_action_re_renders_to_its_digest(book: LogBook) -> None:
    book.step()
    book.guidance("use the GPU")
    book.step(tool="")
    book.step()
    book.summarize(first=0, last=1)
    book.guidance("stop")
    book.step()
    state = fold(book.events)
    for step in state.steps:
        recorded = step.action.action_proposed
        assert render_prompt(state, step.index).digest == recorded.prompt_digest


def test_the_digest_is_stable_and_covers_sampling(book: LogBook) -> None:
    first, again = render_prompt(book.events), render_prompt(list(book.events))
    assert first.digest == again.digest
    assert first.digest.startswith("sha256:")
    assert len(first.digest) == len("sha256:") + 64
    book.events[0].trajectory_started.policy.sampling.temperature = 0.5
    assert render_prompt(book.events).digest != first.digest


def test_rendering_refuses_a_log_that_lacks_what_the_prompt_needs(book: LogBook) -> None:
    action = book.propose()
    with pytest.raises(RenderError, match="no observation"):
        render_prompt(book.events, step_index=1)
    book.observe(action)
    book.events[0].trajectory_started.prompt_template_version = "v999"
    with pytest.raises(RenderError, match="unknown"):
        render_prompt(book.events)
    with pytest.raises(RenderError, match="no action at step 7"):
        render_prompt(book.events[1:], step_index=7)


def test_derived_ids_are_valid_uuid7_and_depend_only_on_their_inputs(book: LogBook) -> None:
    at = book.events[0].occurred_at
    one = derived_event_id(at, "t", "action", "3")
    assert one == derived_event_id(at, "t", "action", "3")
    assert one != derived_event_id(at, "t", "action", "4")
    assert uuid.UUID(one).version == 7


# One operation of a random run: a step, a null step, guidance, or a summary of the window.
OPERATIONS = st.lists(
    st.sampled_from(["step", "null", "guidance", "summary"]), min_size=1, max_size=25
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(OPERATIONS)
def test_within_a_window_each_prompt_is_a_strict_prefix_of_the_next(operations) -> None:
    book = LogBook()
    book.start()
    prompts = []
    for n, operation in enumerate(operations):
        if operation == "guidance":
            book.guidance(f"message {n}")
            continue
        state = fold(book.events)
        if operation == "summary":
            window = [s.index for s in state.steps if s.index > _window_last(state)]
            if len(window) >= 2:
                book.summarize(window[0], window[len(window) // 2 - 1])
            continue
        upcoming = render_next_prompt(state)
        prompts.append((upcoming.summary_id, upcoming.prompt))
        book.step(tool="" if operation == "null" else "run_command")
    for (window, earlier), (next_window, later) in itertools.pairwise(prompts):
        if window == next_window:
            assert len(later.messages) > len(earlier.messages)
            assert later.messages[: len(earlier.messages)] == earlier.messages
    state = fold(book.events)
    assert all(render_prompt(state, s.index).digest == s.action.action_proposed.prompt_digest
               for s in state.steps)  # fmt: skip


def _window_last(state) -> int:
    summary = state.latest_summary
    return summary.context_summarized.last_step_index if summary else -1
