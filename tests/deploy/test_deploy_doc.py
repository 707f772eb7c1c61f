"""docs/deploy.md agrees with the code: the topics it creates on an external Kafka, the
rollouts it waits for, and the files it names."""

from __future__ import annotations

import re

import pytest

from services.eventlog.topics import ALL_TOPICS
from tests.deploy.k8s_objects import OVERLAYS, ROOT, workloads

DOC = (ROOT / "docs" / "deploy.md").read_text()


def test_it_creates_the_topics_of_topics_py() -> None:
    created = re.findall(r"--create --if-not-exists --topic (\S+) --partitions (\d+)", DOC)
    assert sorted(created) == sorted((topic.name, str(topic.partitions)) for topic in ALL_TOPICS)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_it_waits_for_every_service(overlay: str) -> None:
    kinds = {"deployment": "Deployment", "statefulset": "StatefulSet"}
    waited = set()
    loops = r'for service in ([a-z ]+); do\n\s+kubectl -n apollo rollout status "(\w+)/'
    for names, kind in re.findall(loops, DOC):
        waited |= {f"{kinds[kind]}/apollo-{name}" for name in names.split()}
    services = {
        f"{obj['kind']}/{obj['metadata']['name']}"
        for obj in workloads(overlay)
        if obj["kind"] != "Job"
    }
    assert waited == services


def test_the_paths_it_names_exist() -> None:
    # Not `kubectl exec deploy/NAME`, a Deployment.
    pattern = r"(?<![\w./])(?<!exec )((?:deploy|docs|services|tests)/[\w./-]*\w)"
    paths = set(re.findall(pattern, DOC))
    assert "deploy/k8s/overlays/dev" in paths
    missing = sorted(path for path in paths if not (ROOT / path).exists())
    assert not missing, missing
