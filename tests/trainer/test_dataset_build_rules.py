"""Building is idempotent, refuses what it cannot build, and never writes a mismatched prompt."""

from __future__ import annotations

from pathlib import Path

import pytest
from dataset_fixture import RULESET, JudgedLog, tiny_tokenizer

from services.eventlog.archive import InMemoryArchive
from services.eventlog.topics import topic_for
from services.trainer.dataset_build import DatasetBuildConfig, build_dataset
from services.trainer.dataset_events import dataset_built_event
from services.trainer.dataset_store import built_dataset_ids
from services.trainer.exports import ExportFormat, export_dataset
from services.trainer.selection import EmptySelection, TrajectorySelection
from services.trainer.tokenization import SampleTokenizer, TokenizerMismatch
from services.trainer.verdict_masks import UnknownRulesetVersion

pytestmark = pytest.mark.timeout(30)
CONFIG = DatasetBuildConfig(ruleset_version=RULESET)


async def test_building_twice_is_a_no_op(
    archive: InMemoryArchive, tokenizer: SampleTokenizer, tmp_path: Path
) -> None:
    first = await build_dataset(archive, CONFIG, tokenizer, tmp_path)
    again = await build_dataset(archive, CONFIG, tokenizer, tmp_path)
    assert first.created
    assert not again.created
    assert again.manifest == first.manifest
    assert built_dataset_ids(tmp_path) == [first.manifest["dataset_id"]]


async def test_other_settings_or_more_log_make_another_dataset(
    archive: InMemoryArchive, log: JudgedLog, tokenizer: SampleTokenizer, tmp_path: Path
) -> None:
    first = await build_dataset(archive, CONFIG, tokenizer, tmp_path)
    upsampled = CONFIG.model_copy(update={"react_upsample": 3})
    other = await build_dataset(archive, upsampled, tokenizer, tmp_path)
    await archive.append([(topic_for(e).name, e) for e in [log.book.guidance("one more thing")]])
    grown = await build_dataset(archive, CONFIG, tokenizer, tmp_path)
    ids = {first.manifest["dataset_id"], other.manifest["dataset_id"], grown.manifest["dataset_id"]}
    assert len(ids) == 3


async def test_the_manifest_counts_and_the_dataset_built_event(
    archive: InMemoryArchive, log: JudgedLog, tokenizer: SampleTokenizer, tmp_path: Path
) -> None:
    manifest = (await build_dataset(archive, CONFIG, tokenizer, tmp_path)).manifest
    counts = manifest["counts"]
    assert (counts["react_samples"], counts["summary_samples"]) == (3, 2)
    assert (counts["trained_turns"], counts["masked_turns"], counts["context_turns"]) == (6, 3, 4)
    assert counts["masked_turns_by_rule"] == {"repeated-command": 3}
    assert manifest["lineage"][0]["trajectory_id"] == log.book.trajectory_id
    event = dataset_built_event(tmp_path, manifest)
    assert event.trajectory_id == ""
    assert topic_for(event).name == "apollo.training.v1"
    assert list(event.dataset_built.trajectory_ids) == [log.book.trajectory_id]
    assert await InMemoryArchive().append([("apollo.training.v1", event)]) == 1


async def test_an_unknown_ruleset_version_is_refused(
    archive: InMemoryArchive, tokenizer: SampleTokenizer, tmp_path: Path
) -> None:
    config = DatasetBuildConfig(ruleset_version="sha256:never-ran")
    with pytest.raises(UnknownRulesetVersion, match="sha256:never-ran"):
        await build_dataset(archive, config, tokenizer, tmp_path)
    assert built_dataset_ids(tmp_path) == []


async def test_an_empty_selection_is_refused(
    archive: InMemoryArchive, tokenizer: SampleTokenizer, tmp_path: Path
) -> None:
    config = CONFIG.model_copy(update={"selection": TrajectorySelection(task_id="no-such-task")})
    with pytest.raises(EmptySelection, match="no-such-task"):
        await build_dataset(archive, config, tokenizer, tmp_path)


async def test_exporting_tokens_for_another_tokenizer_is_refused(
    archive: InMemoryArchive, tokenizer: SampleTokenizer, tmp_path: Path
) -> None:
    manifest = (await build_dataset(archive, CONFIG, tokenizer, tmp_path)).manifest
    other = tiny_tokenizer()
    other.chat_template = other.chat_template.replace("<|im_end|>", "<|endoftext|>")
    with pytest.raises(TokenizerMismatch, match="build the dataset again"):
        export_dataset(
            tmp_path,
            manifest["dataset_id"],
            ExportFormat.TRL,
            tmp_path / "out",
            SampleTokenizer(other, "other"),
        )


async def test_samples_over_the_limit_are_dropped_and_counted(
    archive: InMemoryArchive, tokenizer: SampleTokenizer, tmp_path: Path
) -> None:
    config = CONFIG.model_copy(update={"max_tokens": 1})
    counts = (await build_dataset(archive, config, tokenizer, tmp_path)).manifest["counts"]
    assert counts["dropped_too_long"] == 5
    assert counts["react_samples"] == 0


async def test_a_window_whose_prompt_does_not_verify_is_not_written(
    log: JudgedLog, tokenizer: SampleTokenizer, tmp_path: Path
) -> None:
    step_3 = next(a for a in log.actions if a.action_proposed.step_index == 3)
    step_3.action_proposed.prompt_digest = "sha256:" + "f" * 64
    archive = InMemoryArchive()
    await archive.append(log.archived())
    outcome = await build_dataset(archive, CONFIG, tokenizer, tmp_path)
    (rejection,) = outcome.rejected
    assert str(rejection).startswith(f"trajectory {log.book.trajectory_id}, step 3: ")
    assert str(rejection).endswith(f"the action recorded sha256:{'f' * 64}")
    assert outcome.manifest["counts"]["react_samples"] == 2
    assert outcome.manifest["counts"]["rejected_samples"] == 1


async def test_a_window_with_every_answer_masked_is_dropped_and_counted(
    log: JudgedLog, tokenizer: SampleTokenizer, tmp_path: Path
) -> None:
    log.masked_steps, log.verdicts = {0, 1, 2}, []
    log.judge()
    archive = InMemoryArchive()
    await archive.append(log.archived())
    counts = (await build_dataset(archive, CONFIG, tokenizer, tmp_path)).manifest["counts"]
    assert counts["dropped_untrained"] == 1
    assert counts["react_samples"] == 2
