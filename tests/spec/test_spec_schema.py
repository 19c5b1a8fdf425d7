"""The exported JSON Schema is valid, complete, strict, and in sync with the committed copy."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml

from automation.spec import spec_json_schema
from automation.spec.schema import SCHEMA_FILE, render

SECTIONS = {
    "version",
    "name",
    "targets",
    "runtime",
    "projects",
    "training",
    "model",
    "deployment",
    "timeouts",
}


@pytest.fixture(scope="module")
def schema() -> dict:
    return spec_json_schema()


def test_schema_is_valid_json_schema(schema):
    jsonschema.Draft202012Validator.check_schema(schema)
    assert json.loads(json.dumps(schema)) == schema


def test_top_level_sections_and_strictness(schema):
    assert set(schema["properties"]) == SECTIONS
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"version", "name", "projects", "training", "model", "deployment"}
    for name, definition in schema["$defs"].items():
        if definition.get("type") == "object" and "properties" in definition:
            assert definition.get("additionalProperties") is False, name


def _properties(schema):
    yield from schema["properties"].items()
    for definition in schema["$defs"].values():
        yield from definition.get("properties", {}).items()


def test_every_field_is_described(schema):
    undescribed = [name for name, prop in _properties(schema) if not prop.get("description")]
    assert undescribed == []


def test_flagship_validates_against_the_schema(schema, flagship_path):
    data = yaml.safe_load(flagship_path.read_text())
    jsonschema.Draft202012Validator(schema).validate(data)


def test_schema_rejects_an_unknown_key_and_accepts_references(schema, flagship_path):
    data = yaml.safe_load(flagship_path.read_text())
    validator = jsonschema.Draft202012Validator(schema)
    data["deployment"]["cpu"] = "${CPU:-1}"
    validator.validate(data)
    data["deployment"]["cpus"] = 1
    assert not validator.is_valid(data)


def test_committed_schema_file_is_current():
    assert SCHEMA_FILE.read_text(encoding="utf-8") == render(), (
        "automation/spec/spec.schema.json is stale: run "
        "python -c 'from automation.spec.schema import write_schema_file; write_schema_file()'"
    )
