"""Every field an AMP task cannot do without is required: removing it alone fails validation at that
task, naming the field. (CML's launcher would fail mid-launch instead, after creating half the
objects.) The base file has one task of each type and validates clean."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from automation.amp.validate import validate_amp

BASE: dict[str, Any] = {
    "name": "Every task",
    "description": "One task of each type.",
    "author": "cmlops tests",
    "specification_version": "1.0",
    "prototype_version": "1.0",
    "runtimes": [{"editor": "Workbench", "kernel": "Python 3.10", "edition": "Standard"}],
    "tasks": [
        {"type": "create_job", "name": "Train", "entity_label": "train", "script": "train.py"},
        {"type": "run_job", "entity_label": "train"},
        {"type": "run_session", "name": "Prepare", "script": "prepare.py"},
        {"type": "create_model", "name": "Scorer", "entity_label": "scorer"},
        {
            "type": "build_model",
            "entity_label": "scorer",
            "target_file_path": "predict.py",
            "target_function_name": "predict",
        },
        {"type": "deploy_model", "entity_label": "scorer"},
        {"type": "start_application", "name": "UI", "subdomain": "every-ui", "script": "app.py"},
    ],
}

# What each task type cannot do without (CML's AMP reference; run_session needs script or code).
REQUIRED: dict[str, list[str]] = {
    "create_job": ["name", "entity_label", "script"],
    "run_job": ["entity_label"],
    "run_session": ["name", "script"],
    "create_model": ["name", "entity_label"],
    "build_model": ["entity_label", "target_file_path", "target_function_name"],
    "deploy_model": ["entity_label"],
    "start_application": ["name", "subdomain", "script"],
}
TOP_LEVEL = ["name", "author", "specification_version", "prototype_version"]
CASES = [(i, t["type"], f) for i, t in enumerate(BASE["tasks"]) for f in REQUIRED[t["type"]]]


def write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / ".project-metadata.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def messages(report) -> str:
    return "\n".join(str(e) for e in report.errors)


def test_the_base_file_with_every_task_type_is_valid(tmp_path: Path) -> None:
    report = validate_amp(write(tmp_path, BASE), check_files=False)
    assert report.errors == [], messages(report)
    assert sorted({t["type"] for t in BASE["tasks"]}) == sorted(REQUIRED)


@pytest.mark.parametrize(("index", "kind", "field"), CASES, ids=[f"{k}.{f}" for _, k, f in CASES])
def test_a_missing_required_task_field_is_an_error_naming_it(
    tmp_path: Path, index: int, kind: str, field: str
) -> None:
    data = copy.deepcopy(BASE)
    del data["tasks"][index][field]
    report = validate_amp(write(tmp_path, data), check_files=False)
    assert not report.ok, f"{kind} without {field} was accepted"
    text = messages(report)
    if (kind, field) == ("run_session", "script"):  # script or inline code: one rule on the task
        assert any((e.field or "").startswith(f"tasks[{index}]") for e in report.errors), text
        assert "needs a script" in text
    else:
        assert [e.field for e in report.errors] == [f"tasks[{index}].{field}"], text
        assert f"missing required field {field!r}" in text


@pytest.mark.parametrize(("index", "kind", "field"), CASES, ids=[f"{k}.{f}" for _, k, f in CASES])
def test_an_empty_required_task_field_is_an_error(tmp_path: Path, index: int, kind: str, field: str) -> None:
    data = copy.deepcopy(BASE)
    data["tasks"][index][field] = ""
    report = validate_amp(write(tmp_path, data), check_files=False)
    assert not report.ok, f"{kind} with an empty {field} was accepted"


@pytest.mark.parametrize("field", TOP_LEVEL)
def test_a_missing_required_header_field_is_an_error(tmp_path: Path, field: str) -> None:
    data = copy.deepcopy(BASE)
    del data[field]
    report = validate_amp(write(tmp_path, data), check_files=False)
    assert not report.ok and field in messages(report)
