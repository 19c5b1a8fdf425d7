"""The spec-driven commands, run in-process against FakeCML: output, JSON shapes, exit codes, secrecy."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import run_cli
from fakes.fake_cml import API_KEY, BASE_URL, FakeCML
from fakes.specs import TEST_SPEC

from automation.api import CMLClient
from automation.clock import FakeClock

SPEC = str(TEST_SPEC)
WINE_ROW = [7.4, 0.7, 0, 1.9, 0.076, 11, 34, 0.9978, 3.51, 0.56, 9.4]


@pytest.fixture
def fake() -> Iterator[FakeCML]:
    with FakeCML.running() as workspace:
        yield workspace
    assert workspace.unrouted == []


@pytest.fixture(autouse=True)
def workspace_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Point the CLI at the fake workspace, and make its waits instant.

    The least invasive seam: ``CMLClient.from_settings`` (what the CLI calls) gets a FakeClock;
    settings, HTTP, retries and waiters run unchanged.
    """
    monkeypatch.setenv("CML_URL", BASE_URL)
    monkeypatch.setenv("CML_API_KEY", API_KEY)
    monkeypatch.setenv("HOME", str(tmp_path))  # no developer profile file
    original = CMLClient.from_settings.__func__

    def from_settings(cls, settings, **kwargs):
        kwargs["clock"] = FakeClock()
        return original(cls, settings, **kwargs)

    monkeypatch.setattr(CMLClient, "from_settings", classmethod(from_settings))


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    code, out, _ = run_cli(capsys, "-o", "json", *args)
    return code, json.loads(out)


# -- validate ---------------------------------------------------------------------------------------


def test_validate_ok(capsys) -> None:
    code, out, _ = run_cli(capsys, "validate", SPEC)
    assert code == 0 and "valid" in out and "wine-test" in out
    code, data = run_json(capsys, "validate", SPEC)
    assert code == 0 and data["ok"] is True and data["name"] == "wine-test"


def test_validate_bad_spec_exit_2_with_file_and_line(capsys, tmp_path: Path, fake: FakeCML) -> None:
    text = TEST_SPEC.read_text().replace("  replicas: 1", "  replica: 1")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    line = text.splitlines().index("  replica: 1") + 1
    code, _, err = run_cli(capsys, "validate", str(bad))
    assert code == 2
    assert f"{bad}:{line}:" in err and "replica" in err and "replicas" in err  # did you mean
    code, data = run_json(capsys, "plan", str(bad))
    assert code == 2 and data["ok"] is False and data["line"] == line
    assert fake.calls == []  # a bad spec changes (and reads) nothing


def test_validate_missing_variable_exit_2(capsys, tmp_path: Path) -> None:
    bad = tmp_path / "var.yaml"
    bad.write_text(TEST_SPEC.read_text().replace("name: wine-test-prd", "name: ${PRD_NAME_NOT_SET}"))
    code, _, err = run_cli(capsys, "validate", str(bad))
    assert code == 2 and "PRD_NAME_NOT_SET" in err and str(bad) in err


# -- plan, bootstrap, status -------------------------------------------------------------------------


def test_plan_detailed_exitcode_3_on_empty_then_0_after_bootstrap(capsys, fake: FakeCML) -> None:
    code, out, _ = run_cli(capsys, "plan", "--detailed-exitcode", SPEC)
    assert code == 3
    assert "create" in out and "project.dev" in out  # the plan is the result: stdout (`plan > file`)
    assert fake.writes() == []

    code, _, _ = run_cli(capsys, "bootstrap", SPEC)
    assert code == 0
    code, out, _ = run_cli(capsys, "plan", "--detailed-exitcode", SPEC)
    assert code == 0 and "No changes" in out
    code, _, _ = run_cli(capsys, "plan", SPEC)
    assert code == 0


def test_plan_json(capsys, fake: FakeCML) -> None:
    code, data = run_json(capsys, "plan", SPEC)
    assert code == 0 and data["ok"] is True and data["has_changes"] is True
    kinds = {a["resource"]: a["kind"] for a in data["actions"]}
    assert (
        kinds["project.dev"] == "create"
        and kinds["job.train wine model"] == "create"
        and kinds["deployment.wine-test-model"] == "deploy"
    )
    assert data["runtime_identifier"].endswith("python3.10-standard:2024.10.1-b12")
    assert data["reads"] == len(fake.calls)


def test_bootstrap_json_summary(capsys, fake: FakeCML) -> None:
    code, data = run_json(capsys, "bootstrap", SPEC)
    assert code == 0 and data["ok"] is True
    s = data["summary"]
    dev = fake.named(fake.projects, "wine-test-dev")[0]["id"]
    prd = fake.named(fake.projects, "wine-test-prd")[0]["id"]
    assert (s["dev_project_id"], s["prd_project_id"]) == (dev, prd)
    assert s["job_run_id"] == next(iter(fake.job_runs)) and s["job_run_status"] == "ENGINE_SUCCEEDED"
    assert s["mlflow_run_id"] == next(iter(fake.experiment_runs))
    assert s["metrics"] == {"rmse": 0.6536, "mae": 0.5009, "r2": 0.3418}
    assert s["registered_model_id"] == next(iter(fake.registered_models)) and s["model_version"] == 1
    assert s["model_version_id"] == next(iter(fake.model_versions))
    assert s["model_id"] == next(iter(fake.models)) and s["build_id"] == next(iter(fake.builds))
    assert s["deployment_id"] == next(iter(fake.deployments))
    assert s["endpoint_url"] == "https://modelservice.cml.example.com/model"
    assert s["smoke_prediction"] == [5.9]
    assert data["apply"]["writes"] == 10 and data["smoke"]["predictions"] == [5.9]


def test_bootstrap_text_summary_and_exit_codes_of_failures(capsys, fake: FakeCML) -> None:
    fake.build_outcome = "build failed"
    code, _, err = run_cli(capsys, "bootstrap", SPEC)
    assert code == 10 and "build failed" in err and "hint:" in err
    fake.build_outcome = "built"
    code, out, _ = run_cli(capsys, "bootstrap", SPEC)
    assert code == 0
    assert "smoke prediction: [5.9]" in out and "ENGINE_SUCCEEDED" in out
    code, data = run_json(capsys, "bootstrap", SPEC)
    assert code == 0 and data["apply"]["writes"] == 0


def test_gate_failure_in_json_mode_exit_6(capsys, fake: FakeCML) -> None:
    fake.run_metrics = {"rmse": 0.5, "mae": 0.4, "r2": 0.01}
    code, data = run_json(capsys, "bootstrap", SPEC)
    assert code == 6 and data["ok"] is False and data["error"] == "GateFailed" and data["exit_code"] == 6


def test_status(capsys, fake: FakeCML) -> None:
    code, data = run_json(capsys, "status", SPEC)
    assert code == 0 and data["in_sync"] is False and data["summary"]["dev_project_id"] is None
    run_cli(capsys, "bootstrap", SPEC)
    fake.calls.clear()
    code, out, _ = run_cli(capsys, "status", SPEC)
    assert code == 0 and "in sync: yes" in out and next(iter(fake.deployments)) in out
    assert fake.writes() == []
    lines = out.splitlines()
    assert lines[0].split() == ["RESOURCE", "NAME", "ID", "STATE"]
    assert "{" not in out and "'" not in out  # a table, no Python reprs
    deployment = next(line for line in lines if line.startswith("deployment"))
    assert deployment.split()[-1] == "deployed"
    assert any(line.startswith("MLflow run") and "rmse=" in line for line in lines)
    code, data = run_json(capsys, "status", SPEC)
    assert data["summary"]["endpoint"] == "answers" and data["in_sync"] is True


def test_status_calls_the_endpoint_a_deployed_model_that_does_not_answer_is_not_in_sync(
    capsys, fake: FakeCML
) -> None:
    run_cli(capsys, "bootstrap", SPEC)
    fake.prediction_response = {"prediction": ["not a number"]}
    code, data = run_json(capsys, "status", SPEC)
    assert code == 0 and data["summary"]["deployment_status"] == "deployed"
    assert data["summary"]["endpoint"].startswith("does not answer") and data["in_sync"] is False


def test_status_of_a_multi_resource_spec_lists_jobs_models_and_application_urls(
    capsys, fake: FakeCML
) -> None:
    multi = str(TEST_SPEC.parent / "spec-v2-multi.yaml")
    code, _, err = run_cli(capsys, "bootstrap", multi)
    assert code == 0, err
    fake.calls.clear()
    code, data = run_json(capsys, "status", multi)
    assert code == 0 and data["in_sync"] is True and fake.writes() == []
    app = data["summary"]["applications"]["wine-scorer"]
    host = BASE_URL.split("://", 1)[1].split("/", 1)[0]
    assert (app["status"], app["url"]) == ("APPLICATION_RUNNING", f"https://wine-scorer.{host}")
    assert sorted(data["summary"]["models"]) == ["wine-red", "wine-white"]
    code, out, _ = run_cli(capsys, "status", multi)
    assert [line.split()[:2] for line in out.splitlines()].count(["job", "weekly-retrain"]) == 1
    weekly = next(line for line in out.splitlines() if "weekly-retrain" in line)
    assert "cron 0 6 * * 1 (Europe/Paris)" in weekly
    assert sum(line.startswith("deployment") for line in out.splitlines()) == 2
    assert any(
        line.startswith("application") and f"https://wine-scorer.{host}" in line for line in out.splitlines()
    )
    code, out, _ = run_cli(capsys, "status", multi, "--model", "wine-white")
    assert code == 0 and "wine-white-endpoint" in out and "wine-red-endpoint" not in out
    code, _, err = run_cli(capsys, "promote", multi)
    assert code == 2 and "wine-red, wine-white" in err and "--model" in err
    assert fake.writes() == []


# -- predict ------------------------------------------------------------------------------------------


def test_predict_inline_and_from_file(capsys, fake: FakeCML, tmp_path: Path) -> None:
    code, _, err = run_cli(capsys, "predict", SPEC)
    assert code == 2 and "bootstrap" in err  # nothing deployed yet
    run_cli(capsys, "bootstrap", SPEC)
    fake.predictions.clear()
    fake.prediction_response = {"prediction": [5.1, 6.2]}
    request = {"input": [WINE_ROW, WINE_ROW]}
    code, out, _ = run_cli(capsys, "predict", SPEC, "--input", json.dumps(request))
    assert code == 0 and json.loads(out) == [5.1, 6.2]
    body = tmp_path / "request.json"
    body.write_text(json.dumps(request))
    code, data = run_json(capsys, "predict", SPEC, "--input", f"@{body}")
    assert code == 0 and data["response"] == {"prediction": [5.1, 6.2]}
    assert fake.predictions == [request, request]
    code, out, _ = run_cli(capsys, "predict", SPEC)  # default: the spec's smoke input
    assert code == 0 and fake.predictions[-1] == {"input": [WINE_ROW]}


def test_predict_curl_shows_the_call_with_secrets_masked(capsys, fake: FakeCML) -> None:
    run_cli(capsys, "bootstrap", SPEC)
    fake.predictions.clear()
    access_key = next(iter(fake.models.values()))["access_key"]
    code, out, err = run_cli(capsys, "predict", SPEC, "--curl")
    assert code == 0 and fake.predictions == []  # shown, not called
    assert out.startswith("curl -sS -X POST") and "/model" in out
    assert '"Authorization: Bearer $CML_API_KEY"' in out and "CML_API_KEY" in err
    assert access_key not in out + err and API_KEY not in out + err and "--show-secrets" in out
    assert json.dumps({"input": [WINE_ROW]}) in out

    code, out, _ = run_cli(capsys, "predict", SPEC, "--curl", "--show-secrets")
    assert code == 0 and access_key in out and API_KEY in out
    code, data = run_json(capsys, "predict", SPEC, "--curl")
    assert data["body"]["request"] == {"input": [WINE_ROW]} and access_key not in json.dumps(data)


def test_declining_the_destroy_prompt_exits_12_and_deletes_nothing(
    capsys, fake: FakeCML, monkeypatch
) -> None:
    import io

    run_cli(capsys, "bootstrap", SPEC)

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("sys.stdin", Terminal("n\n"))
    code, _, err = run_cli(capsys, "destroy", SPEC)
    assert code == 12 and "not confirmed; nothing was deleted" in err
    assert len(fake.projects) == 2


def test_predict_bad_input_exit_2(capsys, fake: FakeCML, tmp_path: Path) -> None:
    code, _, err = run_cli(capsys, "predict", SPEC, "--input", "{not json")
    assert code == 2 and "--input is not valid JSON" in err
    code, _, err = run_cli(capsys, "predict", SPEC, "--input", f"@{tmp_path / 'missing.json'}")
    assert code == 2 and "not found" in err
    assert fake.calls == []  # refused before touching the workspace


# -- destroy ------------------------------------------------------------------------------------------


def test_destroy_yes(capsys, fake: FakeCML) -> None:
    code, out, _ = run_cli(capsys, "destroy", "--yes", SPEC)
    assert code == 0 and "Nothing to delete" in out and fake.writes() == []
    run_cli(capsys, "bootstrap", SPEC)
    fake.calls.clear()
    code, data = run_json(capsys, "destroy", "--yes", SPEC)
    assert code == 0 and [d["kind"] for d in data["deleted"]] == ["job", "project"]
    assert [p["name"] for p in fake.projects.values()] == ["wine-test-prd"]  # PRD kept without --include-prd
    code, _, err = run_cli(capsys, "destroy", "--include-prd", SPEC)  # no --yes, stdin not a terminal
    assert code == 12 and "--yes" in err and "deployment wine-test-endpoint" in err  # listed, refused
    assert len(fake.projects) == 1
    code, data = run_json(capsys, "destroy", "--yes", "--include-prd", SPEC)
    assert code == 0 and [d["kind"] for d in data["deleted"]] == ["deployment", "model", "project"]
    assert fake.projects == {}


# -- secrets ------------------------------------------------------------------------------------------


def test_api_key_and_access_key_never_in_output_even_verbose(capsys, fake: FakeCML) -> None:
    outputs = []
    for args in (
        ("-v", "plan", SPEC),
        ("-v", "bootstrap", SPEC),
        ("-v", "-o", "json", "bootstrap", SPEC),
        ("-vv", "status", SPEC),
        ("-v", "-o", "json", "status", SPEC),
        ("-v", "predict", SPEC),
        ("-v", "predict", SPEC, "--curl"),
        ("-v", "-o", "json", "predict", SPEC, "--curl"),
        ("-v", "-o", "json", "plan", SPEC),
    ):
        code, out, err = run_cli(capsys, *args)
        assert code == 0, (args, err)
        outputs.append(out + err)
    text = "\n".join(outputs)
    assert "-> GET /api/v2/projects" in text and "-> POST /api/v2/projects" in text  # the trace is there
    assert API_KEY not in text
    access_key = next(iter(fake.models.values()))["access_key"]
    assert access_key not in text


def test_predict_without_input_and_without_a_smoke_section_exit_2(
    capsys, tmp_path: Path, fake: FakeCML
) -> None:
    import yaml

    data = yaml.safe_load(TEST_SPEC.read_text())
    del data["deployment"]["smoke"]
    spec = tmp_path / "no-smoke.yaml"
    spec.write_text(yaml.safe_dump(data))
    code, _, err = run_cli(capsys, "predict", str(spec))
    assert code == 2 and "--input" in err
    assert fake.calls == []


def test_apply_then_nothing_to_do(capsys, fake: FakeCML) -> None:
    started = time.monotonic()
    code, out, err = run_cli(capsys, "apply", SPEC)
    took = time.monotonic() - started
    assert code == 0 and "Applied." in out and "deploy" in err
    started_lines = [line for line in err.splitlines() if line.endswith(" ...")]
    assert len(started_lines) == 9 and "+ create project.dev wine-test-dev ..." in started_lines[0]
    done = re.findall(r"^\s+done in (\d+\.\d)s", err, flags=re.M)
    assert len(done) == 9  # one line per change of the plan, each with its time
    assert all(0 <= float(seconds) <= took for seconds in done)
    code, data = run_json(capsys, "apply", SPEC)
    assert code == 0 and data["apply"] == {"writes": 0} and data["plan"]["has_changes"] is False
    assert data["summary"]["deployment_status"] == "deployed"


def test_apply_json_reports_each_step_with_the_id_it_made_and_each_gate_once(capsys, fake: FakeCML) -> None:
    code, data = run_json(capsys, "apply", SPEC)
    assert code == 0
    report, ids = data["apply"], data["summary"]
    assert report["ids"] == ids and ids["deployment_id"] == next(iter(fake.deployments))
    assert report["writes"] == len(fake.writes())
    detail = {s["resource"]: s["detail"] for s in report["steps"]}
    assert detail["project.dev"] == f"id {ids['dev_project_id']}"
    assert detail["project.prd"] == f"id {ids['prd_project_id']}"
    assert detail["files.dev"] == "2 file(s)"
    assert detail["job.train wine model"] == f"id {ids['job_id']}"
    assert detail["job_run.wine-test-model"] == (
        f"run {ids['job_run_id']} ENGINE_SUCCEEDED, MLflow run {ids['mlflow_run_id']}"
    )
    assert detail["model_version.wine-test-model"] == f"version 1 ({ids['model_version_id']})"
    assert detail["endpoint.wine-test-model"] == f"id {ids['model_id']}"
    assert detail["build.wine-test-model"] == f"build {ids['build_id']}"
    assert detail["deployment.wine-test-model"] == f"deployment {ids['deployment_id']}"
    # registration and build both need the gates; they are checked, and reported, once
    assert [(g["metric"], g["passed"]) for g in report["gates"]] == [("r2", True), ("rmse", True)]


def test_plan_text_shows_values_without_python_reprs(capsys, fake: FakeCML) -> None:
    code, out, _ = run_cli(capsys, "plan", SPEC)
    assert code == 0
    changed = [line for line in out.splitlines() if " -> " in line]
    assert changed and all("None" not in line for line in changed)
    assert any("(none) -> " in line for line in changed)  # an upload's missing file
