"""The objects an overlay of deploy/k8s renders to, by `kubectl kustomize` (the Makefile
installs Debian's kubectl)."""

from __future__ import annotations

import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
OVERLAYS = ("dev", "prod")
# What the single-overlay checks read: the production one (prod runs no Kafka or Postgres
# of its own; the checks of those read dev).
DEFAULT_OVERLAY = "prod"
# Apollo's namespace, and the one agent pods run in.
APOLLO = "apollo"
SANDBOXES = "apollo-sandboxes"
# The kinds that run Apollo's pods.
WORKLOADS = {"Deployment", "StatefulSet", "Job"}
Object = dict[str, Any]


@cache
def rendered(overlay: str = DEFAULT_OVERLAY) -> tuple[Object, ...]:
    """The overlay's objects; none without kubectl (test_overlays_render fails then)."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        return ()
    path = ROOT / "deploy" / "k8s" / "overlays" / overlay
    text = subprocess.run(
        [kubectl, "kustomize", str(path)], check=True, capture_output=True, text=True
    ).stdout
    return tuple(doc for doc in yaml.safe_load_all(text) if doc)


def every_overlay() -> list[tuple[str, Object]]:
    """(overlay, object) of every object of every overlay."""
    return [(overlay, obj) for overlay in OVERLAYS for obj in rendered(overlay)]


def case_id(case: tuple[str, Object]) -> str:
    overlay, obj = case
    return f"{overlay}:{obj['kind']}/{obj['metadata']['name']}"


def of_kind(kind: str, overlay: str = DEFAULT_OVERLAY) -> list[Object]:
    return [obj for obj in rendered(overlay) if obj["kind"] == kind]


def named(
    kind: str, name: str, *, namespace: str = APOLLO, overlay: str = DEFAULT_OVERLAY
) -> Object:
    """The object of that kind and name (in `namespace`, unless the kind has none)."""
    (obj,) = [
        obj
        for obj in of_kind(kind, overlay)
        if obj["metadata"]["name"] == name
        and obj["metadata"].get("namespace", namespace) == namespace
    ]
    return obj


def workloads(overlay: str = DEFAULT_OVERLAY) -> list[Object]:
    """The overlay's Deployments, StatefulSets and Jobs."""
    return [obj for obj in rendered(overlay) if obj["kind"] in WORKLOADS]


def pod_specs() -> list[tuple[str, Object]]:
    """(overlay:workload name, pod spec) of every workload of every overlay."""
    return [
        (f"{overlay}:{obj['metadata']['name']}", obj["spec"]["template"]["spec"])
        for overlay, obj in every_overlay()
        if obj["kind"] in WORKLOADS
    ]


def env_value(container: Object, name: str) -> Object:
    """The container's entry for variable `name`."""
    (var,) = [var for var in container.get("env", []) if var["name"] == name]
    return var


def selects(selector: Object, labels: dict[str, str]) -> bool:
    """Whether a label selector (matchLabels and In expressions) matches the labels."""
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    return all(
        labels.get(expr["key"]) in expr["values"]
        for expr in selector.get("matchExpressions", [])
        if expr["operator"] == "In"
    )
