"""What `apollo dataset show` and `diff` print, from manifests alone."""

from __future__ import annotations


def dataset_summary(manifest: dict) -> dict:
    """Samples, tokens, trained share, masked share by rule, and lineage."""
    counts = manifest["counts"]
    turns = counts["trained_turns"] + counts["masked_turns"]
    figures = {
        "ruleset version": manifest["ruleset_version"],
        "tokenizer": manifest["tokenizer"]["name"],
        "react samples": counts["react_samples"],
        "summary samples": counts["summary_samples"],
        "dropped (too long)": counts["dropped_too_long"],
        "dropped (nothing to train)": counts["dropped_untrained"],
        "rejected (prompt mismatch)": counts["rejected_samples"],
        "tokens": counts["tokens"],
        "trained token share": _share(counts["trained_tokens"], counts["tokens"]),
        "masked turn share": _share(counts["masked_turns"], turns),
    }
    for rule, masked in counts["masked_turns_by_rule"].items():
        figures[f"masked by {rule}"] = _share(masked, turns)
    return {
        "dataset_id": manifest["dataset_id"],
        "figures": figures,
        "lineage": manifest["lineage"],
    }


def dataset_diff(first: dict, second: dict) -> dict[str, tuple]:
    """Each input, recipe setting and figure that differs, as (A's, B's)."""
    left, right = _comparable(first), _comparable(second)
    return {
        name: (left.get(name), right.get(name))
        for name in sorted(left.keys() | right.keys())
        if left.get(name) != right.get(name)
    }


def _comparable(manifest: dict) -> dict:
    positions = {t["trajectory_id"]: t["last_position"] for t in manifest["lineage"]}
    recipe = {k: v for k, v in manifest["builder"].items() if k != "selection"}
    return {
        "ruleset version": manifest["ruleset_version"],
        "tokenizer": manifest["tokenizer"]["digest"],
        **{f"recipe {k}": v for k, v in recipe.items()},
        **{f"trajectory {tid}": f"to position {pos}" for tid, pos in positions.items()},
        **{k: v for k, v in dataset_summary(manifest)["figures"].items()},
    }


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "-"
