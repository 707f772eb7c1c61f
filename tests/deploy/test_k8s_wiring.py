"""deploy/k8s agrees with the code: real settings, the topics topics.py names, one image,
probes and budgets for every service, a fresh PrometheusRule, KEDA on the judge, the
policy's shards, one workspace volume seen from both namespaces, and the dashboards."""

from __future__ import annotations

import base64
import json
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
from tests.deploy.k8s_objects import (
    APOLLO,
    OVERLAYS,
    ROOT,
    SANDBOXES,
    Object,
    env_value,
    named,
    of_kind,
    rendered,
    selects,
    workloads,
)

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
    # `apollo migrate`: the CLI's connection settings.
    "migrate": (CliSettings,),
}
JOBS = {"trainer", "rejudge", "migrate"}
# The services sharded by hash (services/runtime/sharding.py): workload -> its variables.
SHARDED = {"apollo-policy": "APOLLO_POLICY_SHARD", "apollo-sandbox": "APOLLO_SANDBOX_SHARD"}
# The long-running services: Deployments, and StatefulSets of the sharded (one pod a shard).
SERVICES = [obj for obj in workloads() if obj["kind"] != "Job"]
# Where every container finds the broker and the archive.
SECRET_REFS = {
    "APOLLO_KAFKA": {"name": "apollo-kafka", "key": "bootstrap"},
    "APOLLO_POSTGRES_DSN": {"name": "apollo-archive-app", "key": "uri"},
}
DASHBOARDS = ROOT / "deploy" / "grafana" / "dashboards"


def component(obj: Object) -> str:
    return obj["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"]


def containers() -> list[tuple[str, Object]]:
    """(component, container) of every Apollo workload."""
    return [
        (component(obj), container)
        for obj in workloads()
        for container in obj["spec"]["template"]["spec"]["containers"]
    ]


def env_names(container: Object) -> set[str]:
    """Its own variables and those of the ConfigMaps it takes whole."""
    names = {var["name"] for var in container.get("env", [])}
    for source in container.get("envFrom", []):
        names |= set(named("ConfigMap", source["configMapRef"]["name"])["data"])
    return names


def test_a_workload_for_each_service() -> None:
    assert {component(obj) for obj in SERVICES} == set(SETTINGS) - JOBS
    sharded = {obj["metadata"]["name"] for obj in SERVICES if obj["kind"] == "StatefulSet"}
    assert sharded == set(SHARDED)
    assert {obj["kind"] for obj in SERVICES if obj["metadata"]["name"] not in SHARDED} == {
        "Deployment"
    }
    for obj in SERVICES:
        (container,) = obj["spec"]["template"]["spec"]["containers"]
        assert container["command"] == ["python", "-m", f"services.{component(obj)}"]


@pytest.mark.parametrize(("name", "container"), containers(), ids=[n for n, _ in containers()])
def test_env_names_are_settings(name: str, container: Object) -> None:
    known = {f"APOLLO_{field.upper()}" for cls in SETTINGS[name] for field in cls.model_fields}
    assert env_names(container) <= known, sorted(env_names(container) - known)


def test_one_image_tagged_with_the_project_version() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert {container["image"] for _, container in containers()} == {f"apollo:{version}"}


@pytest.mark.parametrize(("name", "container"), containers(), ids=[n for n, _ in containers()])
def test_broker_and_archive_come_from_the_secrets(name: str, container: Object) -> None:
    for variable, ref in SECRET_REFS.items():
        assert env_value(container, variable) == {
            "name": variable,
            "valueFrom": {"secretKeyRef": ref},
        }, name


@pytest.mark.parametrize("deployment", SERVICES, ids=component)
def test_liveness_on_healthz_readiness_on_readyz_and_a_disruption_budget(
    deployment: Object,
) -> None:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    # Readiness asks the broker and Postgres; liveness must not, or an outage restarts pods.
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}
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
    for deployment in SERVICES:
        service = named("Service", deployment["metadata"]["name"])
        assert selects(monitor["spec"]["selector"], service["metadata"]["labels"])
        assert "metrics" in {port["name"] for port in service["spec"]["ports"]}


def test_topics_are_those_of_topics_py() -> None:
    """Only the in-cluster Kafka (dev) declares topics; prod's are made by hand from the
    same list (docs/deploy.md, checked in test_deploy_doc.py)."""
    topics = of_kind("KafkaTopic", "dev")
    declared = {(t["spec"]["topicName"], t["spec"]["partitions"]) for t in topics}
    assert declared == {(topic.name, topic.partitions) for topic in ALL_TOPICS}
    kafka = named("Kafka", "apollo", overlay="dev")
    replication = kafka["spec"]["kafka"]["config"]["default.replication.factor"]
    for topic in topics:
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
        assert topic["spec"]["replicas"] == replication, topic["metadata"]["name"]


def test_in_cluster_secrets_name_what_the_operators_run() -> None:
    kafka = named("Kafka", "apollo", overlay="dev")
    (listener,) = kafka["spec"]["kafka"]["listeners"]
    secret = named("Secret", "apollo-kafka", overlay="dev")
    bootstrap = secret["data"]["bootstrap"]
    # Strimzi's bootstrap Service is <cluster>-kafka-bootstrap.
    expected = f"{kafka['metadata']['name']}-kafka-bootstrap:{listener['port']}"
    assert base64.b64decode(bootstrap).decode() == expected
    # CloudNativePG writes the application user's DSN to <cluster>-app.
    cluster = named("Cluster", "apollo-archive", overlay="dev")
    assert f"{cluster['metadata']['name']}-app" == SECRET_REFS["APOLLO_POSTGRES_DSN"]["name"]
    assert "kafkaExporter" in kafka["spec"]


def test_prod_runs_no_kafka_or_postgres_of_its_own() -> None:
    kinds = {obj["kind"] for obj in rendered("prod")}
    assert not kinds & {"Kafka", "KafkaNodePool", "KafkaTopic", "Cluster", "Secret"}


def test_judge_scales_on_its_own_lag() -> None:
    (scaled,) = of_kind("ScaledObject")
    assert scaled["spec"]["scaleTargetRef"]["name"] == "apollo-judge"
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "kafka"
    (judge,) = named("Deployment", "apollo-judge")["spec"]["template"]["spec"]["containers"]
    variable = trigger["metadata"]["bootstrapServersFromEnv"]
    assert env_value(judge, variable)["valueFrom"]["secretKeyRef"] == SECRET_REFS["APOLLO_KAFKA"]
    assert trigger["metadata"]["consumerGroup"] == JUDGE_GROUP
    assert trigger["metadata"]["topic"] == TRAJECTORIES.name


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize(("name", "setting"), SHARDED.items())
def test_the_shard_count_is_the_replicas(overlay: str, name: str, setting: str) -> None:
    workload = named("StatefulSet", name, overlay=overlay)
    (container,) = workload["spec"]["template"]["spec"]["containers"]
    count = env_value(container, f"{setting}_COUNT")["value"]
    assert int(count) == workload["spec"]["replicas"]
    index = env_value(container, f"{setting}_INDEX")["valueFrom"]["fieldRef"]
    assert index == {"fieldPath": "metadata.labels['apps.kubernetes.io/pod-index']"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_one_workspace_volume_seen_from_both_namespaces(overlay: str) -> None:
    sandbox = named("StatefulSet", "apollo-sandbox", overlay=overlay)["spec"]["template"]["spec"]
    (container,) = sandbox["containers"]
    claim_name = env_value(container, "APOLLO_SANDBOX_K8S_WORKSPACE_CLAIM")["value"]
    mounted = {
        volume["persistentVolumeClaim"]["claimName"]
        for volume in sandbox["volumes"]
        if "persistentVolumeClaim" in volume
    }
    assert claim_name in mounted
    sources = []
    for namespace in (APOLLO, SANDBOXES):
        claim = named("PersistentVolumeClaim", claim_name, namespace=namespace, overlay=overlay)
        assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
        volume = named("PersistentVolume", claim["spec"]["volumeName"], overlay=overlay)
        assert volume["spec"]["claimRef"] == {"namespace": namespace, "name": claim_name}
        assert volume["spec"]["accessModes"] == ["ReadWriteMany"]
        sources.append({k: v for k, v in volume["spec"].items() if k not in {"claimRef"}})
    assert sources[0] == sources[1], "the two halves name different storage"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_dashboards_are_configmaps_for_the_grafana_sidecar(overlay: str) -> None:
    maps = {
        key: value
        for obj in of_kind("ConfigMap", overlay)
        if obj["metadata"].get("labels", {}).get("grafana_dashboard") == "1"
        for key, value in obj["data"].items()
    }
    files = {path.name: path.read_text() for path in DASHBOARDS.glob("*.json")}
    assert files, f"no dashboards in {DASHBOARDS}"
    assert maps.keys() == files.keys()
    for name, text in maps.items():
        assert json.loads(text) == json.loads(files[name]), name


def test_prometheus_rule_is_fresh() -> None:
    script = ROOT / "scripts" / "render-prometheus-rule"
    check = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout


def test_dev_runs_one_of_everything_and_prod_replicates() -> None:
    objects = {(o["kind"], o["metadata"]["name"]): o for o in rendered("dev")}
    config = objects["Kafka", "apollo"]["spec"]["kafka"]["config"]
    dev = {
        "kafka nodes": objects["KafkaNodePool", "dual-role"]["spec"]["replicas"],
        "replication": config["default.replication.factor"],
        "min in-sync": config["min.insync.replicas"],
        "offsets replication": config["offsets.topic.replication.factor"],
        "topic replicas": max(t["spec"]["replicas"] for t in of_kind("KafkaTopic", "dev")),
        "postgres": objects["Cluster", "apollo-archive"]["spec"]["instances"],
        **{o["metadata"]["name"]: o["spec"]["replicas"] for o in workloads("dev")
           if o["kind"] != "Job"},
    }  # fmt: skip
    assert dev == dict.fromkeys(dev, 1)
    prod = {o["metadata"]["name"]: o["spec"]["replicas"] for o in SERVICES}
    assert prod["apollo-gateway"] == prod["apollo-policy"] == prod["apollo-sandbox"] == 2
    (scaled,) = of_kind("ScaledObject")
    assert scaled["spec"]["minReplicaCount"] == 2
