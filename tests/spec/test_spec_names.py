"""The naming rules of a spec at their limits: the spec's name, a model's (registry) name, a
target's name, and a script path, each accepted at its longest and refused one past it."""

from __future__ import annotations

import json

import pytest
from spec_support import MINIMAL_V2


def _with(old: str, new: str) -> str:
    assert old in MINIMAL_V2, old
    return MINIMAL_V2.replace(old, new, 1)


def _model_named(name: str) -> str:
    """MINIMAL_V2 with its first model renamed (YAML double quotes; the override naming it dropped)."""
    renamed = _with("  demo-model:\n", f"  {json.dumps(name)}:\n")
    return renamed.replace("      models: {demo-model: {endpoint: {replicas: 3}}}\n", "")


def test_a_spec_name_of_64_characters_loads_and_65_are_refused(parse, spec_error):
    assert parse(_with("name: demo", "name: " + "a" * 64)).name == "a" * 64
    err = spec_error(_with("name: demo", "name: " + "a" * 65))
    assert err.field == "name" and "65 characters long; at most 64" in err.message


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("m" * 65, "at most 64"),
        (" demo-model", "whitespace"),
        ("demo\tmodel", "control character"),
        ("demo/model", "refuses '/'"),
    ],
    ids=["too long", "leading space", "tab", "slash"],
)
def test_a_model_name_the_registry_refuses_is_refused_when_loading(spec_error, name, message):
    err = spec_error(_model_named(name))
    assert err.field.startswith("models") and message in err.message, str(err)


def test_a_model_name_of_64_characters_loads(parse):
    assert "m" * 64 in parse(_model_named("m" * 64)).models


@pytest.mark.parametrize("name", ["t" * 33, "Cml", "cml.prod"], ids=["33 characters", "uppercase", "dot"])
def test_a_target_name_past_the_rules_is_refused(spec_error, name):
    err = spec_error(_with("  cml:\n    kind: cml\n", f"  {name}:\n    kind: cml\n"))
    assert err.field.startswith("targets") and "target names are lowercase" in err.message, str(err)


def test_a_target_name_of_32_characters_with_dash_and_underscore_loads(parse):
    name = "t-" + "_" * 29 + "t"
    assert len(name) == 32
    assert name in parse(_with("  cml:\n    kind: cml\n", f"  {name}:\n    kind: cml\n")).targets


def test_a_script_path_names_one_file_not_a_glob(spec_error):
    err = spec_error(_with("script: code/setup.py", "script: code/*.py"))
    assert err.field == "jobs.setup.script" and "glob character" in err.message, str(err)


@pytest.mark.parametrize("name", [".", "..", "..m"], ids=["dot", "dot dot", "starts with dot dot"])
def test_a_model_name_of_dots_the_registry_refuses_is_refused(spec_error, name):
    err = spec_error(_model_named(name))
    assert "'.' or starts with '..'" in err.message, str(err)


def test_a_model_name_with_one_dot_inside_loads(parse):
    assert "wine.v2" in parse(_model_named("wine.v2")).models


def test_an_environment_value_with_a_nul_character_is_refused(spec_error):
    err = spec_error(_with('environment: {A: "1", B: "2"}', 'environment: {A: "1\\0", B: "2"}'))
    assert err.field.startswith("jobs.train.environment") and "NUL" in err.message, str(err)


def test_specs_are_equal_only_when_every_field_is(parse):
    one, same = parse(MINIMAL_V2), parse(MINIMAL_V2)
    other = parse(_with("timeout: 600", "timeout: 601"))
    assert one == same and one is not same
    assert one != other and one.jobs["setup"] != other.jobs["setup"]
    assert one.jobs["train"] == other.jobs["train"]
    # a section never equals another kind of section, nor a value that is not a section at all
    assert one.jobs["nightly"].schedule != one.jobs["train"]
    assert (one == "demo") is False and (one != "demo") is True
