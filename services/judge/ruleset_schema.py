"""The JSON Schema of ruleset files, from the models; `python -m services.judge.ruleset_schema`."""

from __future__ import annotations

import json
from pathlib import Path

from services.judge.ruleset import Ruleset

SCHEMA_PATH = Path(__file__).parent / "ruleset.schema.json"


def ruleset_schema() -> dict:
    """The JSON Schema of a ruleset file."""
    schema = Ruleset.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Apollo judge ruleset"
    return schema


def schema_text() -> str:
    """The committed form of the schema: indented JSON with sorted keys."""
    return json.dumps(ruleset_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    SCHEMA_PATH.write_text(schema_text(), encoding="utf-8")
    print(f"wrote {SCHEMA_PATH.name}")
