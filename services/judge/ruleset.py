"""A ruleset: a YAML list of rules of registered kinds, versioned by its content hash."""

from __future__ import annotations

import hashlib
from functools import cached_property
from pathlib import Path
from typing import Annotated, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from services.judge import kinds_actions, kinds_guidance, kinds_workspace, llm_rule, propagation
from services.judge.rules import Rule, RuleKind
from services.trajectory.canonical import canonical_json

RULE_KINDS: dict[str, RuleKind] = {
    kind.name: kind
    for kind in (
        *kinds_actions.KINDS,
        *kinds_workspace.KINDS,
        *kinds_guidance.KINDS,
        *propagation.KINDS,
        *llm_rule.KINDS,
    )
}
SHIPPED_RULESETS = Path(__file__).parent / "rulesets"

AnyRule = Annotated[
    Union[tuple(kind.model for kind in RULE_KINDS.values())],  # noqa: UP007 - built at runtime
    Field(discriminator="kind"),
]


class RulesetError(ValueError):
    """A ruleset file that cannot be used, with where in it the problem is."""


class Ruleset(BaseModel):
    """The rules the judge applies, in order."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rules: tuple[AnyRule, ...] = Field(description="The rules; each action is judged by all")

    @field_validator("rules")
    @classmethod
    def _unique_ids(cls, rules: tuple[Rule, ...]) -> tuple[Rule, ...]:
        first_by_id: dict[str, int] = {}
        for index, rule in enumerate(rules):
            first = first_by_id.setdefault(rule.id, index)
            if first != index:
                raise ValueError(f"rules {first} and {index} both have the id {rule.id!r}")
        return rules

    @cached_property
    def version(self) -> str:
        """ "sha256:<hex>" of the canonical JSON of the defaulted rules, descriptions left out."""
        canonical = canonical_json(
            self.model_dump(mode="json", exclude={"rules": {"__all__": {"description"}}})
        )
        return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()

    @cached_property
    def lookahead(self) -> int:
        """How many later steps judging one action needs: the largest window of any rule."""
        return max((rule.window() for rule in self.rules), default=0)


def load_ruleset(path: Path) -> Ruleset:
    """The ruleset in a YAML file; RulesetError names the place of any problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise RulesetError(f"{path}: cannot read the ruleset: {error.strerror}") from None
    return parse_ruleset(text, str(path))


def shipped_ruleset(name: str) -> Ruleset:
    """A ruleset shipped with Apollo, e.g. "default"."""
    return load_ruleset(SHIPPED_RULESETS / f"{name}.yaml")


def parse_ruleset(text: str, source: str = "<ruleset>") -> Ruleset:
    """The ruleset in YAML `text` read from `source` (named in errors)."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as error:
        raise RulesetError(f"{source}: {_yaml_problem(error)}") from None
    finally:
        loader.dispose()
    try:
        return Ruleset.model_validate(data)
    except ValidationError as error:
        raise RulesetError(_describe(error, data, node, source)) from None


def _yaml_problem(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    return f"{where}broken YAML: {problem}"


def _describe(error: ValidationError, data: object, node: yaml.Node | None, source: str) -> str:
    """Each problem with the file, line and column, rule index and id, and parameter."""
    problems = []
    for problem in error.errors(include_url=False):
        location = list(problem["loc"])
        where = [source]
        if location[:1] == ["rules"] and len(location) > 1 and isinstance(location[1], int):
            index = location[1]
            rule = data["rules"][index] if isinstance(data, dict) else None
            rule_id = rule.get("id") if isinstance(rule, dict) else None
            # Past the index come the kind tag pydantic adds and then the parameter.
            parameter = [str(part) for part in location[3:]] if len(location) > 3 else []
            if problem["type"] in ("union_tag_invalid", "union_tag_not_found"):
                parameter = ["kind"]
            line = _line_of(node, ["rules", index, *parameter[:1]])
            where += [f"line {line}"] if line else []
            where.append(f"rule {index}" + (f" ({rule_id!r})" if rule_id else ""))
            where += [f"parameter {'.'.join(parameter)!r}"] if parameter else []
        else:
            line = _line_of(node, location[:1])
            where += [f"line {line}"] if line else []
        problems.append(f"{', '.join(where)}: {problem['msg']}")
    return "\n".join(problems)


def _line_of(node: yaml.Node | None, path: list) -> int | None:
    """The 1-based line of the YAML node at `path` (mapping keys, sequence indices)."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in path:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == part), None)
            if node is None:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            node = node.value[part] if part < len(node.value) else None
            if node is None:
                return line
        line = node.start_mark.line + 1
    return line
