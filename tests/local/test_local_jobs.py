"""Jobs and job runs: validation, a real subprocess with CML's environment, every final status."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
from local_support import LEAK_CANARY, wait_for

from automation.local import control
from automation.local.workloads.procs import alive

ENV_SCRIPT = """
import hashlib, json, os, sys
names = ["CDSW_PROJECT_ID", "CDSW_PROJECT", "CDSW_ENGINE_ID", "CDSW_API_URL", "CDSW_DOMAIN", "PROJECT_OWNER",
         "MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "PYTHONUNBUFFERED", "SHARED", "P_ONLY", "J_ONLY",
         "CML_API_KEY", "HOME", "MLFLOW_RUN_CONTEXT", "AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN", "VIRTUAL_ENV",
         "PYENV_VERSION"]
out = {n: os.environ.get(n) for n in names}
out["KEY_SHA256"] = hashlib.sha256(os.environ.get("CDSW_APIV2_KEY", "").encode()).hexdigest()
out["TOKEN_SHA256"] = hashlib.sha256(os.environ.get("MLFLOW_TRACKING_TOKEN", "").encode()).hexdigest()
out["ALL"] = sorted(os.environ)
out["PYTHON"] = sys.executable
out["ARGV"] = sys.argv[1:]
out["CWD"] = os.getcwd()
print("ENV=" + json.dumps(out))
"""


@pytest.fixture(scope="module")
def project(api):
    proj = api.project("jobs-proj", environment={"SHARED": "project", "P_ONLY": "p"})
    api.upload(proj["id"], "env.py", ENV_SCRIPT)
    api.upload(proj["id"], "fail.py", "import sys\nprint('about to fail')\nsys.exit(3)\n")
    api.upload(proj["id"], "sleep.py", "import time\nprint('sleeping', flush=True)\ntime.sleep(120)\n")
    api.upload(proj["id"], "ok.py", "print('ok')\n")
    return proj


def _env_of(local, run_id: str) -> dict:
    log = control.read_log(local.state_dir, run_id)
    line = next(x for x in log.splitlines() if x.startswith("ENV="))
    return json.loads(line[len("ENV=") :])


def test_job_shape(api, project, runtime):
    job = api.job(project["id"], "env.py", runtime, timeout=30, environment={"J_ONLY": "j"})
    assert re.match(r"^[a-z0-9]{4}(-[a-z0-9]{4}){3}$", job["id"])
    assert job["timeout"] == "30"
    assert job["environment"] == '{"J_ONLY": "j"}'
    assert job["engine_image_id"] == "0"
    assert job["type"] == "manual"
    assert job["kill_on_timeout"] is True
    assert job["project"]["public_identifier"] == project["id"]
    assert api.ok("GET", f"/api/v2/projects/{project['id']}/jobs/{job['id']}") == job


def test_job_needs_a_known_runtime(api, project, runtime):
    resp = api.post(
        f"/api/v2/projects/{project['id']}/jobs",
        json={"name": "x", "script": "env.py", "runtime_identifier": "docker.example/nope:1"},
    )
    assert resp.status_code == 400 and "runtime_identifier" in resp.json()["message"]
    resp = api.post(f"/api/v2/projects/{project['id']}/jobs", json={"name": "x", "script": "env.py"})
    assert resp.status_code == 400 and "runtime_identifier" in resp.json()["message"]
    resp = api.post(
        f"/api/v2/projects/{project['id']}/jobs",
        json={"name": "x", "script": "../outside.py", "runtime_identifier": runtime},
    )
    assert resp.status_code == 400 and "script" in resp.json()["message"]


def test_patch_job(api, project, runtime):
    job = api.job(project["id"], "ok.py", runtime, name="patch-me")
    patched = api.ok(
        "PATCH",
        f"/api/v2/projects/{project['id']}/jobs/{job['id']}",
        json={"timeout": "45", "name": "patched"},
    )
    assert patched["timeout"] == "45" and patched["name"] == "patched" and patched["script"] == "ok.py"
    bad = api.patch(f"/api/v2/projects/{project['id']}/jobs/{job['id']}", json={"runtime_identifier": "nope"})
    assert bad.status_code == 400
    path = f"/api/v2/projects/{project['id']}/jobs/{job['id']}"
    assert api.ok("PATCH", path, json={"environment": '{"A": "1"}'})["environment"] == '{"A": "1"}'
    refused = api.patch(path, json={"environment": {"A": "2"}})  # the Job message wants a string
    assert refused.status_code == 400 and refused.json()["code"] == 3
    assert "environment" in refused.json()["message"]


def test_no_runtime_addons_locally_and_spark_is_refused_with_the_reason(api, project, runtime, local):
    listed = api.ok("GET", "/api/v2/runtimeaddons", params={"search_filter": '{"component": "Spark"}'})
    assert listed == {"runtime_addons": [], "next_page_token": ""}
    body = {"name": "spark", "script": "ok.py", "runtime_identifier": runtime}
    refused = api.post(
        f"/api/v2/projects/{project['id']}/jobs",
        json={**body, "runtime_addon_identifiers": ["spark351-24.1-h1"]},
    )
    assert refused.status_code == 400 and refused.json()["code"] == 3
    assert "Spark is not available locally" in refused.json()["message"]
    assert api.post(
        f"/api/v2/projects/{project['id']}/jobs", json={**body, "runtime_addon_identifiers": []}
    ).ok


def test_run_gets_cml_environment_with_precedence(api, project, runtime, local):
    job = api.job(
        project["id"], "env.py", runtime, environment={"SHARED": "job", "J_ONLY": "j"}, arguments="--a 1"
    )
    run = api.run(project["id"], job["id"], environment={"SHARED": "run"}, arguments="--flag 'two words'")
    assert run["status"] == "ENGINE_SCHEDULING"
    done = api.wait_run(run)
    assert done["status"] == "ENGINE_SUCCEEDED", control.read_log(local.state_dir, run["id"])
    for key in ("scheduling_at", "running_at", "finished_at"):
        assert done[key].endswith("Z")
    env = _env_of(local, run["id"])
    assert env["CDSW_PROJECT_ID"] == project["id"]
    assert env["CDSW_PROJECT"] == "jobs-proj"
    assert re.match(r"^[a-z0-9]{16}$", env["CDSW_ENGINE_ID"])
    assert env["CDSW_API_URL"] == f"{local.workspace.url}/api/v1"
    assert env["CDSW_DOMAIN"] == f"127.0.0.1:{local.port}"
    assert env["PROJECT_OWNER"] == "local-user"
    assert env["KEY_SHA256"] == hashlib.sha256(local.workspace.api_key.encode()).hexdigest()
    # MLflow through the workspace's tracking server, as this engine, with the workspace key.
    assert env["MLFLOW_TRACKING_URI"] == f"{local.workspace.url}/mlflow/engines/{env['CDSW_ENGINE_ID']}"
    assert env["TOKEN_SHA256"] == env["KEY_SHA256"]
    assert env["MLFLOW_REGISTRY_URI"] is None and env["MLFLOW_RUN_CONTEXT"] is None
    assert env["PYTHONUNBUFFERED"] == "1"
    assert (env["SHARED"], env["J_ONLY"], env["P_ONLY"]) == ("run", "j", "p")
    # Nothing of the shell that started the server reaches the job (the fixture set these).
    assert env["CML_API_KEY"] is None and LEAK_CANARY not in json.dumps(env)
    assert env["AWS_SECRET_ACCESS_KEY"] is None and env["GITHUB_TOKEN"] is None
    assert env["VIRTUAL_ENV"] is None and env["PYENV_VERSION"] is None
    assert not [n for n in env["ALL"] if n.startswith(("AWS_", "GITHUB_", "CML_", "PYTEST_"))]
    assert env["ARGV"] == ["--flag", "two words"]
    project_dir = str((local.state_dir / "projects" / project["id"]).resolve())
    assert env["CWD"] == project_dir and env["HOME"] == project_dir
    # The project's own environment, never cmlops' interpreter.
    assert env["PYTHON"].startswith(str((local.state_dir / "envs" / project["id"]).resolve()))
    assert control.job_run_log_path(local.state_dir, run["id"]).is_file()


def test_run_uses_the_job_arguments_by_default(api, project, runtime, local):
    job = api.job(project["id"], "env.py", runtime, arguments="x y")
    run = api.wait_run(api.run(project["id"], job["id"]))
    assert run["status"] == "ENGINE_SUCCEEDED"
    assert _env_of(local, run["id"])["ARGV"] == ["x", "y"]


def test_failing_script_is_engine_failed(api, project, runtime, local):
    job = api.job(project["id"], "fail.py", runtime)
    run = api.wait_run(api.run(project["id"], job["id"]))
    assert run["status"] == "ENGINE_FAILED"
    log = control.read_log(local.state_dir, run["id"])
    assert "about to fail" in log and "exited with code 3" in log


def test_missing_script_is_engine_failed(api, project, runtime, local):
    job = api.job(project["id"], "not-there.py", runtime)
    run = api.wait_run(api.run(project["id"], job["id"]))
    assert run["status"] == "ENGINE_FAILED"
    assert "not found" in control.read_log(local.state_dir, run["id"])


def test_stop_is_engine_stopped_and_one_active_run_per_job(api, project, runtime):
    job = api.job(project["id"], "sleep.py", runtime)
    run = api.run(project["id"], job["id"])
    api.wait_run(run, {"ENGINE_RUNNING"})
    second = api.post(f"/api/v2/projects/{project['id']}/jobs/{job['id']}/runs", json={})
    assert second.status_code == 409 and run["id"] in second.json()["message"]
    base = f"/api/v2/projects/{project['id']}/jobs/{job['id']}/runs/{run['id']}"
    stopped = api.ok("POST", base + ":stop")
    assert stopped["status"] == "ENGINE_STOPPED"
    assert stopped["finished_at"]
    again = api.post(base + ":stop")
    assert again.status_code == 400 and again.json()["code"] == 9


def test_what_a_script_leaves_running_ends_with_its_run(api, project, runtime, local):
    # A CML engine ends with its script, and every process in it: a background process the script
    # started must not outlive the run (it would hold ports and CPU of a workspace nobody sees).
    script = (
        "import subprocess, sys\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
        "print(f'CHILD={child.pid}', flush=True)\n"
    )
    api.upload(project["id"], "leaves_a_child.py", script)
    job = api.job(project["id"], "leaves_a_child.py", runtime)
    run = api.wait_run(api.run(project["id"], job["id"]))
    assert run["status"] == "ENGINE_SUCCEEDED"
    child = int(re.search(r"CHILD=(\d+)", control.read_log(local.state_dir, run["id"])).group(1))
    assert wait_for(lambda: alive(child), lambda up: not up, deadline=10) is False


def test_timeout_is_engine_timedout(api, project, runtime, local):
    job = api.job(project["id"], "sleep.py", runtime, timeout=1)
    run = api.wait_run(api.run(project["id"], job["id"]))
    assert run["status"] == "ENGINE_TIMEDOUT"
    assert "timed out" in control.read_log(local.state_dir, run["id"])


def test_run_lists_sort_filter_and_404(api, project, runtime):
    job = api.job(project["id"], "ok.py", runtime, name="listed-job")
    first = api.wait_run(api.run(project["id"], job["id"]))
    second = api.wait_run(api.run(project["id"], job["id"]))
    base = f"/api/v2/projects/{project['id']}/jobs/{job['id']}/runs"
    latest = api.ok("GET", base, params={"sort": "-created_at", "page_size": 1})
    assert [r["id"] for r in latest["job_runs"]] == [second["id"]] and latest["next_page_token"]
    ok = api.ok("GET", base, params={"search_filter": '{"status": "succeeded"}'})["job_runs"]
    assert {r["id"] for r in ok} == {first["id"], second["id"]}
    assert api.ok("GET", base, params={"search_filter": '{"status": "failed"}'})["job_runs"] == []
    jobs = api.ok(
        "GET", f"/api/v2/projects/{project['id']}/jobs", params={"search_filter": '{"name": "listed"}'}
    )
    assert [j["id"] for j in jobs["jobs"]] == [job["id"]]
    missing = api.get(base + "/zzzz-zzzz-zzzz-zzzz")
    assert missing.status_code == 404 and missing.json()["code"] == 5


def test_dependent_job_runs_after_its_parent_succeeds(api, project, runtime):
    parent = api.job(project["id"], "ok.py", runtime, name="parent")
    child = api.job(project["id"], "ok.py", runtime, name="child", parent_id=parent["id"])
    assert child["type"] == "dependent" and child["parent_id"] == parent["id"]
    api.wait_run(api.run(project["id"], parent["id"]))
    runs = wait_for(
        lambda: api.ok("GET", f"/api/v2/projects/{project['id']}/jobs/{child['id']}/runs")["job_runs"],
        lambda rs: rs and rs[0]["status"] == "ENGINE_SUCCEEDED",
    )
    assert len(runs) == 1


def test_delete_job(api, project, runtime):
    job = api.job(project["id"], "ok.py", runtime, name="delete-me")
    assert api.ok("DELETE", f"/api/v2/projects/{project['id']}/jobs/{job['id']}") == {}
    assert api.get(f"/api/v2/projects/{project['id']}/jobs/{job['id']}").status_code == 404


def test_a_log_that_cannot_be_written_fails_the_run_instead_of_leaving_it_scheduling(
    api, project, runtime, local
):
    logs = local.state_dir / "logs" / "jobruns"
    aside = logs.with_name("jobruns-aside")
    logs.rename(aside)
    logs.write_text("a file where the run logs' folder should be")  # every log write now fails
    try:
        job = api.job(project["id"], "ok.py", runtime)
        run = api.wait_run(api.run(project["id"], job["id"]))
    finally:
        logs.unlink()
        aside.rename(logs)
    assert run["status"] == "ENGINE_FAILED" and run["finished_at"]
    base = f"/api/v2/projects/{project['id']}/jobs/{job['id']}/runs/{run['id']}"
    assert api.post(base + ":stop").status_code == 400  # final: nothing left to stop
    server_log = control.read_log(local.state_dir, "server")
    assert f"job run {run['id']}: cannot write its log" in server_log
    assert api.run(project["id"], job["id"])["status"] == "ENGINE_SCHEDULING"  # the job runs again
