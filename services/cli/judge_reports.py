"""`apollo judge rulesets`, `diff` and `show`: what the verdict read model says."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from apollo.v1 import events_pb2 as pb
from services.cli.judge_archive import archive_connection, opened_archive
from services.eventlog.archive import ArchivedEvent
from services.eventlog.topics import TRAJECTORIES
from services.eventlog.verdict_model import VerdictRow, verdict_name
from services.judge.verdict_diff import EXAMPLES, MaskChanges, diff_verdicts

stderr = Console(stderr=True)


class UnknownVersion(LookupError):
    """A ruleset version (or prefix) that names no judged version, or more than one."""


def resolve_version(prefix: str, versions: Iterable[str]) -> str:
    """The one version starting with `prefix` ("sha256:" may be left out)."""
    matches = [v for v in versions if v.startswith(prefix) or v.startswith("sha256:" + prefix)]
    if len(matches) != 1:
        found = "no" if not matches else "more than one"
        raise UnknownVersion(f"{found} judged ruleset version starts with {prefix!r}")
    return matches[0]


def _exit_unknown(error: UnknownVersion) -> typer.Exit:
    stderr.print(f"[red]{escape(str(error))}; see `apollo judge rulesets`[/red]")
    return typer.Exit(2)


def rulesets(as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False) -> None:
    """List judged ruleset versions with counts, and each rule's mask rate."""

    async def load() -> list[dict]:
        async with opened_archive(archive_connection().postgres_dsn) as archive:
            return [
                {**counts.as_json(), "recorded": await archive.ruleset_document(v) is not None}
                for counts in await archive.verdict_versions()
                if (v := counts.ruleset_version)
            ]

    versions = asyncio.run(load())
    if as_json:
        print(json.dumps(versions))
        return
    table = Table("version", "document", "trajectories", "actions", "masked", "rule", "mask rate")
    for version in versions:
        document = "recorded" if version["recorded"] else "-"
        table.add_row(version["ruleset_version"], document, str(version["trajectories"]),
                      str(version["actions"]), str(version["masked"]), "(all)",
                      f"{version['mask_rate']:.1%}")  # fmt: skip
        for rule, counts in version["rules"].items():
            table.add_row("", "", "", "", str(counts["masked"]), rule, f"{counts['mask_rate']:.1%}")
    Console().print(table)


def diff(
    version_a: Annotated[str, typer.Argument(help="Ruleset version (or a prefix)")],
    version_b: Annotated[str, typer.Argument(help="Ruleset version (or a prefix)")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """What changed from version A to B: actions masked under A only and under B only, by rule."""

    async def load() -> tuple:
        async with opened_archive(archive_connection().postgres_dsn) as archive:
            known = [c.ruleset_version for c in await archive.verdict_versions()]
            a, b = resolve_version(version_a, known), resolve_version(version_b, known)
            result = diff_verdicts(a, await archive.verdicts(a), b, await archive.verdicts(b))
            shown = [result.overall, *result.rules]
            examples = [row for c in shown for row in (*c.only_a[:EXAMPLES], *c.only_b[:EXAMPLES])]
            logs = await archive.logs(sorted({row.trajectory_id for row in examples}))
            return result, {e.event_id: _tool(e.event) for log in logs.values() for e in log}

    try:
        result, tools = asyncio.run(load())
    except UnknownVersion as error:
        raise _exit_unknown(error) from None

    def example(row: VerdictRow) -> dict:
        tool = tools.get(row.action_id, "?")
        return {"trajectory_id": row.trajectory_id, "step": row.step_index, "tool": tool}

    def side(changes: MaskChanges) -> dict:
        return {
            "rule_id": changes.rule_id,
            "masked_under_a_only": len(changes.only_a),
            "masked_under_b_only": len(changes.only_b),
            "examples_a_only": [example(row) for row in changes.only_a[:EXAMPLES]],
            "examples_b_only": [example(row) for row in changes.only_b[:EXAMPLES]],
        }

    report = {
        "version_a": result.version_a,
        "version_b": result.version_b,
        "compared_actions": result.compared,
        "masked_a": result.masked_a,
        "masked_b": result.masked_b,
        "overall": side(result.overall),
        "rules": [side(changes) for changes in result.rules],
    }
    if as_json:
        print(json.dumps(report))
        return
    console = Console()
    console.print(f"A {result.version_a}\nB {result.version_b}")
    console.print(f"{result.compared} actions judged by both: "
                  f"{result.masked_a} masked under A, {result.masked_b} under B")  # fmt: skip
    table = Table("rule", "A only", "B only", "examples (trajectory step tool)")
    for entry in [report["overall"], *report["rules"]]:
        shown = [*entry["examples_a_only"], *entry["examples_b_only"]]
        table.add_row(
            entry["rule_id"] or "(any rule)",
            str(entry["masked_under_a_only"]),
            str(entry["masked_under_b_only"]),
            "\n".join(f"{e['trajectory_id']} {e['step']} {e['tool']}" for e in shown),
        )
    console.print(table)


def _tool(event: pb.Event) -> str:
    proposed = event.action_proposed
    return proposed.tool_call.name if proposed.HasField("tool_call") else "(null action)"


def show(
    trajectory_id: Annotated[str, typer.Argument(help="Trajectory id")],
    ruleset: Annotated[
        str | None, typer.Option(help="Ruleset version (or a prefix); default: the newest")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Print each step of a trajectory with its tool, verdict and reasons under one version."""

    async def load() -> list[ArchivedEvent]:
        async with opened_archive(archive_connection().postgres_dsn) as archive:
            return await archive.events(trajectory_id)

    records = asyncio.run(load())
    if not records:
        stderr.print(f"[red]No trajectory {trajectory_id!r} in the archive[/red]")
        raise typer.Exit(1)
    verdicts = [r.event.action_judged for r in records if r.kind == "action_judged"]
    # Position order: the last verdict's version is the newest that judged it.
    versions = list(dict.fromkeys(v.ruleset_version for v in reversed(verdicts)))
    try:
        version = resolve_version(ruleset, versions) if ruleset else versions[0]
    except (UnknownVersion, IndexError) as error:
        raise _exit_unknown(UnknownVersion(f"no verdicts of {trajectory_id!r}: {error}")) from None
    by_action = {v.action_id: v for v in verdicts if v.ruleset_version == version}
    steps = [
        _step(r.event, by_action.get(r.event_id))
        for r in records
        if r.topic == TRAJECTORIES.name and r.kind == "action_proposed"
    ]
    if as_json:
        print(json.dumps({"trajectory_id": trajectory_id, "ruleset_version": version,
                          "steps": steps}))  # fmt: skip
        return
    console = Console()
    console.print(f"{trajectory_id} under {version}")
    table = Table("step", "tool", "verdict", "reasons")
    for step in steps:
        reasons = "\n".join(
            f"{r['rule_id']}: {r['detail']} (steps {r['evidence_steps']}) {r['quote']!r}"
            for r in step["reasons"]
        )
        table.add_row(str(step["step"]), step["tool"], step["verdict"], escape(reasons))
    console.print(table)


def _reason(reason: pb.JudgeReason) -> dict:
    return {
        "rule_id": reason.rule_id,
        "detail": reason.detail,
        "evidence_steps": list(reason.evidence_step_indices),
        "quote": reason.quote,
    }


def _step(action: pb.Event, judged: pb.ActionJudged | None) -> dict:
    return {
        "step": action.action_proposed.step_index,
        "action_id": action.event_id,
        "tool": _tool(action),
        "verdict": "unjudged" if judged is None else verdict_name(judged.verdict),
        "reasons": [] if judged is None else [_reason(r) for r in judged.reasons],
    }
