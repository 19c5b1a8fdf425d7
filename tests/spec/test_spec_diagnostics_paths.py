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
