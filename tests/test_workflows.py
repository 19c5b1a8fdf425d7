"""The GitHub workflows (the repo's and the one `cmlops init` writes): valid, current, gated; and
cmlops' annotations and job summary under GitHub Actions."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from cli_support import run_cli

from automation.examples import write_project

REPO = Path(__file__).resolve().parents[1]
# The first major of each action that runs on Node 24 (Node 20 leaves GitHub's runners).
NODE24 = {"actions/checkout": 5, "actions/setup-python": 6, "actions/cache": 5, "actions/upload-artifact": 6}


@pytest.fixture(scope="module")
def workflows(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    project = tmp_path_factory.mktemp("init") / "proj"
    write_project(project)
    return {"repo": REPO / ".github/workflows/cmlops.yml", "init": project / ".github/workflows/cmlops.yml"}


@pytest.mark.parametrize("which", ["repo", "init"])
def test_the_workflow_validates_against_the_github_workflow_schema(workflows, which) -> None:
    checker = shutil.which("check-jsonschema")
    assert checker, "check-jsonschema is a test dependency (pyproject [test])"
    # the schema ships inside check-jsonschema (vendor.github-workflows): no network
    result = subprocess.run(
        [checker, "--builtin-schema", "vendor.github-workflows", str(workflows[which])],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("which", ["repo", "init"])
def test_actions_are_node24_promote_needs_the_checks_and_paths_are_filtered(workflows, which) -> None:
    text = workflows[which].read_text()
    doc = yaml.safe_load(text)
    for action, major in re.findall(r"uses:\s*([\w-]+/[\w-]+)@v(\d+)", text):
        assert action in NODE24 and int(major) >= NODE24[action], f"{action}@v{major} is a Node 20 version"
    assert doc["jobs"]["promote"]["needs"] == "check"
    triggers = doc[True] if True in doc else doc["on"]  # YAML 1.1 reads `on:` as True
    assert triggers["pull_request"]["paths"] and triggers["push"]["paths"]
    assert "--output json" not in text  # progress stays visible in the log; the report is a file


def test_spec_errors_are_annotations_on_the_file_and_line(tmp_path: Path, monkeypatch, capsys) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nname: x\nprojects: 3\n")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path))
    code, out, err = run_cli(capsys, "validate", str(bad), "-o", "json")
    assert code == 2
    assert re.search(
        r"^::error file=bad\.yaml,line=\d+,col=\d+,title=cmlops%3A SpecError \(exit 2\)::", err, re.M
    )
    assert "::" not in out.replace('"::', "")  # stdout stays the JSON document


def test_plan_writes_a_job_summary_and_a_notice(tmp_path: Path, monkeypatch, capsys) -> None:
    import sys

    sys.path.insert(0, str(REPO / "tests"))
    from fakes.fake_cml import API_KEY, BASE_URL, FakeCML
    from fakes.specs import TEST_SPEC

    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("CML_URL", BASE_URL)
    monkeypatch.setenv("CML_API_KEY", API_KEY)
    monkeypatch.setenv("HOME", str(tmp_path))
    with FakeCML.running():
        code, _, err = run_cli(capsys, "plan", str(TEST_SPEC))
    assert code == 0
    text = summary.read_text()
    assert (
        text.startswith(f"### cmlops plan `{TEST_SPEC}`") and "| action | resource | name | reason |" in text
    )
    assert "| create | project.dev |" in text
    assert re.search(r"^::notice file=.*,line=1,title=cmlops plan::\d+ change\(s\) planned", err, re.M)
