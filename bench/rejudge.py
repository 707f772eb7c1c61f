"""Re-judging from the archive: actions/s under the shipped symbolic rules vs a plain scan.

Both sides read the same archive rows of one embedded Postgres in the same run: the
baseline pages through every row with `iter_all` (decoding each event, judging nothing);
the re-judging run reads the logs, folds them, judges every action under `default` and
appends the verdicts (with their read model) in one transaction per batch. Each judging
run uses a ruleset of its own (a changed description would not change the version, so the
polling rule's run length differs), so every run judges every action. Prints one JSON line.

    python -m bench.rejudge [--trajectories 1000] [--steps 40] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench._embedded import measure_on_embedded_postgres
from bench._report import ratio_line
from services.eventlog.pg_archive import PgArchive
from services.eventlog.topics import topic_for
from services.judge.rejudge import Rejudging, Selection
from services.judge.ruleset import Ruleset, shipped_ruleset
from tests.judge.conftest import Call, ScriptedRun

TARGET_ACTIONS_PER_S = 50_000
TARGET_RATIO = 0.5
# A step mix that makes the rules work: listings, reads, failures, repeats and sleeps.
MIX = (
    Call("list_files", {"path": "."}, fields={"content": "a.py\nb.py"}),
    Call("open_file", {"path": "a.py"}, fields={"content": "1: x = 1"}),
    Call("open_file", {"path": "c.py"}, success=False, error="'c.py' is not a file"),
    Call("sleep", {"seconds": 5}),
    Call("sleep", {"seconds": 5}),
    Call("run_command", {"command": "pytest", "session": "s1"}, fields={"content": "ok"}),
)


def fresh_ruleset(run: int) -> Ruleset:
    """The shipped default, changed so that its version is new for each run."""
    default = shipped_ruleset("default")
    rules = [
        rule.model_copy(update={"run_length": 3 + run}) if rule.id == "polling-loop" else rule
        for rule in default.rules
    ]
    return Ruleset(rules=tuple(rules))


async def fill(archive: PgArchive, trajectories: int, steps: int) -> int:
    """Archive synthetic trajectories; return how many actions they have."""
    for _ in range(trajectories):
        run = ScriptedRun().play(*(MIX[n % len(MIX)] for n in range(steps)))
        await archive.append([(topic_for(e).name, e) for e in run.events])
    return trajectories * steps


async def scan_seconds(archive: PgArchive) -> float:
    """Seconds to page through and decode every archived row."""
    started = time.perf_counter()
    async for _ in archive.iter_all():
        pass
    return time.perf_counter() - started


async def rejudge_seconds(archive: PgArchive, ruleset: Ruleset, actions: int) -> float:
    """Seconds to re-judge the whole archive under a version it has no verdicts of."""
    rejudging = Rejudging(archive, ruleset, Selection())
    started = time.perf_counter()
    tally = await rejudging.run(await rejudging.trajectory_ids())
    elapsed = time.perf_counter() - started
    if tally.recorded != actions:
        raise RuntimeError(f"recorded {tally.recorded} verdicts for {actions} actions")
    return elapsed


async def run(dsn: str, trajectories: int, steps: int, repeat: int) -> dict:
    """Fill the archive once, then measure both sides in turn; return the result line."""
    archive = await PgArchive.connect(dsn)
    try:
        await archive.migrate()
        actions = await fill(archive, trajectories, steps)
        # The scan reads the log rows only, as they are before any verdicts are added.
        baseline = actions / await scan_seconds(archive)
        judged = [
            actions / await rejudge_seconds(archive, fresh_ruleset(attempt), actions)
            for attempt in range(repeat)
        ]
    finally:
        await archive.close()
    value = statistics.median(judged)
    return ratio_line(
        "rejudge",
        "actions_per_s",
        value,
        baseline,
        "actions/s",
        target=TARGET_ACTIONS_PER_S,
        target_ratio=TARGET_RATIO,
        actions=actions,
        # What each side's seconds cover, so the ratio is read for what it is.
        value_includes="read logs and verdicts, fold, judge, build verdict events, "
        "append them with their read model",
        baseline_includes="read and decode every archived row, judging nothing",
    )


def main() -> None:
    """Start an embedded Postgres in a temporary directory, measure, print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trajectories", type=int, default=1000, help="trajectories archived")
    parser.add_argument("--steps", type=int, default=40, help="actions per trajectory")
    parser.add_argument("--repeat", type=int, default=3, help="re-judging runs; the median counts")
    args = parser.parse_args()
    measure_on_embedded_postgres(lambda dsn: run(dsn, args.trajectories, args.steps, args.repeat))


if __name__ == "__main__":
    main()
