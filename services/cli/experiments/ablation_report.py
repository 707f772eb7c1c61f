"""The ablation's report: the 2x2 table, relative changes, datasets, judge and annotator facts."""

from __future__ import annotations

from collections.abc import Iterable

from services.cli.experiments.ablation_plan import FULL, NO_HUMAN, VARIANTS
from services.cli.experiments.ablation_results import UNTRAINED_VARIANT, AblationResults

SIMULATED_CAVEAT = (
    "The teacher that collected these trajectories is **simulated**: it follows each task's "
    "reference solution, deviates at a set rate with scripted mistakes, and recovers only when "
    "guidance arrives. So this report shows whether the pipeline carries what the data holds "
    "(guidance, filtered turns) into the student; it does not show that the paper's effect holds "
    "for real agents. With a real teacher model configured, the same command makes that claim "
    "testable."
)


def model_teacher_caveat(teacher: str) -> str:
    """What a run collected by a model teacher does and does not show."""
    return (
        f"The teacher that collected these trajectories is **{teacher}**, a model whose "
        "mistakes are its own. So the table tests the paper's claim on this teacher's data: "
        "whether training on its guided, filtered trajectories beats training without the "
        "guidance, without the filter, and the untrained model, on held-out instances. The "
        "annotator is still the simulated one (each task's scripted hints, sent when the "
        "gateway flags drift), so the human of this table is that annotator, not a person; and "
        "the judge's masks cannot be checked against the teacher's mistakes, which are not "
        "known. A difference within the spread of the repeats is not evidence either way."
    )


def relative_change(score: float, baseline: float) -> str:
    """`+28.0%`-style change of `score` over `baseline`; `n/a` when the baseline is 0."""
    if baseline == 0:
        return "n/a (baseline 0)"
    return f"{100 * (score - baseline) / baseline:+.1f}%"


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _table(header: Iterable[str], rows: Iterable[Iterable[str]]) -> list[str]:
    header = list(header)
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += [
        "| " + " | ".join(str(cell).replace("|", "\\|") for cell in row) + " |" for row in rows
    ]
    return lines


def _scores_section(results: AblationResults) -> list[str]:
    def cell(variant: str) -> str:
        student = results.student(variant)
        return f"{student.final} (best {student.best})"

    by_name = {variant.name: variant for variant in VARIANTS}
    rows = [
        ["human guidance", cell(by_name["human+filter"].name), cell(by_name["human"].name)],
        ["no human guidance", cell(by_name["filter"].name), cell(by_name["neither"].name)],
    ]
    untrained = results.student(UNTRAINED_VARIANT)
    return [
        "## Held-out scores (final, mean ± sd over repeats; best in brackets)",
        "",
        *_table(["collected with", "action filter", "no filter"], rows),
        "",
        f"Untrained {results.student_model}: {untrained.final} (best {untrained.best}).",
        "",
    ]


def _changes_section(results: AblationResults) -> list[str]:
    untrained = results.student(UNTRAINED_VARIANT).final.mean
    no_human = results.student(NO_HUMAN.name).final.mean
    rows = [
        [
            variant.name,
            f"{results.student(variant.name).final.mean:.1f}",
            relative_change(results.student(variant.name).final.mean, untrained),
            relative_change(results.student(variant.name).final.mean, no_human),
            f"{results.student(variant.name).null_action_rate:.2f}",
        ]
        for variant in VARIANTS
    ]
    return [
        "## Relative changes of the final score (as the paper reports them)",
        "",
        *_table(
            [
                "variant",
                "final",
                "vs untrained",
                f"vs no human ({NO_HUMAN.name})",
                "null-action rate",
            ],
            rows,
        ),
        "",
        f"The paper's claim is that {FULL.name} beats the untrained model and the model trained "
        "without human interaction, and that removing either part hurts.",
        "",
    ]


def _datasets_section(results: AblationResults) -> list[str]:
    rows = [
        [
            facts.variant,
            facts.dataset_id,
            len(facts.trajectory_ids),
            facts.samples,
            facts.trained_turns,
            f"{facts.mask_rate:.2f}",
            f"{facts.intervention_rate:.1f}",
            f"{facts.mean_collection_score:.1f}",
        ]
        for facts in results.datasets
    ]
    header = [
        "variant", "dataset", "trajectories", "samples", "trained turns", "actions masked",
        "guidance per 100 steps", "collection score",
    ]  # fmt: skip
    return [
        "## Datasets (equal budgets: the same instances in each arm)",
        "",
        *_table(header, rows),
        "",
    ]


def _judge_section(results: AblationResults) -> list[str]:
    heading = "## The judge against the teacher's known deviations"
    if results.judge is None or results.judge_recall_by_mistake is None:
        return [
            heading,
            "",
            f"Not measurable: the teacher is {results.teacher}, whose mistakes are not known.",
            "",
        ]
    rows = [
        [a.name, a.true_masks + a.false_masks, a.true_masks, _rate(a.precision), _rate(a.recall)]
        for a in results.judge
    ]
    kinds = [[kind, f"{share:.2f}"] for kind, share in results.judge_recall_by_mistake.items()]
    return [
        heading,
        "",
        "Recall is over every deviation the teacher made; a rule can only recall what it can see.",
        "",
        *_table(["rule", "masked", "on a deviation", "precision", "recall"], rows),
        "",
        *_table(["mistake", "share masked"], kinds),
        "",
    ]


def _annotator_section(results: AblationResults) -> list[str]:
    facts = results.annotator
    median = facts.median_response_seconds
    return [
        "## The annotator",
        "",
        f"{facts.guidance} guidance messages over {facts.guided_trajectories} guided trajectories "
        f"({facts.guidance_per_trajectory:.1f} each); median time from the step it answered to the "
        f"guidance: {'-' if median is None else f'{median:.1f} s'} (the gateway's timestamps). "
        f"Attention time the gateway recorded: {facts.attention_per_trajectory:.1f} s per guided "
        "trajectory (the simulated annotator's heartbeats, as the web app sends them).",
        "",
    ]


def _lineage_section(results: AblationResults) -> list[str]:
    lines = ["## Lineage", ""]
    datasets = {facts.variant: facts for facts in results.datasets}
    for student in results.students:
        facts = datasets.get(student.variant)
        source = (
            f"dataset {facts.dataset_id} (ruleset {facts.ruleset_version}; trajectories "
            f"{', '.join(facts.trajectory_ids)})"
            if facts
            else "the base model"
        )
        checkpoints = ", ".join(student.checkpoint_ids)
        lines.append(f"- **{student.variant}**: checkpoints {checkpoints} from {source}")
    return [*lines, ""]


def markdown_report(results: AblationResults, plot_name: str | None) -> str:
    """The whole report as markdown; `plot_name` is the PNG beside it, if one was drawn."""
    lines = [
        f"# Ablation `{results.experiment}` (size {results.size})",
        "",
        f"Teacher: {results.teacher}. Student: {results.student_model}. Held-out instances: "
        f"{', '.join(results.heldout)}.",
        "",
        SIMULATED_CAVEAT if results.simulated_teacher else model_teacher_caveat(results.teacher),
        "",
        *_scores_section(results),
        *_changes_section(results),
        *_datasets_section(results),
        *_judge_section(results),
        *_annotator_section(results),
    ]
    if plot_name:
        lines += [f"![Held-out scores by variant]({plot_name})", ""]
    lines += _lineage_section(results)
    return "\n".join(lines)
