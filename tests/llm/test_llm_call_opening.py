"""The constraint that makes a small local model open a call to an offered tool."""

from __future__ import annotations

import json

import torch

from services.llm.call_opening import OpeningConstraint, allowed_next
from services.llm.port import ToolCallRequest
from services.llm.text_tools import call_opening, parse_tool_calls, render_tool_call

OPENINGS = [[5, 6, 7], [5, 8], [9]]


def test_only_tokens_that_continue_an_opening_are_allowed_until_one_is_complete() -> None:
    assert allowed_next([], OPENINGS) == [5, 9]
    assert allowed_next([5], OPENINGS) == [6, 8]
    assert allowed_next([5, 6], OPENINGS) == [7]
    assert allowed_next([5, 8], OPENINGS) == []  # complete: the arguments are free
    assert allowed_next([5, 6, 7, 1], OPENINGS) == []


def test_the_constraint_masks_every_other_token_and_only_after_the_prompt() -> None:
    constraint = OpeningConstraint(prompt_length=2, openings=OPENINGS)
    scores = torch.zeros(1, 12)
    masked = constraint(torch.tensor([[1, 2, 5]]), scores)
    assert torch.isfinite(masked[0]).nonzero().flatten().tolist() == [6, 8]
    free = constraint(torch.tensor([[1, 2, 9]]), scores)
    assert torch.equal(free, scores)


def test_the_opening_is_how_a_rendered_call_begins_and_parses_once_closed() -> None:
    call = ToolCallRequest("c1", "run_command", json.dumps({"command": "ls"}))
    assert render_tool_call(call).startswith(call_opening("run_command"))
    answer = call_opening("run_command") + '"command": "ls"}}\n</tool_call>'
    [parsed] = parse_tool_calls(answer)
    assert (parsed.name, json.loads(parsed.arguments_json)) == ("run_command", {"command": "ls"})
