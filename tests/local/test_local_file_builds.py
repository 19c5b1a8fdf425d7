"""File-based model builds (file_path + function_name) on the live local workspace: build, deploy, call."""

from __future__ import annotations

from typing import Any

from local_support import wait_for

from automation.local import control

PREDICT = """\
from pathlib import Path

import helpers  # a module of the project folder: it is on sys.path, as in CML

SCALE = int(Path("scale.txt").read_text())  # read relative to the project folder (the cwd)


def predict(args):
    return {"sum": helpers.total(args["x"]) * SCALE}
"""
HELPERS = "def total(values):\n    return sum(values)\n"
BUILD_DONE = ("built", "build failed")


def _project(api, name: str) -> dict[str, Any]:
    project = api.project(name)
    api.upload(project["id"], "predict.py", PREDICT)
    api.upload(project["id"], "helpers.py", HELPERS)
    api.upload(project["id"], "scale.txt", "1")
    return project


def _model(api, project: dict[str, Any], name: str) -> dict[str, Any]:
    return api.ok("POST", f"/api/v2/projects/{project['id']}/models", json={"name": name})


def _file_build(
    api, project, model, runtime: str, file_path: str, function_name: str, **extra: str
) -> dict[str, Any]:
    base = f"/api/v2/projects/{project['id']}/models/{model['id']}/builds"
    body = {"file_path": file_path, "function_name": function_name, "runtime_identifier": runtime, **extra}
    build = api.ok("POST", base, json=body)
    assert build["status"] in ("queued", "pending", "built")
    assert build["file_path"] == file_path and build["function_name"] == function_name
    assert build["registered_model_version_id"] == ""
    return wait_for(lambda: api.ok("GET", f"{base}/{build['id']}"), lambda b: b["status"] in BUILD_DONE)


def test_file_build_deploys_and_answers_with_the_functions_return_value(api, local, runtime):
    project = _project(api, "file-model")
    model = _model(api, project, "summer")
    build = _file_build(api, project, model, runtime, "predict.py", "predict")
    assert build["status"] == "built", control.read_log(local.state_dir, build["id"])
    dep_base = f"/api/v2/projects/{project['id']}/models/{model['id']}/builds/{build['id']}/deployments"
    dep = api.ok("POST", dep_base, json={})
    dep = wait_for(
        lambda: api.ok("GET", f"{dep_base}/{dep['id']}"), lambda d: d["status"] in ("deployed", "failed")
    )
    assert dep["status"] == "deployed", control.read_log(local.state_dir, dep["id"])

    service = local.workspace.model_service_url
    auth = {"Authorization": f"Bearer {local.workspace.api_key}"}
    body = {"accessKey": model["access_key"], "request": {"x": [1, 2, 3.5]}}
    answer = api.session.post(service, json=body, headers=auth, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.json()["success"] is True and answer.json()["response"] == {"sum": 6.5}

    broken = api.session.post(
        service, json={"accessKey": model["access_key"], "request": {"y": 1}}, headers=auth, timeout=30
    )
    assert broken.status_code == 500
    assert broken.json()["success"] is False and "KeyError" in broken.json()["errors"]["model"]
    assert api.session.post(service, json=body, timeout=30).status_code == 401  # model auth is unchanged
    assert api.ok("POST", f"{dep_base}/{dep['id']}:stop")["status"] == "stopped"


def test_file_build_fails_naming_what_is_missing(api, local, runtime):
    project = _project(api, "file-model-bad")
    model = _model(api, project, "bad-summer")
    no_function = _file_build(api, project, model, runtime, "predict.py", "forecast")
    assert no_function["status"] == "build failed"
    assert "forecast" in no_function["comment"] and "predict.py" in no_function["comment"]
    assert "forecast" in control.read_log(local.state_dir, no_function["id"])
    no_file = _file_build(api, project, model, runtime, "nowhere.py", "predict")
    assert no_file["status"] == "build failed" and "not found" in no_file["comment"]
    api.upload(project["id"], "crash.py", "raise RuntimeError('no model today')\n")
    crash = _file_build(api, project, model, runtime, "crash.py", "predict")
    assert crash["status"] == "build failed" and "no model today" in crash["comment"]

    base = f"/api/v2/projects/{project['id']}/models/{model['id']}/builds"
    half = api.post(base, json={"file_path": "predict.py", "runtime_identifier": runtime})
    assert half.status_code == 400 and "function_name" in half.json()["message"]
    outside = api.post(
        base, json={"file_path": "../x.py", "function_name": "predict", "runtime_identifier": runtime}
    )
    assert outside.status_code == 400 and "file_path" in outside.json()["message"]


def test_file_build_runs_on_the_projects_runtime_after_its_build_script(api, local, runtime):
    project = _project(api, "file-model-script")
    # CML runs cdsw-build.sh in the build; here too, in the project folder and environment.
    api.upload(project["id"], "cdsw-build.sh", 'echo "building in $PWD"\necho 3 > scale.txt\n')
    api.upload(
        project["id"],
        "where.py",
        "import sys\n\ndef predict(args):\n    return {'python': '%d.%d' % sys.version_info[:2], 'exe': sys.executable}\n",
    )
    model = _model(api, project, "script-summer")
    build = _file_build(api, project, model, runtime, "predict.py", "predict")
    assert build["status"] == "built", control.read_log(local.state_dir, build["id"])
    log = control.read_log(local.state_dir, build["id"])
    assert "building in " in log and "the build script 'cdsw-build.sh' exited with code 0" in log
    where = _model(api, project, "where")
    built = _file_build(api, project, where, runtime, "where.py", "predict")
    dep_base = f"/api/v2/projects/{project['id']}/models/{where['id']}/builds/{built['id']}/deployments"
    dep = api.ok("POST", dep_base, json={})
    dep = wait_for(
        lambda: api.ok("GET", f"{dep_base}/{dep['id']}"), lambda d: d["status"] in ("deployed", "failed")
    )
    assert dep["status"] == "deployed", control.read_log(local.state_dir, dep["id"])
    auth = {"Authorization": f"Bearer {local.workspace.api_key}"}
    body = {"accessKey": where["access_key"], "request": {}}
    answer = api.session.post(local.workspace.model_service_url, json=body, headers=auth, timeout=30)
    assert answer.status_code == 200, answer.text
    served = answer.json()["response"]
    assert served["python"] == "3.11"  # the runtime's Python, in the project's own environment
    assert f"/envs/{project['id']}/python3.11/" in served["exe"]

    failing = _file_build(
        api, project, model, runtime, "predict.py", "predict", build_script_path="missing-build.sh"
    )
    assert failing["status"] == "build failed" and "missing-build.sh" in failing["comment"]
    api.upload(project["id"], "bad-build.sh", "echo cannot install\nexit 4\n")
    failing = _file_build(
        api, project, model, runtime, "predict.py", "predict", build_script_path="bad-build.sh"
    )
    assert failing["status"] == "build failed"
    assert "the build script 'bad-build.sh' exited with code 4" in failing["comment"]
    assert "cannot install" in failing["comment"]


def test_a_model_file_that_exits_fails_its_build_not_the_workspace(api, local, runtime):
    project = _project(api, "file-model-exit")
    api.upload(project["id"], "exits.py", "import os\nprint('bye', flush=True)\nos._exit(7)\n")
    model = _model(api, project, "exits")
    build = _file_build(api, project, model, runtime, "exits.py", "predict")
    assert build["status"] == "build failed"
    assert "the build worker exited with code 7" in build["comment"] and "bye" in build["comment"]
    assert api.ok("GET", "/api/v2/projects")["projects"]
