"""Property tests: whatever text or data reaches the loader, the only failure is a located SpecError."""

from __future__ import annotations

import copy

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spec_support import FILE

from automation.errors import SpecError
from automation.spec import Spec, parse_spec

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

YAMLISH = st.lists(
    st.sampled_from(
        [
            *"abcxyz019 -:_.,'\"[]{}&*!|>#%@`?$\n\t\\",
            "${A}",
            "${env:B}",
            "<<: ",
            "---",
            "\n  ",
            "- ",
            "&a ",
            "*a",
            "!!str ",
            "version: 1\n",
            "name: x\n",
        ],
    ),
    max_size=120,
).map("".join)

KEYS = st.sampled_from(
    [
        "version",
        "name",
        "targets",
        "kind",
        "url",
        "api_key",
        "projects",
        "dev",
        "prd",
        "source",
        "files",
        "git_url",
        "training",
        "job",
        "script",
        "cpu",
        "memory",
        "model",
        "select",
        "strategy",
        "gates",
        "thresholds",
        "metric",
        "min",
        "max",
        "deployment",
        "smoke",
        "input",
        "expect",
        "environment",
        "timeouts",
        "x-any",
        "local",
        "cml",
    ]
) | st.text(max_size=8)

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.sampled_from(["${A}", "${A:-1}", "${env:B}", "$${x}", "../x", "/etc/passwd", "1", "best", "cml"])
)
DATA = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=5),
    max_leaves=30,
)


def _check(text: str) -> Spec | None:
    try:
        return parse_spec(text, file=FILE, environ={"A": "7"})
    except SpecError as err:  # anything else fails the test
        assert err.file == FILE
        assert err.line is not None and err.line >= 1
        assert err.column is not None and err.column >= 1
        return None


@FUZZ
@given(YAMLISH)
def test_yamlish_text_only_raises_spec_error(text):
    _check(text)


@FUZZ
@given(st.text(max_size=200))
def test_any_text_only_raises_spec_error(text):
    _check(text)


@FUZZ
@given(st.dictionaries(KEYS, DATA, max_size=8))
def test_random_mappings_only_raise_spec_error(data):
    _check(yaml.safe_dump(data, allow_unicode=True))


@pytest.fixture(scope="module")
def flagship_data(flagship_path) -> dict:
    return yaml.safe_load(flagship_path.read_text())


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*prefix, index))


@FUZZ
@given(data=st.data())
def test_mutated_flagship_only_raises_spec_error(flagship_data, data):
    mutated = copy.deepcopy(flagship_data)
    paths = [p for p in _paths(mutated) if p]
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        path = data.draw(st.sampled_from(paths))
        parent = mutated
        try:
            for part in path[:-1]:
                parent = parent[part]
            action = data.draw(st.sampled_from(["replace", "delete", "add"]))
            if action == "replace":
                parent[path[-1]] = data.draw(DATA)
            elif action == "delete" and isinstance(parent, dict):
                del parent[path[-1]]
            elif isinstance(parent, dict):
                parent[data.draw(KEYS)] = data.draw(DATA)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or replaced this path
    _check(yaml.safe_dump(mutated, allow_unicode=True))
