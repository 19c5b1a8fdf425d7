"""Diagnostics through every kind of place a spec error can sit: a list item, a target in the
targets mapping (a tagged union), an optional section; how offending values are named; the count of
further problems."""

from __future__ import annotations

import pytest
from spec_support import MINIMAL

MODEL = "model:\n  registered_name: demo-model\n"


def with_model(extra: str) -> str:
    return MINIMAL.replace(MODEL, MODEL + extra)


def said(err) -> str:
    """The message without its ``file:line:column: field:`` prefix."""
    return err.message.split(f"{err.field}: ", 1)[1]


def test_unknown_key_in_a_list_item_names_the_items_keys(spec_error):
    err = spec_error(
        with_model("  gates:\n    thresholds:\n      - metric: rmse\n        max: 1\n        maxx: 2\n")
    )
    assert said(err) == "unknown key 'maxx'"
    assert err.field == "model.gates.thresholds[0].maxx"
    assert err.hint == "did you mean 'max'? allowed keys here: max, metric, min"


def test_unknown_key_in_an_optional_section(spec_error):
    err = spec_error(
        with_model("  gates:\n    no_worse_than_prd:\n      metric: rmse\n      tolerence: 0.1\n")
    )
    assert err.hint and err.hint.startswith("did you mean 'tolerance'? allowed keys here: higher_is_better")


def test_unknown_key_in_a_target_names_that_kinds_keys(spec_error):
    text = MINIMAL + (
        "targets:\n  prod:\n    kind: cml\n    url: https://ml.example.com\n"
        "    api_key: ${env:K}\n    verfy_tls: true\n"
    )
    err = spec_error(text, environ={"K": "a-secret-value-123"})
    assert said(err) == "unknown key 'verfy_tls'"
    assert err.hint and err.hint.startswith("did you mean 'verify_tls'? allowed keys here: ")
    assert "ca_bundle" in err.hint and "state_dir" not in err.hint  # the cml kind's keys, not local's


def test_a_missing_key_is_explained_by_its_description(spec_error):
    err = spec_error(MINIMAL.replace("    script: code/train.py\n", ""))
    assert said(err) == "missing required key 'script'"
    assert (
        err.hint
        == "add 'script:' under 'training.job' (Script the job runs, relative to the repo (= project) root)"
    )


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ("true", "true"),
        ("{a: 1}", "a mapping"),
        ("[1, 2]", "a list"),
        ("null", "nothing (null)"),
        ("x" * 40, "text '" + "x" * 40 + "'"),
        ("y" * 41, "text '" + "y" * 37 + "...'"),
    ],
)
def test_an_offending_value_is_named_plainly(spec_error, value, named):
    err = spec_error(with_model(f"  select:\n    strategy: {value}\n"))
    assert said(err) == f"expected one of: latest, best; got {named}"


def test_the_hint_counts_the_other_problems(spec_error):
    one = spec_error(with_model("  select:\n    strategy: newest\n"))
    assert "more problem" not in (one.hint or "")
    two = spec_error(with_model("  select:\n    strategy: newest\n    order: up\n"))
    assert two.hint and two.hint.endswith("1 more problem after this one")
    three = spec_error(with_model("  select:\n    strategy: newest\n    order: up\n    metric: [1]\n"))
    assert three.hint and three.hint.endswith("2 more problems after this one")


def test_a_secret_value_in_a_choice_is_neither_shown_nor_matched(spec_error):
    err = spec_error(with_model("  select:\n    strategy: ${env:PICK}\n"), environ={"PICK": "lates"})
    assert said(err) == "expected one of: latest, best; got a secret value"
    assert err.hint is None  # a "did you mean 'latest'?" would tell what the secret looks like


def test_a_number_where_text_belongs_is_told_to_be_quoted_but_a_boolean_is_not(spec_error):
    number = spec_error(MINIMAL.replace("name: demo\n", "name: 123\n", 1))
    assert said(number) == "expected text, got 123" and number.hint == "quote it: '123'"
    boolean = spec_error(MINIMAL.replace("name: demo\n", "name: true\n", 1))
    assert said(boolean) == "expected text, got true" and boolean.hint is None


def test_a_constraint_names_the_value_a_validator_message_does_not_repeat_it(spec_error):
    job = "    script: code/train.py\n"
    bounded = spec_error(MINIMAL.replace(job, job + "    cpu: -1\n"))
    assert said(bounded) == "must be greater than 0 (got -1)"
    named = spec_error(MINIMAL.replace("registered_name: demo-model", "registered_name: team/model"))
    assert "(got" not in said(named)
