"""Commands on a version 2 spec with two models: `--model` picks one (a clear exit 2 otherwise), and
`--target` applies that target's overrides before anything is asked of the workspace."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.fake_cml import API_KEY, BASE_URL, FakeCML

from automation.errors import EXIT_USAGE

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "spec"))
from cli_support import run_cli
from spec_support import MINIMAL_V2

SPEC_TEXT = MINIMAL_V2.replace("    kind: cml\n", "    kind: cml\n    url: ${CML_URL}\n", 1)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeCML]:
    monkeypatch.setenv("CML_URL", BASE_URL)
    monkeypatch.setenv("CML_API_KEY", API_KEY)
    monkeypatch.setenv("HOME", str(tmp_path))
    with FakeCML.running() as workspace:
        yield workspace


@pytest.fixture
def spec(tmp_path: Path) -> str:
    (tmp_path / "pyproject.toml").write_text("")
    path = tmp_path / "two-models.yaml"
    path.write_text(SPEC_TEXT)
    return str(path)


@pytest.mark.parametrize(
    "command",
    [
        ["predict"],
        ["history"],
        ["promote", "--dry-run"],
        ["rollback", "--dry-run"],
    ],
)
def test_several_models_need_model(capsys, fake: FakeCML, spec: str, command: list[str]) -> None:
    code, _, err = run_cli(capsys, "--target", "cml", command[0], spec, *command[1:])
    assert code == EXIT_USAGE, err
    assert "several models" in err and "demo-model, other-model" in err and "--model NAME" in err
    assert fake.calls == []  # refused before anything was asked of the workspace


def test_unknown_model_is_named(capsys, fake: FakeCML, spec: str) -> None:
    code, _, err = run_cli(capsys, "--target", "cml", "predict", spec, "--model", "demo-modle")
    assert code == EXIT_USAGE and "unknown model 'demo-modle'" in err and "did you mean 'demo-model'?" in err


def test_target_overrides_apply_to_the_workspace_calls(capsys, fake: FakeCML, spec: str) -> None:
    # the cml target renames the PRD project: predict looks for that one
    code, _, err = run_cli(
        capsys, "--target", "cml", "predict", spec, "--model", "other-model", "--input", "{}"
    )
    assert code == EXIT_USAGE, err
    assert "model 'other-endpoint' does not exist in PRD project 'demo-prd-cml'" in err
    searched = [call.query.get("search_filter", "") for call in fake.calls if call.path == "/api/v2/projects"]
    assert searched and all("demo-prd-cml" in query for query in searched)
