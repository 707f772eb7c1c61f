"""deploy/k8s agrees with the code: real settings, the topics topics.py names, one image,
probes and budgets for every Deployment, a fresh PrometheusRule, and KEDA on the judge."""

from __future__ import annotations

import subprocess
import sys
import tomllib

import pytest
from pydantic_settings import BaseSettings

from services.cli.settings import CliSettings
from services.eventlog.topics import ALL_TOPICS, TRAJECTORIES
from services.gateway.settings import GatewaySettings
from services.judge.settings import JUDGE_GROUP, JudgeSettings
from services.llm.settings import ModelBackendSettings
from services.policy.settings import PolicySettings
from services.recorder.settings import RecorderSettings
from services.sandbox.settings import SandboxSettings
from services.summarizer.settings import SummarizerSettings
from services.trainer.settings import TrainerSettings
from tests.deploy.k8s_objects import ROOT, Object, named, of_kind, rendered, selects

SETTINGS: dict[str, tuple[type[BaseSettings], ...]] = {
    "recorder": (RecorderSettings,),
    "sandbox": (SandboxSettings,),
    "summarizer": (SummarizerSettings, ModelBackendSettings),
    "policy": (PolicySettings, ModelBackendSettings),
    "judge": (JudgeSettings, ModelBackendSettings),
    "gateway": (GatewaySettings,),
    "trainer": (TrainerSettings, ModelBackendSettings),
    # `apollo judge run`: the CLI's connection settings, the judge's models for llm rules.
    "rejudge": (CliSettings, ModelBackendSettings),
}
JOBS = {"trainer", "rejudge"}
DEPLOYMENTS = of_kind("Deployment")


def component(obj: Object) -> str:
    return obj["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"]


def containers() -> list[tuple[str, Object]]:
    """(component, container) of every Apollo workload."""
    return [
        (component(obj), container)
        for obj in rendered()
        if obj["kind"] in {"Deployment", "Job"}
        for container in obj["spec"]["template"]["spec"]["containers"]
    ]


def env_names(container: Object) -> set[str]:
    """Its own variables and those of the ConfigMaps it takes whole."""
    names = {var["name"] for var in container.get("env", [])}
    for source in container.get("envFrom", []):
        names |= set(named("ConfigMap", source["configMapRef"]["name"])["data"])
    return names


def test_a_deployment_for_each_service() -> None:
    assert {component(obj) for obj in DEPLOYMENTS} == set(SETTINGS) - JOBS
    for obj in DEPLOYMENTS:
        (container,) = obj["spec"]["template"]["spec"]["containers"]
        assert container["command"] == ["python", "-m", f"services.{component(obj)}"]


@pytest.mark.parametrize(("name", "container"), containers(), ids=[n for n, _ in containers()])
def test_env_names_are_settings(name: str, container: Object) -> None:
    known = {f"APOLLO_{field.upper()}" for cls in SETTINGS[name] for field in cls.model_fields}
    assert env_names(container) <= known, sorted(env_names(container) - known)


def test_one_image_tagged_with_the_project_version() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert {container["image"] for _, container in containers()} == {f"apollo:{version}"}


@pytest.mark.parametrize("deployment", DEPLOYMENTS, ids=component)
def test_probes_on_healthz_and_a_disruption_budget(deployment: Object) -> None:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "metrics"}
    metrics = {"name": "metrics", "containerPort": 9100}
    assert metrics in container["ports"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert any(selects(pdb["spec"]["selector"], labels) for pdb in of_kind("PodDisruptionBudget"))


def test_metrics_listen_where_prometheus_scrapes() -> None:
    data = named("ConfigMap", "apollo-env")["data"]
    assert data["APOLLO_METRICS_HOST"] == "0.0.0.0"
    assert data["APOLLO_METRICS_PORT"] == "9100"


def test_every_deployment_service_is_scraped() -> None:
    (monitor,) = of_kind("ServiceMonitor")
    for deployment in DEPLOYMENTS:
        service = named("Service", deployment["metadata"]["name"])
        assert selects(monitor["spec"]["selector"], service["metadata"]["labels"])
        assert "metrics" in {port["name"] for port in service["spec"]["ports"]}


def test_topics_are_those_of_topics_py() -> None:
    declared = {(t["spec"]["topicName"], t["spec"]["partitions"]) for t in of_kind("KafkaTopic")}
    assert declared == {(topic.name, topic.partitions) for topic in ALL_TOPICS}


def test_kafka_exporter_is_on() -> None:
    assert "kafkaExporter" in named("Kafka", "apollo")["spec"]


def test_judge_scales_on_its_own_lag() -> None:
    (scaled,) = of_kind("ScaledObject")
    assert scaled["spec"]["scaleTargetRef"]["name"] == "apollo-judge"
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "kafka"
    kafka = named("ConfigMap", "apollo-env")["data"]["APOLLO_KAFKA"]
    assert trigger["metadata"]["bootstrapServers"] == kafka
    assert trigger["metadata"]["consumerGroup"] == JUDGE_GROUP
    assert trigger["metadata"]["topic"] == TRAJECTORIES.name


def test_prometheus_rule_is_fresh() -> None:
    script = ROOT / "scripts" / "render-prometheus-rule"
    check = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout


def test_dev_runs_one_of_everything_and_prod_replicates() -> None:
    def sizes(overlay: str) -> dict[str, int]:
        objects = {(o["kind"], o["metadata"]["name"]): o for o in rendered(overlay)}
        config = objects["Kafka", "apollo"]["spec"]["kafka"]["config"]
        topics = [o for o in rendered(overlay) if o["kind"] == "KafkaTopic"]
        return {
            "kafka nodes": objects["KafkaNodePool", "dual-role"]["spec"]["replicas"],
            "replication": config["default.replication.factor"],
            "min in-sync": config["min.insync.replicas"],
            "topic replicas": max(t["spec"]["replicas"] for t in topics),
            "postgres": objects["Cluster", "apollo-archive"]["spec"]["instances"],
            "gateways": objects["Deployment", "apollo-gateway"]["spec"]["replicas"],
        }

    assert sizes("dev") == dict.fromkeys(sizes("dev"), 1)
    prod = sizes("prod")
    assert prod["kafka nodes"] == prod["replication"] == prod["topic replicas"] == 3
    assert prod["min in-sync"] == 2
    assert prod["postgres"] == 3
    assert prod["gateways"] == 2
