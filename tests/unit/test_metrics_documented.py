"""Every Prometheus metric a service exports is documented in docs/metrics.md."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from prometheus_client import REGISTRY

import services

DOC = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"


def import_every_service_module() -> None:
    for module in pkgutil.walk_packages(services.__path__, "services."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)


def test_every_apollo_metric_is_documented() -> None:
    import_every_service_module()
    documented = DOC.read_text()
    names = {family.name for family in REGISTRY.collect() if family.name.startswith("apollo_")}
    assert names, "no apollo_ metric was registered"
    missing = sorted(name for name in names if f"`{name}" not in documented)
    assert not missing, f"document these in docs/metrics.md: {missing}"
