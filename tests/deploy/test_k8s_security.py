"""deploy/k8s keeps its pods locked down: non-root, read-only, no capabilities, API tokens
only where needed, namespaced RBAC, and sandbox pods cut off from the network."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.deploy.k8s_objects import Object, named, of_kind, pod_specs, rendered, selects

# Only the sandbox (its kubernetes backend) talks to the API.
NEEDS_API = {"apollo-sandbox"}


@pytest.mark.parametrize("pod", [pod for _, pod in pod_specs()], ids=[n for n, _ in pod_specs()])
def test_every_container_is_locked_down(pod: Object) -> None:
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    for container in pod["containers"] + pod.get("initContainers", []):
        context = container["securityContext"]
        assert context["runAsNonRoot"] is True, container["name"]
        assert context["readOnlyRootFilesystem"] is True, container["name"]
        assert context["allowPrivilegeEscalation"] is False, container["name"]
        assert context.get("privileged", False) is False, container["name"]
        assert context["capabilities"]["drop"] == ["ALL"], container["name"]
        assert not context["capabilities"].get("add"), container["name"]
        assert container["resources"]["requests"], container["name"]
        assert container["resources"]["limits"]["memory"], container["name"]


def test_no_host_namespaces() -> None:
    for name, pod in pod_specs():
        assert not any(pod.get(key) for key in ("hostNetwork", "hostPID", "hostIPC")), name


def test_api_tokens_only_where_needed() -> None:
    for name, pod in pod_specs():
        needs_api = name.partition(":")[2] in NEEDS_API
        assert pod["automountServiceAccountToken"] is needs_api, name
        account = named("ServiceAccount", pod["serviceAccountName"])
        assert account["automountServiceAccountToken"] is needs_api, name


def test_no_cluster_wide_rbac() -> None:
    kinds = {obj["kind"] for obj in rendered()}
    assert not kinds & {"ClusterRole", "ClusterRoleBinding"}
    for binding in of_kind("RoleBinding"):
        assert binding["roleRef"]["kind"] == "Role", binding["metadata"]["name"]


def test_sandbox_role_grants_only_its_pods_and_exec() -> None:
    rules = named("Role", "apollo-sandbox")["rules"]
    granted = {
        (resource, verb)
        for rule in rules
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }
    assert all(rule["apiGroups"] == [""] for rule in rules)
    assert granted <= {
        ("pods", "create"),
        ("pods", "get"),
        ("pods", "delete"),
        ("pods/exec", "create"),
        ("pods/exec", "get"),
    }


def sandbox_pod_labels(tmp_path: Path) -> dict[str, str]:
    """The labels the kubernetes backend puts on a trajectory's pod."""
    pytest.importorskip("kubernetes", reason="the kubernetes client is not installed (k8s extra)")
    from services.sandbox.backend import SandboxSpec
    from services.sandbox.kubernetes import pod_manifest

    pod = pod_manifest(SandboxSpec("t-1", tmp_path / "t-1"), "image", "claim", "t-1")
    return pod.metadata.labels


def test_sandbox_pods_have_no_egress_and_ingress_only_from_the_sandbox(tmp_path: Path) -> None:
    labels = sandbox_pod_labels(tmp_path)
    covering = [p for p in of_kind("NetworkPolicy") if selects(p["spec"]["podSelector"], labels)]
    assert covering, "no NetworkPolicy selects sandbox pods"
    assert any(
        "Egress" in policy["spec"]["policyTypes"] and not policy["spec"].get("egress")
        for policy in covering
    ), "no NetworkPolicy denies sandbox pods all egress"
    sandbox_labels = named("Deployment", "apollo-sandbox")["spec"]["template"]["metadata"]["labels"]
    for policy in covering:
        assert not policy["spec"].get("egress"), policy["metadata"]["name"]
        for rule in policy["spec"].get("ingress", []):
            assert rule["from"], f"{policy['metadata']['name']} admits anyone"
            for peer in rule["from"]:
                assert set(peer) == {"podSelector"}, policy["metadata"]["name"]
                assert selects(peer["podSelector"], sandbox_labels), policy["metadata"]["name"]


def test_every_apollo_pod_is_under_a_default_deny() -> None:
    deny_all = [
        policy["spec"]["podSelector"]
        for policy in of_kind("NetworkPolicy")
        if set(policy["spec"]["policyTypes"]) == {"Ingress", "Egress"}
        and not policy["spec"].get("ingress")
        and not policy["spec"].get("egress")
    ]
    for obj in rendered():
        if obj["kind"] in {"Deployment", "Job"}:
            labels = obj["spec"]["template"]["metadata"]["labels"]
            assert any(selects(selector, labels) for selector in deny_all), obj["metadata"]["name"]


def test_only_the_gateway_accepts_ingress_from_anywhere() -> None:
    open_to_all = [
        policy["metadata"]["name"]
        for policy in of_kind("NetworkPolicy")
        for rule in policy["spec"].get("ingress", [])
        if not rule.get("from")
    ]
    assert open_to_all == ["apollo-gateway-ingress"]
    gateway = named("NetworkPolicy", "apollo-gateway-ingress")["spec"]["podSelector"]
    assert gateway["matchLabels"]["app.kubernetes.io/component"] == "gateway"


def test_the_namespace_enforces_the_restricted_pod_security_standard() -> None:
    (namespace,) = of_kind("Namespace")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_sandbox_service_runs_as_its_pods_uid() -> None:
    pytest.importorskip("kubernetes", reason="the kubernetes client is not installed (k8s extra)")
    from services.sandbox.kubernetes import SANDBOX_UID

    pod = named("Deployment", "apollo-sandbox")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == SANDBOX_UID
    assert pod["securityContext"]["fsGroup"] == SANDBOX_UID
