"""The exported JSON Schema is valid, complete, strict, and in sync with the committed copy."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml

import automation.spec.schema as schema_module
from automation.spec import spec_json_schema
from automation.spec.schema import SCHEMA_FILE, render

SECTIONS_V2 = {
    "version",
    "name",
    "targets",
    "runtime",
    "projects",
    "jobs",
    "applications",
    "models",
    "timeouts",
}
SECTIONS_V1 = SECTIONS_V2 - {"jobs", "applications", "models"} | {"training", "model", "deployment"}


@pytest.fixture(scope="module")
def schema() -> dict:
    return spec_json_schema()


def test_schema_is_valid_json_schema(schema):
    jsonschema.Draft202012Validator.check_schema(schema)
    assert json.loads(json.dumps(schema)) == schema


def test_top_level_is_one_of_v2_and_v1(schema):
    assert [one["$ref"] for one in schema["oneOf"]] == ["#/$defs/Spec", "#/$defs/SpecV1"]
    v2, v1 = schema["$defs"]["Spec"], schema["$defs"]["SpecV1"]
    assert set(v2["properties"]) == SECTIONS_V2 and set(v1["properties"]) == SECTIONS_V1
    assert set(v2["required"]) == {"version", "name", "projects", "models"}
    assert set(v1["required"]) == {"version", "name", "projects", "training", "model", "deployment"}
    assert v2["properties"]["version"]["const"] == 2 and v1["properties"]["version"]["const"] == 1
    for name, definition in schema["$defs"].items():
        if definition.get("type") == "object" and "properties" in definition:
            assert definition.get("additionalProperties") is False, name


def _properties(schema):
    for definition in schema["$defs"].values():
        yield from definition.get("properties", {}).items()


def test_every_field_is_described(schema):
    undescribed = [name for name, prop in _properties(schema) if not prop.get("description")]
    assert undescribed == []


def test_flagship_validates_against_the_schema(schema, flagship_path):
    data = yaml.safe_load(flagship_path.read_text())
    assert data["version"] == 2
    jsonschema.Draft202012Validator(schema).validate(data)


def test_a_v1_file_still_validates(schema, v1_flagship_path):
    data = yaml.safe_load(v1_flagship_path.read_text())
    assert data["version"] == 1
    jsonschema.Draft202012Validator(schema).validate(data)


def test_schema_rejects_an_unknown_key_and_accepts_references(schema, flagship_path):
    data = yaml.safe_load(flagship_path.read_text())
    validator = jsonschema.Draft202012Validator(schema)
    endpoint = data["models"]["wine-quality"]["endpoint"]
    endpoint["cpu"] = "${CPU:-1}"
    validator.validate(data)
    endpoint["cpus"] = 1
    assert not validator.is_valid(data)


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["jobs"]["train"].update(schedule={"cron": "0 6 * * 1"}),  # after and schedule
        lambda d: d["jobs"]["weekly-retrain"]["schedule"].update(cron="every monday"),
        lambda d: d["applications"]["wine-scorer"].update(project="staging"),
        lambda d: d["targets"]["cml"]["overrides"]["jobs"]["train"].update(script="x.py"),  # not overridable
        lambda d: d["models"]["wine-quality"].update(deployment={}),  # a v1 section inside v2
        lambda d: d.update(version=1),  # v2 sections under version 1
    ],
    ids=["after-and-schedule", "bad-cron", "bad-project", "override-script", "v1-key", "v1-version"],
)
def test_schema_refuses_a_bad_v2_document(schema, flagship_path, change):
    data = yaml.safe_load(flagship_path.read_text())
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid(data)
    change(data)
    assert not validator.is_valid(data)


def test_committed_schema_file_is_current():
    assert SCHEMA_FILE.read_text(encoding="utf-8") == render(), (
        "automation/spec/spec.schema.json is stale: run "
        "python -c 'from automation.spec.schema import write_schema_file; write_schema_file()'"
    )


def test_write_schema_file_rewrites_the_file_it_returns(tmp_path, monkeypatch):
    stale = tmp_path / "spec.schema.json"
    stale.write_text("{}\n", encoding="utf-8")
    monkeypatch.setattr(schema_module, "SCHEMA_FILE", stale)
    assert schema_module.write_schema_file() == stale
    assert json.loads(stale.read_text(encoding="utf-8")) == spec_json_schema()
