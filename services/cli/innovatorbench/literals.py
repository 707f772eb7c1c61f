"""The node's checked fields: typed lookups, Python-repr tool calls, JSON observations."""

from __future__ import annotations

import ast
import json
from typing import Any

# Longest piece of a broken value quoted in an error.
_QUOTE_CHARS = 120


class NodeFileError(ValueError):
    """A node file that cannot be imported; `where` names the place (message index and field)."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where = where
        self.reason = reason


def field(document: dict[str, Any], name: str, kind: type, where: str) -> Any:
    """`document[name]`, which must be a `kind`."""
    value = document.get(name)
    # bool is an int in Python, never a count in the file.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        found = "missing" if value is None else f"a {type(value).__name__}"
        raise NodeFileError(f"{where}.{name}", f"expected a {kind.__name__}, found {found}")
    return value


def dict_field(document: dict[str, Any], name: str, where: str) -> dict[str, Any]:
    """`document[name]`, which must be an object."""
    return field(document, name, dict, where)


def python_literal(value: Any, where: str) -> dict[str, Any]:
    """An object given as JSON, or as the Python repr the agent wrote (parsed, never run)."""
    if isinstance(value, str):
        try:
            value = ast.literal_eval(value)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as error:
            raise NodeFileError(
                where, f"not a Python literal ({error}): {value[:_QUOTE_CHARS]!r}"
            ) from error
    if not isinstance(value, dict):
        raise NodeFileError(where, f"expected an object, found a {type(value).__name__}")
    return value


def call_of(value: Any, where: str) -> dict[str, Any]:
    """A tool call {call_id, name, arguments}, checked."""
    call = python_literal(value, where)
    field(call, "name", str, where)
    field(call, "arguments", dict, where)
    if not isinstance(call.get("call_id") or "", str):
        raise NodeFileError(f"{where}.call_id", "expected a string")
    return call


def observation_of(value: Any, call: dict[str, Any], where: str) -> dict[str, Any]:
    """The observation a tool result {call_id, name, content} holds, for `call`."""
    result = python_literal(value, where)
    answered, asked = result.get("call_id") or "", call.get("call_id") or ""
    if answered != asked:
        raise NodeFileError(f"{where}.call_id", f"answers call {answered!r}, not {asked!r}")
    content = result.get("content")
    if isinstance(content, str):
        try:
            content = json.loads(content)
        except json.JSONDecodeError as error:
            raise NodeFileError(
                f"{where}.content", f"the observation is not JSON ({error})"
            ) from error
    if not isinstance(content, dict):
        raise NodeFileError(f"{where}.content", "expected an observation object")
    return content


def recorded_observation(value: Any, where: str) -> dict[str, Any]:
    """The node's own observation, whose fields the agent stored as str() of each value."""
    observation = python_literal(value, where)
    return {name: _restored(item) for name, item in observation.items()}


def _restored(item: Any) -> Any:
    # Only the scalars str() makes ambiguous come back ("True", "30", "None"); text stays.
    if not isinstance(item, str):
        return item
    try:
        value = ast.literal_eval(item)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return item
    return value if value is None or isinstance(value, bool | int | float) else item
