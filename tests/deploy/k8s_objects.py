"""The objects deploy/k8s renders to: `kubectl kustomize` where kubectl is installed, else
the files kustomization.yaml lists, with its namespace applied as kustomize would."""

from __future__ import annotations

import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
BASE = ROOT / "deploy" / "k8s"
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding"}
Object = dict[str, Any]


@cache
def rendered() -> tuple[Object, ...]:
    kubectl = shutil.which("kubectl")
    if kubectl:
        text = subprocess.run(
            [kubectl, "kustomize", str(BASE)], check=True, capture_output=True, text=True
        ).stdout
        return tuple(doc for doc in yaml.safe_load_all(text) if doc)
    return tuple(_loaded_from_files())


def _loaded_from_files() -> list[Object]:
    kustomization = yaml.safe_load((BASE / "kustomization.yaml").read_text())
    objects = [
        doc
        for resource in kustomization["resources"]
        for doc in yaml.safe_load_all((BASE / resource).read_text())
        if doc
    ]
    for obj in objects:
        if obj["kind"] not in CLUSTER_SCOPED:
            obj["metadata"]["namespace"] = kustomization["namespace"]
    return objects


def of_kind(kind: str) -> list[Object]:
    return [obj for obj in rendered() if obj["kind"] == kind]


def named(kind: str, name: str) -> Object:
    (obj,) = [obj for obj in of_kind(kind) if obj["metadata"]["name"] == name]
    return obj


def pod_specs() -> list[tuple[str, Object]]:
    """(workload name, pod spec) of every Deployment and Job."""
    return [
        (obj["metadata"]["name"], obj["spec"]["template"]["spec"])
        for obj in rendered()
        if obj["kind"] in {"Deployment", "Job"}
    ]


def selects(selector: Object, labels: dict[str, str]) -> bool:
    """Whether a label selector (matchLabels and In expressions) matches the labels."""
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    return all(
        labels.get(expr["key"]) in expr["values"]
        for expr in selector.get("matchExpressions", [])
        if expr["operator"] == "In"
    )
