"""`cmlops amp ...` in-process: output, JSON shapes and exit codes, against the CML-shaped fake."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from amp_support import ERRORS, FIXTURES, REPO, AmpFakeCML, line_of, materialise, spec_repo
from cli_support import run_cli
from fakes.fake_cml import API_KEY, BASE_URL

from automation.api import CMLClient
from automation.clock import FakeClock
from automation.errors import EXIT_JOB_FAILED, EXIT_USAGE

RUNTIME = (
    "docker.repository.cloudera.com/cloudera/cdsw/ml-runtime-pbj-workbench-python3.10-standard:2025.09.1-b5"
)


@pytest.fixture(autouse=True)
def workspace_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The CLI talks to the fake (CML_URL), with instant waits (a FakeClock in from_settings)."""
    monkeypatch.setenv("CML_URL", BASE_URL)
    monkeypatch.setenv("CML_API_KEY", API_KEY)
    monkeypatch.setenv("HOME", str(tmp_path))
    original = CMLClient.from_settings.__func__

    def from_settings(cls, settings, **kwargs):
        kwargs["clock"] = FakeClock()
        return original(cls, settings, **kwargs)

    monkeypatch.setattr(CMLClient, "from_settings", classmethod(from_settings))


def test_validate_text_and_json(capsys):
    code, out, _ = run_cli(capsys, "amp", "validate", str(REPO))
    assert code == 0 and "valid AMP 'cmlops - Wine Quality MLOps' (6 tasks)" in out
    path = ERRORS / "unknown_field.yaml"
    code, out, _ = run_cli(capsys, "-o", "json", "amp", "validate", str(path))
    assert code == EXIT_USAGE
    data = json.loads(out)
    assert data["ok"] is False
    assert [e["field"] for e in data["errors"]] == ["tasks[0].script"]
    unknown = next(w for w in data["warnings"] if "unknown field" in w["message"])
    assert (unknown["field"], unknown["line"]) == ("tasks[0].scirpt", line_of(path, "scirpt:"))
    code, _, err = run_cli(capsys, "amp", "validate", "--strict", str(path))
    assert code == EXIT_USAGE
    assert "did you mean 'script'?" in err and "2 problems in" in err


def test_validate_prints_warnings(capsys):
    code, out, err = run_cli(capsys, "amp", "validate", "--no-files", str(FIXTURES / "legacy_engines.yaml"))
    assert code == 0 and "valid AMP" in out
    assert "warning:" in err and "api_version is a legacy key" in err and "unquoted boolean" not in err


def test_plan_offline_json_lists_the_api_calls(capsys):
    code, out, _ = run_cli(capsys, "-o", "json", "amp", "plan", "--offline", str(REPO), "--project", "wine")
    assert code == 0
    data = json.loads(out)
    assert data["project"] == "wine" and data["project_exists"] is False
    actions = [(s["task"], s["action"]) for s in data["steps"]]
    assert actions == [
        ("project", "create"),
        ("files", "upload"),
        ("create_job", "create"),
        ("run_job", "run"),
        ("create_job", "create"),
        ("run_job", "run"),
        ("create_job", "create"),
        ("run_job", "run"),
    ]
    assert data["steps"][0]["calls"] == ["POST /api/v2/projects"]
    assert data["steps"][3]["calls"][0] == "POST /api/v2/projects/{project_id}/jobs/{job_id}/runs"


def test_plan_text_for_a_model_amp_names_missing_variables(capsys, tmp_path: Path):
    code, _, err = run_cli(capsys, "amp", "plan", "--offline", str(materialise(tmp_path, "model_only.yaml")))
    assert code == 0
    assert "build   task 1" in err and "deploy  task 2" in err
    assert "required variables without a value (launch asks or fails): HF_ACCESS_TOKEN" in err


def test_launch_then_relaunch_through_the_cli(capsys, tmp_path: Path):
    folder = materialise(tmp_path, "churn_sessions.yaml")
    with AmpFakeCML.running() as fake:
        args = (
            "-o",
            "json",
            "amp",
            "launch",
            str(folder),
            "--project",
            "churn",
            "--runtime-id",
            RUNTIME,
            "--yes",
        )
        code, out, _ = run_cli(capsys, *args)
        assert code == 0
        first = json.loads(out)
        assert first["ok"] is True and first["project"]["created"] is True
        assert [s["status"] for s in first["steps"]] == ["done"] * 9
        model = next(iter(fake.models.values()))
        assert model["access_key"] not in out
        code, out, _ = run_cli(capsys, *args)
        second = json.loads(out)
        assert code == 0 and {s["status"] for s in second["steps"]} == {"skipped"}
        assert len(fake.jobs) == 3 and len(fake.applications) == 1
    assert fake.unrouted == []


def test_launch_failure_gives_one_json_document_and_the_job_exit_code(capsys, tmp_path: Path):
    folder = materialise(tmp_path, "flight_jobs.yaml")
    with AmpFakeCML.running() as fake:
        fake.job_outcome = "ENGINE_FAILED"
        code, out, _ = run_cli(
            capsys,
            "-o",
            "json",
            "amp",
            "launch",
            str(folder),
            "--runtime-id",
            RUNTIME,
            "--env",
            "USE_PREBUILT_MODEL=no",
        )
    assert code == EXIT_JOB_FAILED
    data = json.loads(out)  # exactly one JSON document
    assert data["ok"] is False and data["error"]["error"] == "JobRunFailed"
    assert data["steps"][-1]["status"] == "failed" and data["steps"][-1]["task"] == "run_job"


def test_required_variables_fail_without_a_terminal(capsys, tmp_path: Path):
    folder = materialise(tmp_path, "model_only.yaml")
    with AmpFakeCML.running() as fake:
        code, _, err = run_cli(capsys, "amp", "launch", "--yes", str(folder))
        assert fake.writes() == []
    assert code == EXIT_USAGE
    assert "required AMP variable without a value: HF_ACCESS_TOKEN" in err
    assert "--env HF_ACCESS_TOKEN=" in err


def test_bad_env_flag_is_a_usage_error(capsys):
    code, _, err = run_cli(capsys, "amp", "plan", "--offline", str(REPO), "--env", "NOVALUE")
    assert code == EXIT_USAGE and "--env 'NOVALUE': expected NAME=VALUE" in err


def test_export_and_import_write_files_and_refuse_to_overwrite(capsys, tmp_path: Path):
    repo = spec_repo(tmp_path)
    spec = str(repo / "specs" / "wine-quality.yaml")
    code, _, err = run_cli(capsys, "amp", "export", spec)  # stdout cannot carry the model script it needs
    assert code == EXIT_USAGE and "needs code/amp/predict.py" in err and "--file" in err
    target = repo / ".project-metadata.yaml"
    code, out, err = run_cli(capsys, "amp", "export", spec, "--file", str(target))
    assert code == 0 and f"wrote AMP file {target}" in out and "predict.py" in err
    assert "type: build_model" in target.read_text() and (repo / "code/amp/predict.py").is_file()
    code, _, err = run_cli(capsys, "amp", "export", spec, "--file", str(target))
    assert code == EXIT_USAGE and "exists; not overwriting it" in err
    code, _, err = run_cli(capsys, "amp", "export", spec, "--file", str(tmp_path / "elsewhere.yaml"))
    assert code == EXIT_USAGE and "does not exist" in err  # an AMP sits at the root of its repository
    spec_out = tmp_path / "spec.yaml"
    code, out, _ = run_cli(capsys, "-o", "json", "amp", "import", str(REPO), "--file", str(spec_out))
    assert code == 0 and json.loads(out) == {"ok": True, "written": str(spec_out)}
    assert spec_out.read_text().count("version: 2") == 1
    flight = str(FIXTURES / "flight_jobs.yaml")
    code, _, err = run_cli(capsys, "amp", "import", flight)  # its scripts are not here to read
    assert code == EXIT_USAGE and "cannot tell which job trains" in err and "--training-job" in err
    code, out, err = run_cli(capsys, "amp", "import", flight, "--training-job", "Train model")
    assert code == 0 and "name: canceled-flight-prediction" in out
    assert "note: left out task 0 (create_job 'Install dependencies')" in err


def test_dash_o_is_the_output_format_for_amp_export_too(capsys, tmp_path: Path, monkeypatch):
    """`amp export SPEC -o json` prints JSON; it never writes a file named `json`."""
    repo = spec_repo(tmp_path)
    spec = str(repo / "specs" / "wine-quality.yaml")
    assert run_cli(capsys, "amp", "export", spec, "--file", str(repo / ".project-metadata.yaml"))[0] == 0
    monkeypatch.chdir(tmp_path)
    code, out, _ = run_cli(capsys, "amp", "export", spec, "-o", "json")  # predict.py is in the repo now
    assert code == 0 and "type: build_model" in json.loads(out)["text"]
    assert not (tmp_path / "json").exists()


def test_a_git_url_is_cloned_and_the_project_planned_from_git(capsys, tmp_path: Path):
    repo = materialise(tmp_path, "flight_jobs.yaml")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "amp"], check=True)
    url = repo.as_uri()
    code, out, _ = run_cli(capsys, "amp", "validate", url)
    assert code == 0 and "valid AMP 'Canceled Flight Prediction'" in out
    code, out, _ = run_cli(capsys, "-o", "json", "amp", "plan", "--offline", url, "--git-ref", "main")
    assert code == 0
    steps = json.loads(out)["steps"]
    assert steps[0]["reason"] == f"from git {url}" and steps[0]["task"] == "project"
    assert "files" not in [s["task"] for s in steps]  # CML clones it: nothing is uploaded
    code, _, err = run_cli(capsys, "amp", "validate", (tmp_path / "missing").as_uri())
    assert code == EXIT_USAGE and "cannot clone" in err
