"""rules/schema.json is published for editors: current, and it accepts and rejects what the loader does."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml

from service.engine.loader import rules_files
from service.engine.schema import json_schema
from tests.support import RULES

SCHEMA = json.loads((RULES / "schema.json").read_text())


def test_committed_schema_is_current() -> None:
    assert SCHEMA == json.loads(json.dumps(json_schema())), "rules/schema.json is stale: run `make schema`"


PACKED = [path for directory in sorted((RULES / "packs").iterdir()) + sorted((RULES / "examples").iterdir())
          for path in rules_files(directory)]


@pytest.mark.parametrize("path", rules_files(RULES) + PACKED, ids=lambda p: str(p.relative_to(RULES)))
def test_shipped_rules_files_validate(path) -> None:  # type: ignore[no-untyped-def]
    jsonschema.Draft202012Validator(SCHEMA).validate(yaml.safe_load(path.read_text()))


@pytest.mark.parametrize("document", [
    {"rules": [{"id": "x1", "description": "a rule with a typo in a field", "when": {"failure.sevrity": 3},
                "then": {"explanation": True}}]},
    {"rules": [{"id": "x1", "description": "an operator a field does not take", "when": {"failure.recurring": {"gte": 1}},
                "then": {"explanation": True}}]},
    {"rules": [{"id": "x1", "description": "a then key that does not exist", "then": {"cash": 5}}]},
    {"rules": [{"id": "Bad Id", "description": "ids are slugs", "then": {"explanation": True}}]},
    {"limits": {"total": {"max_percent_of_order": "lots"}}},
])
def test_schema_rejects_mistakes(document: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(SCHEMA).validate(document)
