"""deploy/k8s keeps its pods locked down: non-root, read-only, no capabilities, API tokens
only where needed, namespaced RBAC, and sandbox pods cut off from the network."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.deploy.k8s_objects import (
    APOLLO,
    OVERLAYS,
    ROOT,
    SANDBOXES,
    WORKLOADS,
    Object,
    env_value,
    every_overlay,
    named,
    of_kind,
    pod_specs,
    rendered,
    selects,
)

# Only the sandbox (its kubernetes backend) talks to the API.
NEEDS_API = {"apollo-sandbox"}
SANDBOX_BACKEND = ROOT / "services" / "sandbox" / "kubernetes.py"
# The RBAC (resource, verb) pairs each CoreV1Api method the backend calls is checked for.
API_VERBS = {
    "create_namespaced_pod": {("pods", "create")},
    "read_namespaced_pod": {("pods", "get")},
    "delete_namespaced_pod": {("pods", "delete")},
    # The exec websocket opens with GET; API servers from 1.30 on also ask for create.
    "connect_get_namespaced_pod_exec": {("pods/exec", "get"), ("pods/exec", "create")},
}


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


def api_methods_the_backend_calls() -> set[str]:
    """The names of the `self._api.<method>` the kubernetes backend calls or passes on."""
    tree = ast.parse(SANDBOX_BACKEND.read_text())
    return {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "_api"
    }


def test_the_backend_calls_only_mapped_api_methods() -> None:
    called = api_methods_the_backend_calls()
    assert called, f"no API calls found in {SANDBOX_BACKEND}"
    assert called <= set(API_VERBS), f"map the RBAC verbs of {sorted(called - set(API_VERBS))}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_sandbox_role_grants_exactly_what_the_backend_uses(overlay: str) -> None:
    sandbox = named("StatefulSet", "apollo-sandbox", overlay=overlay)
    (container,) = sandbox["spec"]["template"]["spec"]["containers"]
    pods_namespace = env_value(container, "APOLLO_SANDBOX_K8S_NAMESPACE")["value"]
    assert pods_namespace == SANDBOXES
    role = named("Role", "apollo-sandbox", namespace=SANDBOXES, overlay=overlay)
    granted = {
        (resource, verb)
        for rule in role["rules"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }
    assert all(rule["apiGroups"] == [""] for rule in role["rules"])
    used = set().union(*(API_VERBS[name] for name in api_methods_the_backend_calls()))
    assert granted == used
    roles = of_kind("Role", overlay)
    assert [r["metadata"]["namespace"] for r in roles] == [SANDBOXES], "one Role, with the pods"
    binding = named("RoleBinding", "apollo-sandbox", namespace=SANDBOXES, overlay=overlay)
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": "apollo-sandbox",
    }
    account = sandbox["spec"]["template"]["spec"]["serviceAccountName"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": account, "namespace": APOLLO}]


def sandbox_pod_labels(tmp_path: Path) -> dict[str, str]:
    """The labels the kubernetes backend puts on a trajectory's pod."""
    pytest.importorskip("kubernetes", reason="the kubernetes client is not installed (k8s extra)")
    from services.sandbox.backend import SandboxSpec
    from services.sandbox.kubernetes import pod_manifest

    pod = pod_manifest(SandboxSpec("t-1", tmp_path / "t-1"), "image", "claim", "t-1")
    return pod.metadata.labels


def is_dns(rule: Object) -> bool:
    """Whether an egress rule reaches only the cluster DNS on port 53."""
    ports = {(port["protocol"], port["port"]) for port in rule.get("ports", [])}
    peers = rule.get("to", [])
    return (
        ports == {("UDP", 53), ("TCP", 53)}
        and bool(peers)
        and all(
            peer.get("podSelector", {}).get("matchLabels") == {"k8s-app": "kube-dns"}
            for peer in peers
        )
    )


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_sandbox_pods_take_no_traffic_and_send_only_dns(overlay: str, tmp_path: Path) -> None:
    labels = sandbox_pod_labels(tmp_path)
    policies = [
        policy
        for policy in of_kind("NetworkPolicy", overlay)
        if policy["metadata"]["namespace"] == SANDBOXES
    ]
    covering = [p for p in policies if selects(p["spec"]["podSelector"], labels)]
    assert covering == policies, "a sandbox-namespace policy misses the agent pods"
    assert any(
        set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"}
        and not p["spec"].get("ingress")
        and not p["spec"].get("egress")
        for p in covering
    ), "no default deny in the sandboxes' namespace"
    assert not [p for p in covering if p["spec"].get("ingress")], "agent pods take traffic"
    egress = [rule for p in covering for rule in p["spec"].get("egress", [])]
    assert egress, "agent pods cannot look names up"
    assert all(is_dns(rule) for rule in egress), "agent pods reach more than DNS"
    allow_list = named(
        "NetworkPolicy", "apollo-sandbox-egress-allow-list", namespace=SANDBOXES, overlay=overlay
    )
    assert allow_list["spec"]["policyTypes"] == ["Egress"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_apollo_pod_is_under_a_default_deny(overlay: str) -> None:
    deny_all = [
        policy["spec"]["podSelector"]
        for policy in of_kind("NetworkPolicy", overlay)
        if policy["metadata"]["namespace"] == APOLLO
        and set(policy["spec"]["policyTypes"]) == {"Ingress", "Egress"}
        and not policy["spec"].get("ingress")
        and not policy["spec"].get("egress")
    ]
    for obj in rendered(overlay):
        if obj["kind"] in WORKLOADS:
            labels = obj["spec"]["template"]["metadata"]["labels"]
            assert obj["metadata"]["namespace"] == APOLLO, obj["metadata"]["name"]
            assert any(selects(selector, labels) for selector in deny_all), obj["metadata"]["name"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_the_gateway_accepts_ingress_from_anywhere(overlay: str) -> None:
    open_to_all = [
        policy["metadata"]["name"]
        for policy in of_kind("NetworkPolicy", overlay)
        for rule in policy["spec"].get("ingress", [])
        if not rule.get("from")
    ]
    assert open_to_all == ["apollo-gateway-ingress"]
    policy = named("NetworkPolicy", "apollo-gateway-ingress", overlay=overlay)
    gateway = policy["spec"]["podSelector"]
    assert gateway["matchLabels"]["app.kubernetes.io/component"] == "gateway"


def test_both_namespaces_enforce_the_restricted_pod_security_standard() -> None:
    for overlay, obj in every_overlay():
        if obj["kind"] == "Namespace":
            labels = obj["metadata"]["labels"]
            assert labels["pod-security.kubernetes.io/enforce"] == "restricted", overlay
    for overlay in OVERLAYS:
        names = {obj["metadata"]["name"] for obj in of_kind("Namespace", overlay)}
        assert names == {APOLLO, SANDBOXES}, overlay


def test_apollo_runs_nothing_in_the_sandboxes_namespace() -> None:
    for overlay, obj in every_overlay():
        if obj["kind"] in WORKLOADS | {"ServiceAccount", "Secret", "ConfigMap"}:
            assert obj["metadata"]["namespace"] == APOLLO, f"{overlay}: {obj['metadata']['name']}"


def test_sandbox_service_runs_as_its_pods_uid() -> None:
    pytest.importorskip("kubernetes", reason="the kubernetes client is not installed (k8s extra)")
    from services.sandbox.kubernetes import SANDBOX_UID

    pod = named("StatefulSet", "apollo-sandbox")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == SANDBOX_UID
    assert pod["securityContext"]["fsGroup"] == SANDBOX_UID
