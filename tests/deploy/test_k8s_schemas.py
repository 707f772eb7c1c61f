"""Every object each overlay of deploy/k8s renders is valid: custom resources against their
operators' CRD schemas (shared/k8s-crds), built-in kinds against Kubernetes' own
(kubernetes-validate)."""

from __future__ import annotations

import shutil
from functools import cache
from typing import Any

import pytest
import yaml

from tests.deploy.k8s_objects import OVERLAYS, ROOT, Object, case_id, every_overlay, rendered

CRDS = ROOT / ".." / "shared" / "k8s-crds"
KUBERNETES_VERSION = "1.37.0"


def closed(schema: Any) -> Any:
    """The schema with unknown fields refused, as the API server prunes them: a misspelt or
    misplaced field fails here instead of vanishing on apply."""
    if isinstance(schema, list):
        return [closed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    strict = {key: closed(value) for key, value in schema.items()}
    if "properties" in schema and not schema.get("x-kubernetes-preserve-unknown-fields"):
        strict.setdefault("additionalProperties", False)
    return strict


@cache
def crd_schemas() -> dict[tuple[str, str], Object]:
    """openAPIV3Schema, closed, by (apiVersion, kind) of every CRD under shared/k8s-crds."""
    schemas = {}
    for path in CRDS.rglob("*.yaml"):
        crd = yaml.safe_load(path.read_text())
        for version in crd["spec"]["versions"]:
            api_version = f"{crd['spec']['group']}/{version['name']}"
            kind = crd["spec"]["names"]["kind"]
            schemas[api_version, kind] = closed(version["schema"]["openAPIV3Schema"])
    return schemas


def is_custom(obj: Object) -> bool:
    group = obj["apiVersion"].rpartition("/")[0]
    return "." in group and not group.endswith(".k8s.io")


def test_overlays_render() -> None:
    assert shutil.which("kubectl"), "kubectl renders the overlays: run `make install`"
    for overlay in OVERLAYS:
        assert rendered(overlay), f"overlay {overlay} renders nothing"


CUSTOM = [case for case in every_overlay() if is_custom(case[1])]
BUILT_IN = [case for case in every_overlay() if not is_custom(case[1])]


@pytest.mark.parametrize(("overlay", "obj"), CUSTOM, ids=map(case_id, CUSTOM))
def test_custom_resource_matches_its_crd(overlay: str, obj: Object) -> None:
    if not CRDS.is_dir():
        pytest.skip(f"no CRDs at {CRDS.resolve()}")
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is not installed (dev extra)")
    schema = crd_schemas().get((obj["apiVersion"], obj["kind"]))
    assert schema, f"no CRD for {obj['apiVersion']} {obj['kind']} under {CRDS}"
    # Not validate(): its metaschema check refuses Go regexes such as `^(?i)...` in patterns.
    errors = [error.message for error in jsonschema.Draft7Validator(schema).iter_errors(obj)]
    assert not errors, errors


@pytest.mark.parametrize(("overlay", "obj"), BUILT_IN, ids=map(case_id, BUILT_IN))
def test_built_in_object_matches_kubernetes_schema(overlay: str, obj: Object) -> None:
    kubernetes_validate = pytest.importorskip(
        "kubernetes_validate",
        reason=f"kubernetes-validate=={KUBERNETES_VERSION} is not installed (dev extra)",
    )
    kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
