"""The -v trace masks secret-NAMED fields even when their value was never registered as a secret.

The Redactor only knows the workspace key and the access keys it was told about; a password in a
request body or a response is caught by its field name alone. Values here are chosen so that the
free-text pass cannot hide a missing field-name pass (never registered, no "Bearer" prefix).
"""

from __future__ import annotations

import json

import pytest
import responses

from automation.clock import FakeClock
from automation.http import HttpClient, RetryPolicy
from automation.redact import MASK, SECRET_KEYS, Redactor, is_secret_key, is_secret_name, redact_data

BASE = "https://cml.example.test"
KEY = "apiv2-trace-secret-0123456789abcdef"
UNREGISTERED = "never-registered-value-7f3a"


@pytest.fixture
def mock():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as m:
        yield m


def traced() -> tuple[HttpClient, list[str]]:
    lines: list[str] = []
    return HttpClient(BASE, KEY, clock=FakeClock(), retry=RetryPolicy(), trace=lines.append), lines


@pytest.mark.parametrize(
    "field",
    [
        "password",
        "Password",
        "secret",
        "api_key",
        "API-KEY",
        "apiKey",
        "access_key",
        "accessKey",
        "authorization",
        "cdsw_apiv2_key",
        "CML_API_KEY",
        "cdsw_api_key",
        "deployment_secrets",
    ],
)
def test_a_secret_named_request_field_is_masked_in_the_trace(mock, field: str) -> None:
    mock.add("POST", BASE + "/api/v2/projects", json={"id": "p1"})
    http, lines = traced()
    http.request("POST", "/api/v2/projects", json_body={"name": "p", "nested": [{field: UNREGISTERED}]})
    out = "\n".join(lines)
    assert UNREGISTERED not in out
    assert json.dumps({field: MASK})[1:-1] in out
    assert '"name": "p"' in out  # the rest stays readable


def test_a_secret_named_response_field_is_masked_in_the_trace(mock) -> None:
    mock.add(
        "GET",
        BASE + "/api/v2/projects/p1",
        json={"id": "p1", "environment": {"password": UNREGISTERED}, "config": [{"secret": UNREGISTERED}]},
    )
    http, lines = traced()
    assert http.request("GET", "/api/v2/projects/p1")["environment"]["password"] == UNREGISTERED
    out = "\n".join(lines)
    assert UNREGISTERED not in out
    assert '"password": "***"' in out and '"secret": "***"' in out and '"id": "p1"' in out


def test_an_empty_secret_field_shows_that_it_is_empty(mock) -> None:
    mock.add("POST", BASE + "/api/v2/projects", json={})
    http, lines = traced()
    http.request("POST", "/api/v2/projects", json_body={"password": "", "secret": None})
    assert '"password": ""' in lines[0] and '"secret": null' in lines[0]


def test_secret_key_names_are_matched_without_case_and_dash_differences() -> None:
    assert all(is_secret_key(k) for k in SECRET_KEYS)
    assert all(is_secret_key(k.upper().replace("_", "-")) for k in SECRET_KEYS)
    assert not any(is_secret_key(k) for k in ("name", "passwords_hint", "key", "api", "secret_name", ""))


def test_redact_data_leaves_non_secret_values_and_lists_intact() -> None:
    data = {"a": [1, {"b": "x", "password": "p"}], "n": None, "password": 0}
    assert redact_data(data) == {"a": [1, {"b": "x", "password": MASK}], "n": None, "password": MASK}


def test_a_secret_of_six_characters_is_removed_and_shorter_ones_are_not_registered() -> None:
    redact = Redactor("abcdef", "abcde")
    assert redact("x abcdef y abcde z") == "x *** y abcde z"


def test_a_longer_secret_containing_a_shorter_one_is_removed_whole() -> None:
    """Longest first: replacing the short one first would leave the long one's tail in the text."""
    redact = Redactor("secret-1", "secret-1-and-more")
    assert redact("a secret-1-and-more b secret-1 c") == "a *** b *** c"
    redact = Redactor("secret-1-and-more", "secret-1")
    assert redact("a secret-1-and-more b") == "a *** b"


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("CML_API_KEY", True), ("MY_TOKEN", True), ("DB_PASSWORD", True), ("db_passwd", True),
        ("AWS_SECRET_ACCESS_KEY", True), ("GOOGLE_CREDENTIALS", True), ("api_key", True),
        ("EXPERIMENT_NAME", False), ("ALPHA", False), ("MONKEY_COUNT", True), ("", False),
    ],
)  # fmt: skip
def test_variable_names_that_hold_secrets(name: str, secret: bool) -> None:
    """An environment variable's value is hidden when its name says it is a key, token, secret,
    password or credential, in any case (MONKEY_COUNT too: hiding one harmless value costs less
    than showing a key)."""
    assert is_secret_name(name) is secret
