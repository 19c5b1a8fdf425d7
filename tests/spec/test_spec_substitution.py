"""${VAR} substitution, defaults, escapes, and secrets that never show."""

from __future__ import annotations

import json

import pytest
from pydantic import SecretStr
from spec_support import MINIMAL

from automation.spec import MASK
from automation.spec.substitute import _Problem, substitute_text


@pytest.mark.parametrize(
    ("text", "environ", "expected"),
    [
        ("${A}", {"A": "x"}, "x"),
        ("${A}", {"A": ""}, ""),
        ("pre-${A}-post", {"A": "x"}, "pre-x-post"),
        ("${A:-d}", {}, "d"),
        ("${A:-d}", {"A": ""}, "d"),
        ("${A:-d}", {"A": "v"}, "v"),
        ("${A:-}", {}, ""),
        ("${A:-a b:c}", {}, "a b:c"),
        ("$${A}", {"A": "x"}, "${A}"),
        ("cost $5 $$", {}, "cost $5 $$"),
        ("${A}${B}", {"A": "1", "B": "2"}, "12"),
        ("${A}", {"A": "${B}"}, "${B}"),
    ],
)
def test_substitution(text, environ, expected):
    value, secret, _ = substitute_text(text, environ)
    assert value == expected and secret is False


def test_env_prefix_marks_a_secret():
    assert substitute_text("Bearer ${env:TOKEN}", {"TOKEN": "t"}) == ("Bearer t", True, ["TOKEN"])
    assert substitute_text("${env:TOKEN:-}", {}) == ("", True, ["TOKEN"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("${A", "unterminated"),
        ("${}", "invalid substitution"),
        ("${1A}", "invalid substitution"),
        ("${foo:bar}", "invalid substitution"),
        ("${A:-${B}}", "nested substitution"),
        ("${MISSING}", "variable MISSING is not set"),
        ("${env:MISSING}", "secret variable MISSING is not set"),
    ],
)
def test_substitution_problems(text, message):
    with pytest.raises(_Problem, match=message):
        substitute_text(text, {})


def test_hint_for_shell_style_default():
    with pytest.raises(_Problem) as caught:
        substitute_text("${A-x}", {})
    assert "${A:-x}" in caught.value.hint


def test_substituted_numbers_are_typed_by_the_model(parse):
    spec = parse(MINIMAL + "  cpu: ${CPU:-2}\n  replicas: ${R}\n  auth: ${AUTH:-false}\n", {"R": "3"})
    assert (
        spec.model_named().endpoint.cpu,
        spec.model_named().endpoint.replicas,
        spec.model_named().endpoint.auth,
    ) == (2.0, 3, False)


def test_keys_are_not_substituted(spec_error):
    err = spec_error(MINIMAL + "  environment:\n    ${NAME}: x\n", {"NAME": "GOOD"})
    assert err.field == "deployment.environment.${NAME}"


def test_literal_escape_in_the_flagship_style(parse):
    spec = parse(MINIMAL + "  description: 'uses $${HOME} literally'\n")
    assert spec.model_named().endpoint.description == "uses ${HOME} literally"


def test_secrets_are_masked_everywhere_but_usable(parse):
    text = (
        MINIMAL
        + "  environment:\n    TOKEN: ${env:MY_TOKEN}\n    PLAIN: visible\n"
        + "targets:\n  cml:\n    kind: cml\n    url: https://ml.example.com\n    api_key: ${env:MY_KEY}\n"
    )
    spec = parse(text, {"MY_TOKEN": "tok-abcdef", "MY_KEY": "key-123456"})
    # usable by the code that needs them
    assert spec.model_named().endpoint.environment["TOKEN"] == "tok-abcdef"
    assert isinstance(spec.target("cml").api_key, SecretStr)
    assert spec.target("cml").api_key.get_secret_value() == "key-123456"
    # never shown
    for shown in (repr(spec), str(spec), repr(spec.model_named().endpoint), str(spec.target("cml"))):
        assert "tok-abcdef" not in shown and "key-123456" not in shown
    public = spec.model_dump_public()
    assert public["models"]["demo-model"]["endpoint"]["environment"] == {"TOKEN": MASK, "PLAIN": "visible"}
    assert public["targets"]["cml"]["api_key"] == MASK
    assert "tok-abcdef" not in json.dumps(public) and "key-123456" not in json.dumps(public)
    assert spec.is_secret(("models", "demo-model", "endpoint", "environment", "TOKEN"))
    assert "PLAIN='visible'" not in repr(spec.model_named().endpoint) and "'PLAIN': 'visible'" in repr(
        spec.model_named().endpoint
    )


def test_secret_in_a_plain_field_and_in_a_list_is_masked(parse):
    text = MINIMAL + "  description: ${env:DESC}\n  smoke:\n    input: {rows: ['${env:ROW}', b]}\n"
    spec = parse(text, {"DESC": "hidden-desc", "ROW": "hidden-row"})
    assert spec.model_named().endpoint.description == "hidden-desc"
    shown = repr(spec) + json.dumps(spec.model_dump_public())
    assert "hidden-desc" not in shown and "hidden-row" not in shown
    assert spec.model_dump_public()["models"]["demo-model"]["endpoint"]["smoke"]["input"]["rows"] == [
        MASK,
        "b",
    ]


def test_optional_secret_left_unset_is_none(parse):
    text = MINIMAL + "targets:\n  cml:\n    kind: cml\n    api_key: ${env:CML_API_KEY:-}\n"
    spec = parse(text)
    assert spec.target("cml").api_key is None
    assert spec.model_dump_public()["targets"]["cml"]["api_key"] is None


# --- invalid names: the message quotes the substitution exactly, the hint fits the mistake ----------


def _problem(text: str) -> tuple[str, str | None]:
    from automation.spec.substitute import _Problem

    with pytest.raises(_Problem) as caught:
        substitute_text(text, {})
    return caught.value.message, caught.value.hint


def test_a_dash_without_a_default_gets_the_default_hint():
    message, hint = _problem("x ${MY-VAR} y")
    assert message == "invalid substitution '${MY-VAR}'"
    assert hint == "for a default write ${MY:-VAR}"


def test_a_dash_in_a_name_that_has_a_default_gets_the_general_hint():
    message, hint = _problem("${MY-VAR:-x}")
    assert message == "invalid substitution '${MY-VAR:-x}'"
    assert hint and hint.startswith("variable names are letters, digits and _")


def test_a_bad_name_without_a_dash_gets_the_general_hint():
    message, hint = _problem("${1ABC}")
    assert message == "invalid substitution '${1ABC}'"
    assert hint and hint.startswith("variable names are letters")
