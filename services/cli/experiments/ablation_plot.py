"""The ablation's plot: held-out final and best score per student, mean ± sd over repeats."""

from __future__ import annotations

from pathlib import Path

from services.cli.experiments.ablation_results import AblationResults

BAR_WIDTH = 0.38


def draw_scores(results: AblationResults, path: Path) -> None:
    """Write a PNG bar chart of every student's final and best held-out score to `path`."""
    # Imported here: only the ablation draws, and the headless backend must be chosen first.
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    names = [student.variant for student in results.students]
    figure, axes = pyplot.subplots(figsize=(7, 4), dpi=120)
    for offset, (label, spreads) in enumerate(
        (
            ("final", [student.final for student in results.students]),
            ("best", [student.best for student in results.students]),
        )
    ):
        positions = [index + (offset - 0.5) * BAR_WIDTH for index in range(len(names))]
        axes.bar(
            positions,
            [spread.mean for spread in spreads],
            BAR_WIDTH,
            yerr=[spread.sd or 0.0 for spread in spreads],
            capsize=3,
            label=label,
        )
    axes.set_xticks(range(len(names)), names)
    axes.set_ylabel("held-out score (0-100)")
    axes.set_ylim(0, 100)
    axes.set_title(f"Ablation {results.experiment}, teacher {results.teacher}")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)
    pyplot.close(figure)
