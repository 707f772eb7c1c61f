"""Reading an InnovatorBench ReAct node file into checked values, naming where it breaks."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services.cli.innovatorbench.literals import (
    NodeFileError,
    call_of,
    dict_field,
    field,
    observation_of,
    recorded_observation,
)
from services.trajectory.canonical import canonical_json
from services.trajectory.prompt_model import ChatMessage, ToolCallRequest

# Node types whose `response` is one agent step (a summary node's is the summary itself).
STEP_NODE_TYPES = frozenset({"react", "done"})
_TASK = re.compile(r"<task_description>(.*?)</task_description>", re.DOTALL)
_SUMMARY = re.compile(r"^After the last action, I have also made (\d+) actions")
_SNAPSHOT = re.compile(r"<state_snapshot>.*</state_snapshot>", re.DOTALL)
_REAL_USER = re.compile(r"<real_user>(.*?)</real_user>", re.DOTALL)


@dataclass(frozen=True, slots=True)
class NodeStep:
    """One agent step: the answer's tool call (None without exactly one) and its observation."""

    # Where it is in the file ("messages[4]", or "response" for the node's own step).
    position: str
    # How many of the node's messages came before it: its prompt is that prefix.
    prompt_length: int
    assistant_text: str
    call: dict[str, Any] | None
    observation: dict[str, Any] | None
    # Token counts of the call (input, output), when the node recorded them.
    usage: tuple[int, int] | None = None
    # How many tool calls the answer held, when it was not exactly one.
    call_count: int = 1


@dataclass(frozen=True, slots=True)
class NodeSummary:
    """The "I made N actions... here is the summary" turn that replaced N earlier steps."""

    position: str
    action_count: int
    snapshot: str


@dataclass(frozen=True, slots=True)
class NodeGuidance:
    """A user turn of <real_user> messages, delivered before the next step."""

    position: str
    texts: tuple[str, ...]


NodeTurn = NodeStep | NodeSummary | NodeGuidance


@dataclass(frozen=True, slots=True)
class Node:
    """One node: its identity, the prompt it shows and the steps that prompt holds."""

    node_id: str
    parent_id: str
    node_type: str
    recorded_at: datetime
    model: str
    # The node's messages in Apollo's prompt model: each step's prompt is a prefix.
    prompt: tuple[ChatMessage, ...]
    system_prompt: str
    task_description: str
    turns: tuple[NodeTurn, ...]

    @property
    def done(self) -> bool:
        """Whether the run ended at this node."""
        return self.node_type == "done"


def read_node(path: Path) -> Node:
    """Parse and check a whole node file; raise `NodeFileError` naming the broken place."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        raise NodeFileError(f"byte {error.start}", "the file is not UTF-8 text") from error
    except json.JSONDecodeError as error:
        raise NodeFileError(
            f"line {error.lineno}, column {error.colno}",
            f"not valid JSON ({error.msg}); is the file truncated?",
        ) from error
    if not isinstance(document, dict):
        raise NodeFileError("the top level", "expected a JSON object (one node)")
    return _node(document)


def _node(document: dict[str, Any]) -> Node:
    node_type = field(document, "node_type", str, "node")
    if node_type not in STEP_NODE_TYPES:
        raise NodeFileError(
            "node_type",
            f"{node_type!r} nodes hold no agent step; import a node of type "
            f"{' or '.join(sorted(STEP_NODE_TYPES))}",
        )
    messages = field(document, "messages", list, "node")
    _check_messages(messages)
    system_prompt = _opening(messages, 0, "system")
    task = _TASK.search(_opening(messages, 1, "user"))
    if task is None:
        raise NodeFileError("messages[1].content", "no <task_description>...</task_description>")
    response = dict_field(document, "response", "node")
    turns, prompt = _message_turns(messages)
    return Node(
        node_id=field(document, "id", str, "node"),
        parent_id=document.get("parent_id") or "",
        node_type=node_type,
        recorded_at=_timestamp(field(document, "timestamp", str, "node")),
        model=field(response, "model", str, "response"),
        prompt=prompt,
        system_prompt=system_prompt,
        task_description=task.group(1).strip(),
        turns=(*turns, _response_step(document, response, len(messages))),
    )


def _check_messages(messages: list[Any]) -> None:
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, dict):
            raise NodeFileError(where, "expected an object with role and content")
        field(message, "role", str, where)
        if not isinstance(message.get("content") or "", str):
            raise NodeFileError(f"{where}.content", "expected a string")


def _opening(messages: list[dict[str, Any]], index: int, role: str) -> str:
    if len(messages) <= index or messages[index]["role"] != role:
        raise NodeFileError(f"messages[{index}]", f"expected the {role} message of the prompt")
    return messages[index].get("content") or ""


def _timestamp(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise NodeFileError("timestamp", f"{text!r} is not an ISO 8601 time") from error
    # The agent writes naive times; they are taken as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _message_turns(
    messages: list[dict[str, Any]],
) -> tuple[list[NodeTurn], tuple[ChatMessage, ...]]:
    turns: list[NodeTurn] = []
    prompt = [ChatMessage(m["role"], m.get("content") or "") for m in messages]
    index = 2
    while index < len(messages):
        message, where = messages[index], f"messages[{index}]"
        content = message.get("content") or ""
        if message["role"] == "assistant" and message.get("tool_call") is not None:
            call = call_of(message["tool_call"], f"{where}.tool_call")
            observation = _tool_result(messages, index + 1, call)
            turns.append(NodeStep(where, index, content, call, observation))
            prompt[index : index + 2] = _call_messages(content, call, observation)
            index += 2
        elif message["role"] == "assistant" and (summary := _SUMMARY.match(content)):
            snapshot = _SNAPSHOT.search(content)
            text = snapshot.group(0) if snapshot else content
            turns.append(NodeSummary(where, int(summary.group(1)), text))
            # The fixed go-ahead user turn after a summary carries nothing of its own.
            follows = messages[index + 1] if index + 1 < len(messages) else {}
            go_ahead = follows.get("role") == "user" and not _REAL_USER.search(
                follows.get("content") or ""
            )
            index += 2 if go_ahead else 1
        elif message["role"] == "user" and (texts := _REAL_USER.findall(content)):
            turns.append(NodeGuidance(where, tuple(text.strip() for text in texts)))
            index += 1
        else:
            raise NodeFileError(
                where,
                f"a {message['role']} message that is no tool call, tool result, summary "
                "or <real_user> guidance",
            )
    return turns, tuple(prompt)


def _call_messages(
    content: str, call: dict[str, Any], observation: dict[str, Any]
) -> tuple[ChatMessage, ChatMessage]:
    call_id = call.get("call_id") or ""
    arguments = canonical_json(call["arguments"])
    return (
        ChatMessage("assistant", content, (ToolCallRequest(call_id, call["name"], arguments),)),
        ChatMessage("tool", canonical_json(observation), tool_call_id=call_id),
    )


def _tool_result(messages: list[dict[str, Any]], index: int, call: dict[str, Any]) -> dict:
    where = f"messages[{index}]"
    if index >= len(messages) or messages[index]["role"] != "tool":
        raise NodeFileError(where, f"expected the tool message answering {call['name']!r}")
    result = messages[index].get("tool_result")
    if result is None:
        raise NodeFileError(f"{where}.tool_result", "missing")
    return observation_of(result, call, f"{where}.tool_result")


def _response_step(document: dict[str, Any], response: dict[str, Any], length: int) -> NodeStep:
    calls = field(response, "tool_calls", list, "response")
    call = call_of(calls[0], "response.tool_calls[0]") if len(calls) == 1 else None
    usage = dict_field(response, "usage", "response")
    observation = document.get("observation")
    return NodeStep(
        position="response",
        prompt_length=length,
        assistant_text=response.get("content") or "",
        call=call,
        observation=recorded_observation(observation, "observation") if observation else None,
        usage=(
            field(usage, "input_tokens", int, "response.usage"),
            field(usage, "output_tokens", int, "response.usage"),
        ),
        call_count=len(calls),
    )
