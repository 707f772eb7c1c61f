"""Canonical JSON: the one spelling of a value that digests and recorded fields rely on."""

from __future__ import annotations

import json
from typing import Any


def canonical_json(value: Any) -> str:
    """The one JSON spelling of a value: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
