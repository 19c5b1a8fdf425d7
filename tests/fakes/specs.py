"""Specs for the fake-workspace tests: the small test spec, with overrides, and the flagship."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from automation.spec import Spec, load_spec, parse_spec

REPO = Path(__file__).resolve().parents[2]
TEST_SPEC = REPO / "tests" / "reconcile" / "spec-wine-test.yaml"
FLAGSHIP = REPO / "specs" / "wine-quality.yaml"


def _merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def make_spec(overrides: dict[str, Any] | None = None, *, path: Path = TEST_SPEC) -> Spec:
    """The test spec (or ``path``), with nested ``overrides`` merged in, e.g. {"deployment": {"replicas": 2}}."""
    if not overrides:
        return load_spec(path)
    data = _merge(yaml.safe_load(path.read_text()), overrides)
    return parse_spec(yaml.safe_dump(data, sort_keys=False), file=str(path), repo_root=REPO)


def flagship() -> Spec:
    """specs/wine-quality.yaml, loaded with the suite's environment (WINE_DATA set by tests/conftest)."""
    return load_spec(FLAGSHIP)


def with_staging(spec: Spec, staging_model: str) -> Spec:
    """``spec`` with its (only) model's endpoint smoke-testing candidates in ``staging_model`` first."""
    model = spec.model_named(None)
    endpoint = model.endpoint.model_copy(update={"staging_model": staging_model})
    models = {**spec.models, model.registered_name: model.model_copy(update={"endpoint": endpoint})}
    return spec.model_copy(update={"models": models})
