"""Constrained opening of a tool call, for small local models.

SmolLM2-135M, asked for a call in the text format, copies the format's placeholder
(`TOOL_NAME`) instead of naming a tool. Its first tokens are therefore held to the opening
of a call to one of the offered tools, `<tool_call>\n{"name": "NAME", "arguments": {`, with
the model's own probabilities choosing among them; the arguments and everything after are
generated freely. The prompt is unchanged, so its digest and token count are too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from transformers import LogitsProcessor

from services.llm.text_tools import call_opening


def opening_token_ids(tokenizer: Any, tool_names: Sequence[str]) -> list[list[int]]:
    """Each offered tool's call opening as token ids."""
    return [
        tokenizer(call_opening(name), add_special_tokens=False)["input_ids"] for name in tool_names
    ]


class OpeningConstraint(LogitsProcessor):
    """Allows only tokens that continue one of the openings, until one is complete."""

    def __init__(self, prompt_length: int, openings: list[list[int]]) -> None:
        self._prompt_length = prompt_length
        self._openings = openings

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        generated = input_ids[0, self._prompt_length :].tolist()
        allowed = allowed_next(generated, self._openings)
        if not allowed:
            return scores
        masked = torch.full_like(scores, float("-inf"))
        masked[:, allowed] = scores[:, allowed]
        return masked


def allowed_next(generated: list[int], openings: list[list[int]]) -> list[int]:
    """The tokens that continue an opening `generated` is a strict prefix of ([]: free)."""
    depth = len(generated)
    return sorted(
        {
            opening[depth]
            for opening in openings
            if len(opening) > depth and opening[:depth] == generated
        }
    )
