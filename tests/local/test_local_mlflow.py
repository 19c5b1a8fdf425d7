"""Experiments, registry, model endpoints, builds, deployments, /model, and a server restart.

One job run trains a tiny model (y = a + 2b) and logs it with MLflow; everything else builds on it.
"""

from __future__ import annotations

import json
import re

import pytest
from local_support import wait_for

from automation.local import control

# Written the way CML users write it for the Standard runtime: install what the runtime lacks with a
# kernel '!' line (offline here: the suite's wheelhouse), then MLflow 2.19's API (mlflow-skinny).
TRAIN = """
!pip3 install --quiet scikit-learn
import shutil
from pathlib import Path

import mlflow
import mlflow.sklearn
import pandas as pd
from mlflow.models import infer_signature
from sklearn.linear_model import LinearRegression

mlflow.set_experiment("tiny-exp")
with mlflow.start_run(run_name="tiny-run") as run:
    X = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [0.0, 1.0, 0.0, 2.0]})
    y = X["a"] + 2 * X["b"]
    model = LinearRegression().fit(X, y)
    mlflow.log_param("alpha", "0.5")
    for step in range(3):
        mlflow.log_metric("rmse", 1.0 / (step + 1), step=step)
    sig = infer_signature(X, model.predict(X))
    mlflow.sklearn.log_model(model, "model", signature=sig, pip_requirements=["scikit-learn"])
    mlflow.sklearn.log_model(model, "broken", signature=sig, pip_requirements=["scikit-learn"])
    location = Path(mlflow.get_artifact_uri("broken").removeprefix("file://"))
    for item in location.iterdir():  # a model that registers but cannot load
        if item.name != "MLmodel":
            item.unlink() if item.is_file() else shutil.rmtree(item)
    print("MLFLOW_RUN_ID=" + run.info.run_id)
print("mlflow", mlflow.__version__)
"""
ID_4X4 = re.compile(r"^[a-z0-9]{4}(-[a-z0-9]{4}){3}$")
MLFLOW_RUN_ID = re.compile(r"^[0-9a-f]{32}$")
REQUEST = {"dataframe_split": {"columns": ["a", "b"], "data": [[1.0, 2.0]]}}


@pytest.fixture(scope="module")
def trained(api, runtime, local):
    project = api.project("ml-proj")
    api.upload(project["id"], "train.py", TRAIN)
    job = api.job(project["id"], "train.py", runtime)
    run = api.wait_run(api.run(project["id"], job["id"]))
    assert run["status"] == "ENGINE_SUCCEEDED", control.read_log(local.state_dir, run["id"])
    exps = api.ok(
        "GET", f"/api/v2/projects/{project['id']}/experiments", params={"search_filter": '{"name": "tiny"}'}
    )
    experiment = exps["experiments"][0]
    runs = api.ok("GET", f"/api/v2/projects/{project['id']}/experiments/{experiment['id']}/runs")
    log = control.read_log(local.state_dir, run["id"])
    return {"project": project, "experiment": experiment, "run": runs["experiment_runs"][0], "log": log}


@pytest.fixture(scope="module")
def registered(api, trained):
    body = {
        "project_id": trained["project"]["id"],
        "experiment_id": trained["experiment"]["id"],
        "run_id": trained["run"]["id"],
        "model_path": "model",
        "model_name": "tiny-model",
        "tags": [{"key": "stage", "value": "dev"}],
        "notes": "first",
        "description": "a tiny model",
        "visibility": "PUBLIC",
    }
    return api.ok("POST", "/api/v2/registry/models", json=body)


# --- experiments -------------------------------------------------------------------------------


def test_experiment_belongs_to_the_project_of_its_job_run(api, trained):
    exp = trained["experiment"]
    assert exp["id"].isdigit()  # MLflow's own experiment id: the one a job's MLflow client sees
    assert exp["name"] == "tiny-exp"
    assert exp["project_id"] == trained["project"]["id"]
    assert exp["created_at"].endswith("Z")
    other = api.project("ml-other")
    seen = api.ok("GET", f"/api/v2/projects/{other['id']}/experiments")["experiments"]
    assert exp["id"] not in [e["id"] for e in seen]
    assert api.get(f"/api/v2/projects/{other['id']}/experiments/{exp['id']}").status_code == 404
    everywhere = api.ok("GET", "/api/v2/experiments", params={"search_filter": '{"name": "tiny-exp"}'})
    assert [e["id"] for e in everywhere["experiments"]] == [exp["id"]]
    assert api.ok("GET", f"/api/v2/projects/{trained['project']['id']}/experiments/{exp['id']}") == exp


def test_two_projects_logging_to_one_experiment_name_each_see_their_own_runs(api, runtime, local, trained):
    second = api.project("ml-second")
    api.upload(second["id"], "train.py", TRAIN)
    job = api.job(second["id"], "train.py", runtime)
    run = api.wait_run(api.run(second["id"], job["id"]))
    assert run["status"] == "ENGINE_SUCCEEDED", control.read_log(local.state_dir, run["id"])

    def runs_seen_by(project):
        exps = api.ok("GET", f"/api/v2/projects/{project['id']}/experiments")["experiments"]
        (exp,) = [e for e in exps if e["name"] == "tiny-exp"]
        assert exp["project_id"] == project["id"]
        listed = api.ok("GET", f"/api/v2/projects/{project['id']}/experiments/{exp['id']}/runs")
        return exp["id"], [r["id"] for r in listed["experiment_runs"]]

    _, first_runs = runs_seen_by(trained["project"])
    second_exp, second_runs = runs_seen_by(second)
    assert first_runs == [trained["run"]["id"]]  # the first project does not see the second's run
    assert len(second_runs) == 1 and second_runs != first_runs
    base = f"/api/v2/projects/{second['id']}/experiments/{second_exp}/runs"
    assert api.get(f"{base}/{trained['run']['id']}").status_code == 404  # nor the other way round


def test_experiment_run_shape(api, trained):
    run = trained["run"]
    # One id per run: the API returns the id the job's own MLflow client printed.
    assert MLFLOW_RUN_ID.match(run["id"])
    assert f"MLFLOW_RUN_ID={run['id']}" in trained["log"]
    assert "mlflow 2.19.0" in trained["log"]  # the runtime's mlflow-skinny, not cmlops' MLflow
    assert run["name"] == "tiny-run"
    assert run["experiment_id"] == trained["experiment"]["id"]
    assert run["status"] == "EXPERIMENT_RUN_FINISHED"
    assert run["start_time"].endswith("Z") and run["end_time"].endswith("Z")
    (rmse,) = [m for m in run["data"]["metrics"] if m["key"] == "rmse"]
    assert rmse["step"] == "2" and rmse["value"] == pytest.approx(1 / 3)
    assert {"key": "alpha", "value": "0.5"} in run["data"]["params"]
    tags = {t["key"]: t["value"] for t in run["data"]["tags"]}
    assert tags["cml.project_id"] == trained["project"]["id"]  # set by the tracking server, not the script
    assert tags["cml.job_run_id"] and tags["cml.engine_id"]
    files = {f["path"] for f in run["data"]["files"]} if run["data"].get("files") else set()
    assert not files or any(p.endswith("MLmodel") for p in files)


def test_experiment_runs_sort_filter_and_metric_history(api, trained):
    base = f"/api/v2/projects/{trained['project']['id']}/experiments/{trained['experiment']['id']}/runs"
    assert [r["id"] for r in api.ok("GET", base, params={"sort": "-start_time"})["experiment_runs"]] == [
        trained["run"]["id"]
    ]
    assert api.ok("GET", base, params={"search_filter": '{"name": "nomatch"}'})["experiment_runs"] == []
    history = api.ok("GET", f"{base}/{trained['run']['id']}/metrics/rmse")["metrics"]
    assert [m["step"] for m in history] == ["0", "1", "2"]
    assert [m["value"] for m in history] == pytest.approx([1.0, 0.5, 1 / 3])
    assert api.get(f"{base}/zzzz-zzzz-zzzz-zzzz").status_code == 404


# --- registry ----------------------------------------------------------------------------------


def test_register_from_the_run(api, trained, registered):
    assert ID_4X4.match(registered["model_id"])
    assert registered["name"] == "tiny-model"
    assert registered["description"] == "a tiny model"
    assert registered["visibility"] == "PUBLIC"
    body = {  # the Visibility enum takes its exact spelling only
        "project_id": trained["project"]["id"],
        "experiment_id": trained["experiment"]["id"],
        "run_id": trained["run"]["id"],
        "model_path": "model",
        "model_name": registered["name"],
        "visibility": "private",
    }
    refused = api.post("/api/v2/registry/models", json=body)
    assert (
        refused.status_code == 400
        and refused.json()["code"] == 3
        and "visibility" in refused.json()["message"]
    )
    version = registered["model_versions"][0]
    assert ID_4X4.match(version["model_version_id"])
    assert version["number"] == 1
    assert version["status"] == "REGISTERED"
    assert version["notes"] == "first"
    assert version["error_message"] == ""
    assert {"key": "stage", "value": "dev"} in version["tags"]
    meta = version["model_version_metadata"]
    assert meta["mlops_type"] == "MLFLOW"
    assert meta["project_id"] == trained["project"]["id"]
    assert meta["mlflow_metadata"]["run_id"] == trained["run"]["id"]
    assert meta["mlflow_metadata"]["experiment_id"] == trained["experiment"]["id"]
    assert {"key": "alpha", "value": "0.5"} in meta["mlflow_metadata"]["params"]


def test_registry_lists_gets_and_updates(api, registered):
    listed = api.ok("GET", "/api/v2/registry/models", params={"search_filter": '{"model_name": "tiny-mo"}'})
    assert [m["model_id"] for m in listed["models"]] == [registered["model_id"]]
    assert "model_versions" not in listed["models"][0]
    assert (
        api.ok("GET", "/api/v2/registry/models", params={"search_filter": '{"model_name": "TINY"}'})["models"]
        == []
    )
    model_id = registered["model_id"]
    version_id = registered["model_versions"][0]["model_version_id"]
    got = api.ok("GET", f"/api/v2/registry/models/{model_id}/versions/{version_id}")
    assert got["model_version_id"] == version_id
    updated = api.ok(
        "PATCH",
        f"/api/v2/registry/models/{model_id}",
        json={
            "model_id": model_id,
            "model_version_id": version_id,
            "notes": "reviewed",
            "tags": [{"key": "k", "value": "v"}],
        },
    )
    assert updated["notes"] == "reviewed"
    assert updated["tags"] == [{"key": "k", "value": "v"}]
    model = api.ok("PATCH", "/api/v2/registry/models", json={"model_id": model_id, "description": "changed"})
    assert model["description"] == "changed" and model["visibility"] == "PUBLIC"


def test_registering_again_adds_a_version_listed_first(api, trained, registered):
    again = api.ok(
        "POST",
        "/api/v2/registry/models",
        json={"run_id": trained["run"]["id"], "model_path": "model", "model_name": "tiny-model"},
    )
    assert again["model_id"] == registered["model_id"]
    assert [v["number"] for v in again["model_versions"]] == [2, 1]
    assert again["count"] == 2
    only = api.ok(
        "GET",
        f"/api/v2/registry/models/{registered['model_id']}",
        params={"search_filter": '{"version_number": "1"}'},
    )
    assert [v["number"] for v in only["model_versions"]] == [1]
    gone = api.ok(
        "DELETE",
        f"/api/v2/registry/models/{again['model_id']}/versions/{again['model_versions'][0]['model_version_id']}",
    )
    assert gone == {}
    assert api.ok("GET", f"/api/v2/registry/models/{registered['model_id']}")["count"] == 1


def test_register_errors(api, trained):
    bad_path = api.post(
        "/api/v2/registry/models",
        json={"run_id": trained["run"]["id"], "model_path": "nope", "model_name": "tiny-model"},
    )
    assert bad_path.status_code == 400 and "model_path" in bad_path.json()["message"]
    no_run = api.post(
        "/api/v2/registry/models",
        json={"run_id": "zzzz-zzzz-zzzz-zzzz", "model_path": "model", "model_name": "x"},
    )
    assert no_run.status_code == 404
    missing = api.post(
        "/api/v2/registry/models", json={"run_id": trained["run"]["id"], "model_path": "model"}
    )
    assert missing.status_code == 400 and "model_name" in missing.json()["message"]


# --- model endpoints, builds, deployments ------------------------------------------------------


@pytest.fixture(scope="module")
def endpoint(api, registered):
    prd = api.project("ml-prd")
    model = api.ok(
        "POST",
        f"/api/v2/projects/{prd['id']}/models",
        json={"name": "tiny-endpoint", "description": "d", "registered_model_id": registered["model_id"]},
    )
    return {"project": prd, "model": model}


def _build(api, endpoint, version_id: str, runtime: str) -> dict:
    base = f"/api/v2/projects/{endpoint['project']['id']}/models/{endpoint['model']['id']}/builds"
    build = api.ok(
        "POST", base, json={"registered_model_version_id": version_id, "runtime_identifier": runtime}
    )
    assert build["status"] in ("queued", "pending", "built")
    return wait_for(
        lambda: api.ok("GET", f"{base}/{build['id']}"), lambda b: b["status"] in ("built", "build failed")
    )


def test_model_endpoint_shape(api, endpoint, registered):
    model = endpoint["model"]
    assert re.match(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", model["id"])
    assert re.match(r"^[a-z0-9]{32}$", model["access_key"])
    assert model["auth_enabled"] is True
    assert model["deletion_status"] == ""
    assert model["registered_model_id"] == registered["model_id"]
    assert model["default_resources"] == {"cpu_millicores": "1000", "memory_mb": "2048", "nvidia_gpus": "0"}
    dup = api.post(f"/api/v2/projects/{endpoint['project']['id']}/models", json={"name": "tiny-endpoint"})
    assert dup.status_code == 409
    everywhere = api.ok("GET", "/api/v2/models", params={"search_filter": '{"name": "tiny-endpoint"}'})[
        "models"
    ]
    assert [m["id"] for m in everywhere] == [model["id"]]
    models_base = f"/api/v2/projects/{endpoint['project']['id']}/models"
    with_auth = api.ok("GET", models_base, params={"search_filter": '{"auth_enabled": "t"}'})["models"]
    assert [m["id"] for m in with_auth] == [model["id"]]
    patched = api.ok(
        "PATCH",
        f"{models_base}/{model['id']}",
        json={"description": "patched", "default_resources": {"memory_mb": "4096"}},
    )
    assert patched["description"] == "patched" and patched["name"] == "tiny-endpoint"
    assert (
        patched["default_resources"]["memory_mb"] == "4096" and patched["access_key"] == model["access_key"]
    )


def test_build_validation(api, endpoint, runtime, registered):
    base = f"/api/v2/projects/{endpoint['project']['id']}/models/{endpoint['model']['id']}/builds"
    version_id = registered["model_versions"][0]["model_version_id"]
    assert api.post(base, json={"registered_model_version_id": version_id}).status_code == 400
    unknown = api.post(
        base, json={"registered_model_version_id": "zzzz-zzzz-zzzz-zzzz", "runtime_identifier": runtime}
    )
    assert unknown.status_code == 404
    half = api.post(base, json={"file_path": "predict.py", "runtime_identifier": runtime})
    assert half.status_code == 400 and "function_name" in half.json()["message"]


def test_broken_model_build_fails_with_the_reason(api, trained, runtime):
    reg = api.ok(
        "POST",
        "/api/v2/registry/models",
        json={"run_id": trained["run"]["id"], "model_path": "broken", "model_name": "tiny-broken"},
    )
    project = api.project("ml-broken")
    model = api.ok(
        "POST",
        f"/api/v2/projects/{project['id']}/models",
        json={"name": "broken", "disable_authentication": True},
    )
    build = _build(
        api, {"project": project, "model": model}, reg["model_versions"][0]["model_version_id"], runtime
    )
    assert build["status"] == "build failed"
    assert "[build failed: " in build["comment"]


def test_build_deploy_predict_and_survive_a_restart(api, local, endpoint, registered, runtime):
    project_id, model = endpoint["project"]["id"], endpoint["model"]
    build = _build(api, endpoint, registered["model_versions"][-1]["model_version_id"], runtime)
    assert build["status"] == "built", control.read_log(local.state_dir, build["id"])
    assert build["built_at"].endswith("Z")
    assert "built" in control.read_log(local.state_dir, build["id"])
    builds_base = f"/api/v2/projects/{project_id}/models/{model['id']}/builds"
    listed = api.ok("GET", builds_base, params={"search_filter": '{"status": "built"}'})["model_builds"]
    assert [b["id"] for b in listed] == [build["id"]]
    dep_base = f"/api/v2/projects/{project_id}/models/{model['id']}/builds/{build['id']}/deployments"
    dep = api.ok("POST", dep_base, json={"cpu": "1", "memory": 2, "environment": {"X": "1"}})
    assert dep["status"] in ("pending", "deploying")
    assert json.loads(dep["environment"]) == {"X": "1"}
    dep = wait_for(
        lambda: api.ok("GET", f"{dep_base}/{dep['id']}"), lambda d: d["status"] in ("deployed", "failed")
    )
    assert dep["status"] == "deployed", control.read_log(local.state_dir, dep["id"])

    service = local.workspace.model_service_url
    auth = {"Authorization": f"Bearer {local.workspace.api_key}"}
    body = {"accessKey": model["access_key"], "request": REQUEST}
    answer = api.session.post(service, json=body, headers=auth, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.json()["success"] is True
    assert answer.json()["response"]["prediction"] == pytest.approx([5.0])
    query_form = api.session.post(
        service,
        params={"accessKey": model["access_key"]},
        json={"request": REQUEST},
        headers=auth,
        timeout=30,
    )
    assert query_form.status_code == 200 and query_form.json()["success"] is True
    no_auth = api.session.post(service, json=body, timeout=30)
    assert no_auth.status_code == 401 and no_auth.json()["success"] is False
    unknown = api.session.post(
        service, json={"accessKey": "x" * 32, "request": REQUEST}, headers=auth, timeout=30
    )
    assert unknown.status_code == 404
    assert unknown.json() == {
        "success": False,
        "errors": {"accessKey": unknown.json()["errors"]["accessKey"]},
    }

    # The deployment comes back after the server restarts.
    assert control.stop(local.state_dir) is True
    assert control.status(local.state_dir)["running"] is False
    assert control.stop(local.state_dir) is False  # nothing left to stop
    restarted = control.start(local.state_dir, port=local.port, wait=60)
    assert restarted.url == local.workspace.url and restarted.pid != local.workspace.pid
    again = api.session.post(service, json=body, headers=auth, timeout=90)  # waits while it relaunches
    assert again.status_code == 200, again.text
    assert again.json()["response"]["prediction"] == pytest.approx([5.0])
    assert api.ok("GET", f"{dep_base}/{dep['id']}")["status"] == "deployed"

    # A newer deployment of the same model replaces the older one once it serves.
    newer = api.ok("POST", dep_base, json={})
    newer = wait_for(
        lambda: api.ok("GET", f"{dep_base}/{newer['id']}"), lambda d: d["status"] in ("deployed", "failed")
    )
    assert newer["status"] == "deployed", control.read_log(local.state_dir, newer["id"])
    older = api.ok("GET", f"{dep_base}/{dep['id']}")
    assert older["status"] == "stopped" and older["stopped_at"].endswith("Z")
    assert api.session.post(service, json=body, headers=auth, timeout=30).json()["success"] is True
    listed = api.ok("GET", dep_base, params={"search_filter": '{"status": "stopped"}'})["model_deployments"]
    assert [d["id"] for d in listed] == [dep["id"]]
    assert api.ok("POST", f"{dep_base}/{dep['id']}:stop")["status"] == "stopped"  # idempotent

    stopped = api.ok("POST", f"{dep_base}/{newer['id']}:stop")
    assert stopped["status"] == "stopped"
    assert api.session.post(service, json=body, headers=auth, timeout=30).status_code == 503
