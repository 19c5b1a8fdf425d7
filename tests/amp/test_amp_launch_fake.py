"""`amp launch` against CML-shaped responses: the API v2 calls, in order, and re-launches that
continue where they stopped instead of duplicating."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from amp_support import REPO, AmpFakeCML, materialise

from automation.amp.files import collect_files, repository_files
from automation.amp.inputs import resolve_environment
from automation.amp.launch import Launcher, LaunchOptions, launch
from automation.amp.loader import LoadedAmp, load_amp
from automation.amp.plan import build_plan, observe
from automation.api import CMLClient
from automation.errors import InputError, JobRunFailed

RUNTIME = (
    "docker.repository.cloudera.com/cloudera/cdsw/ml-runtime-pbj-workbench-python3.10-standard:2025.09.1-b5"
)
P = "/api/v2/projects"


def _options(loaded: LoadedAmp, **kwargs) -> LaunchOptions:
    env = resolve_environment(loaded.amp, kwargs.pop("env", {}))
    return LaunchOptions(project_name="churn", environment=env, runtime_identifier=RUNTIME, **kwargs)


def test_a_multi_task_amp_makes_these_calls_in_order(
    fake: AmpFakeCML, fake_client: CMLClient, churn: LoadedAmp
):
    result = launch(fake_client, churn, _options(churn))
    files = collect_files(churn.root)
    assert len(files) == 6  # .project-metadata.yaml and the five scripts
    session = [f"POST {P}/{{project}}/jobs", f"POST {P}/{{project}}/jobs/{{job}}/runs"]
    assert fake.write_summary() == [
        f"POST {P}",
        *[f"POST {P}/{{project}}/files"] * 6,
        *session * 3,
        f"POST {P}/{{project}}/models",
        f"PATCH {P}/{{project}}",
        f"POST {P}/{{project}}/models/{{model}}/builds",
        f"POST {P}/{{project}}/models/{{model}}/builds/{{build}}/deployments",
        f"POST {P}/{{project}}/applications",
    ]
    writes = fake.writes()
    # the AMP's runtime asks for Spark: every workload gets the add-on's identifier from the catalogue
    spark = ["spark351-24.1-h1"]
    workloads = [
        w for w in writes if w.method == "POST" and w.path.endswith(("/jobs", "/builds", "/applications"))
    ]
    assert len(workloads) == 5 and all(w.body["runtime_addon_identifiers"] == spark for w in workloads)
    project_body = writes[0].body
    assert (
        project_body["template"] == "blank" and project_body["environment"]["HIVE_TABLE"] == "churn_protoype"
    )
    first_job = writes[7].body
    assert first_job["name"] == "AMP session: Install Dependencies"
    assert (first_job["script"], first_job["cpu"], first_job["memory"]) == ("code/0_bootstrap.py", 1, 2)
    assert first_job["runtime_identifier"] == RUNTIME
    model = next(m for m in fake.models.values())
    env_patch = json.loads(writes[14].body["environment"])  # the Project message wants a string
    assert (
        env_patch["SHTM_ACCESS_KEY"] == model["access_key"]
        and env_patch["DATA_LOCATION"] == "data/churn_prototype"
    )
    build = writes[15].body
    assert (build["file_path"], build["function_name"]) == ("code/5_model_serve_explainer.py", "explain")
    deployment = writes[16].body
    assert (deployment["cpu"], deployment["memory"], deployment["replicas"], deployment["nvidia_gpus"]) == (
        1,
        2,
        1,
        0,
    )
    assert deployment["environment"] == {"TASK_TYPE": "DEPLOY_MODEL"}
    app = writes[17].body
    assert (app["subdomain"], app["script"], app["bypass_authentication"]) == (
        "churn",
        "code/6_application.py",
        False,
    )
    # every wait ended in success; the report names each step and never shows the access key
    assert [s.status for s in result.steps] == ["done"] * 9
    assert {s.task for s in result.steps[2:]} == {
        "run_session",
        "create_model",
        "build_model",
        "deploy_model",
        "start_application",
    }
    assert model["access_key"] not in json.dumps(result.to_dict())
    assert fake.applications[result.steps[-1].ids["application"]]["status"] == "APPLICATION_RUNNING"


def test_relaunch_writes_nothing_and_plans_nothing(
    fake: AmpFakeCML, fake_client: CMLClient, churn: LoadedAmp
):
    launch(fake_client, churn, _options(churn))
    jobs_before = len(fake.jobs)
    fake.calls.clear()
    again = launch(fake_client, churn, _options(churn))
    assert fake.writes() == []
    assert len(fake.jobs) == jobs_before and len(fake.models) == 1 and len(fake.applications) == 1
    assert {s.action for s in again.steps} == {"reuse", "skip"}
    files = repository_files(churn.root)
    plan = build_plan(
        churn,
        project_name="churn",
        environment=_options(churn).environment,
        observed=observe(fake_client, churn, "churn", files, runtime_identifier=RUNTIME),
        files=files,
    )
    assert not plan.has_changes
    assert [s.action for s in plan.steps] == [
        "reuse",
        "reuse",
        "skip",
        "skip",
        "skip",
        "reuse",
        "reuse",
        "skip",
        "skip",
    ]


def test_a_crash_mid_launch_is_finished_by_the_next_launch(
    fake: AmpFakeCML, fake_client: CMLClient, churn: LoadedAmp
):
    fake.interrupt("POST", r".*/builds$")
    with pytest.raises(KeyboardInterrupt):
        launch(fake_client, churn, _options(churn))
    assert len(fake.builds) == 0 and len(fake.models) == 1
    fake.calls.clear()
    launch(fake_client, churn, _options(churn))
    assert fake.write_summary() == [
        f"POST {P}/{{project}}/models/{{model}}/builds",
        f"POST {P}/{{project}}/models/{{model}}/builds/{{build}}/deployments",
        f"POST {P}/{{project}}/applications",
    ]
    assert len(fake.jobs) == 3 and len(fake.projects) == 1


def test_a_failed_run_stops_the_launch_and_the_next_launch_retries_it(
    fake: AmpFakeCML, fake_client: CMLClient, churn: LoadedAmp
):
    fake.job_outcome = "ENGINE_FAILED"
    launcher = Launcher(fake_client, churn, _options(churn))
    with pytest.raises(JobRunFailed) as raised:
        launcher.run()
    assert "read its log" in raised.value.hint
    assert launcher.result.steps[-1].status == "failed" and launcher.result.steps[-1].index == 0
    assert launcher.result.error["error"] == "JobRunFailed"
    assert fake.models == {} and len(fake.jobs) == 1  # later tasks never ran
    fake.job_outcome = "ENGINE_SUCCEEDED"
    fake.calls.clear()
    launch(fake_client, churn, _options(churn))
    writes = fake.write_summary()
    assert writes[0] == f"POST {P}/{{project}}/jobs/{{job}}/runs"  # the same job, run again
    assert len(fake.jobs) == 3


def test_a_changed_job_is_updated_and_run_again(tmp_path: Path, fake: AmpFakeCML, fake_client: CMLClient):
    folder = materialise(tmp_path, "flight_jobs.yaml")
    loaded = load_amp(folder)
    opts = _options(loaded)
    launch(fake_client, loaded, opts)
    meta = folder / ".project-metadata.yaml"
    meta.write_text(
        meta.read_text().replace("script: code/4_train_model.py", "script: code/2_data_processing.py")
    )
    fake.calls.clear()
    result = launch(fake_client, load_amp(folder), opts)
    assert fake.write_summary() == [
        f"PATCH {P}/{{project}}/jobs/{{job}}",
        f"POST {P}/{{project}}/jobs/{{job}}/runs",
    ]
    assert fake.writes()[0].body == {"script": "code/2_data_processing.py"}
    changed = next(s for s in result.steps if s.action == "update")
    assert changed.changes == {"script": ["code/4_train_model.py", "code/2_data_processing.py"]}


def test_rerun_and_environment_changes(fake: AmpFakeCML, fake_client: CMLClient, churn: LoadedAmp):
    launch(fake_client, churn, _options(churn))
    fake.calls.clear()
    launch(fake_client, churn, _options(churn, env={"HIVE_TABLE": "other"}, rerun=True))
    writes = fake.write_summary()
    assert writes[0] == f"PATCH {P}/{{project}}"
    assert json.loads(fake.writes()[0].body["environment"])["HIVE_TABLE"] == "other"
    assert "SHTM_ACCESS_KEY" in fake.writes()[0].body["environment"]  # other project variables are kept
    assert writes.count(f"POST {P}/{{project}}/jobs/{{job}}/runs") == 3
    assert f"POST {P}/{{project}}/models" not in writes


def test_the_runtime_is_picked_from_the_amp(fake: AmpFakeCML, fake_client: CMLClient):
    loaded = load_amp(REPO)
    options = LaunchOptions(
        project_name="wine",
        environment=resolve_environment(loaded.amp),
        git_url="https://git.example.com/cmlops.git",
    )
    result = launch(fake_client, loaded, options)
    assert result.runtime_identifier.endswith(
        "-workbench-python3.10-standard:2024.10.1-b12"
    )  # newest enabled
    project_body = fake.writes()[0].body
    assert (project_body["template"], project_body["git_url"]) == (
        "git",
        "https://git.example.com/cmlops.git",
    )
    assert not any(c.path.endswith("/files") for c in fake.writes())  # git projects are not uploaded into
    assert project_body["environment"]["MODEL_NAME"] == "wine-quality-elasticnet"


def test_required_variables_are_prompted_or_named():
    loaded = load_amp(Path(__file__).parent / "fixtures" / "model_only.yaml")
    with pytest.raises(InputError) as raised:
        resolve_environment(loaded.amp)
    assert "HF_ACCESS_TOKEN" in raised.value.message and "--env HF_ACCESS_TOKEN=" in raised.value.hint
    asked: list[str] = []
    values = resolve_environment(loaded.amp, prompt=lambda name, var: asked.append(name) or "hf_x")
    assert asked == ["HF_ACCESS_TOKEN"] and values == {"HF_ACCESS_TOKEN": "hf_x"}
    assert resolve_environment(loaded.amp, {"HF_ACCESS_TOKEN": "t", "EXTRA": "1"}) == {
        "HF_ACCESS_TOKEN": "t",
        "EXTRA": "1",
    }


def test_an_amp_asking_for_spark_where_there_is_none_fails_before_any_write(
    fake: AmpFakeCML, fake_client: CMLClient, churn: LoadedAmp
):
    fake.runtime_addons = []  # like the local workspace: GET /api/v2/runtimeaddons lists none

    with pytest.raises(InputError) as info:
        launch(fake_client, churn, _options(churn))

    assert "Spark 3.5.1 - CDE 1.24.1 - HOTFIX-1" in str(info.value)
    assert "Spark is not available locally" in str(info.value) and info.value.exit_code == 2
    assert fake.writes() == []
