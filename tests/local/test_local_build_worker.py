"""Builds run in a worker process on the build's runtime: a bad model fails its own build, nothing else.

A workspace of its own (the build time limit is set to a few seconds through the server's
environment, and one test kills the server). One job on the Python 3.11 runtime logs four pyfunc
models whose classes live in the script (pickled by value, as CML users' PythonModels are): one that
works, one whose loading calls ``os._exit``, one whose loading hangs, and one that needs the Python
it was saved with; a job on the Python 3.10 runtime logs the same working model there.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from local_support import Api, free_port, wait_for

from automation.local import control

# seconds: CMLOPS_LOCAL_BUILD_TIMEOUT of this workspace (a sound model loads in a few seconds, but the
# test machine's cores are shared and busy)
TIME_LIMIT = 30

LOG_MODELS = """
import os, time
import mlflow
from mlflow.models import ModelSignature
from mlflow.types import ColSpec, Schema

class Summer(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return (model_input["a"] + 2 * model_input["b"]).to_numpy()

class Exits(mlflow.pyfunc.PythonModel):
    def load_context(self, context):
        print("loading: about to call os._exit(3)", flush=True)
        os._exit(3)
    def predict(self, context, model_input, params=None):
        return model_input

class Hangs(mlflow.pyfunc.PythonModel):
    def load_context(self, context):
        time.sleep(3600)
    def predict(self, context, model_input, params=None):
        return model_input

# A signature, not an input example: MLflow would load each model to check an example at log time.
signature = ModelSignature(inputs=Schema([ColSpec("double", "a"), ColSpec("double", "b")]))
mlflow.set_experiment("worker-exp")
with mlflow.start_run() as run:
    for path, model in (("ok", Summer()), ("exits", Exits()), ("hangs", Hangs())):
        mlflow.pyfunc.log_model(path, python_model=model, signature=signature, pip_requirements=["cloudpickle"])
    needs = ["cloudpickle", "no-such-package-for-cmlops==1.0"]  # in no wheelhouse
    mlflow.pyfunc.log_model("needs", python_model=Summer(), signature=signature, pip_requirements=needs)
    print("RUN_ID=" + run.info.run_id)
"""


@dataclass
class Bench:
    state_dir: Path
    api: Api
    runs: dict[str, str]  # Python version -> the MLflow run holding the models logged there
    runtimes: dict[str, str]  # Python version -> a Workbench runtime identifier


def _runtime(api: Api, python: str) -> str:
    found = api.ok(
        "GET",
        "/api/v2/runtimes",
        params={"search_filter": f'{{"kernel": "Python {python}", "editor": "Workbench"}}'},
    )["runtimes"]
    return max(found, key=lambda r: r["full_version"])["image_identifier"]


def _log_models(api: Api, state_dir: Path, runtime: str, project_name: str) -> str:
    project = api.project(project_name)
    api.upload(project["id"], "log_models.py", LOG_MODELS)
    run = api.wait_run(api.run(project["id"], api.job(project["id"], "log_models.py", runtime)["id"]))
    log = control.read_log(state_dir, run["id"])
    assert run["status"] == "ENGINE_SUCCEEDED", log
    return next(line.split("=", 1)[1].strip() for line in log.splitlines() if line.startswith("RUN_ID="))


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bench]:
    state_dir = tmp_path_factory.mktemp("build-worker") / ".cmlops"
    port = free_port()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CMLOPS_LOCAL_BUILD_TIMEOUT", str(TIME_LIMIT))
        workspace = control.start(state_dir, port=port, wait=60)
    session = requests.Session()
    session.trust_env = False
    api = Api(workspace.url, workspace.api_key, session)
    try:
        runtimes = {p: _runtime(api, p) for p in ("3.10", "3.11")}
        runs = {p: _log_models(api, state_dir, runtimes[p], f"logger-{p}") for p in ("3.11", "3.10")}
        yield Bench(state_dir, api, runs, runtimes)
    finally:
        control.stop(state_dir)


class Endpoint:
    """A model endpoint in its own project, and builds of registered versions into it."""

    def __init__(self, bench: Bench, name: str) -> None:
        self.bench = bench
        api = bench.api
        self.project = api.project(f"prj-{name}")
        self.model = api.ok(
            "POST",
            f"/api/v2/projects/{self.project['id']}/models",
            json={"name": name, "disable_authentication": True},
        )
        self.base = f"/api/v2/projects/{self.project['id']}/models/{self.model['id']}/builds"

    def start(
        self, model_path: str, python: str = "3.11", runtime_python: str | None = None
    ) -> dict[str, Any]:
        api = self.bench.api
        registered = api.ok(
            "POST",
            "/api/v2/registry/models",
            json={
                "run_id": self.bench.runs[python],
                "model_path": model_path,
                "model_name": self.model["name"],
            },
        )
        body = {
            "registered_model_version_id": registered["model_versions"][0]["model_version_id"],
            "runtime_identifier": self.bench.runtimes[runtime_python or python],
        }
        return api.ok("POST", self.base, json=body)

    def get(self, build: dict[str, Any]) -> dict[str, Any]:
        return self.bench.api.ok("GET", f"{self.base}/{build['id']}")

    def wait(self, build: dict[str, Any], deadline: float = 600) -> dict[str, Any]:
        return wait_for(lambda: self.get(build), lambda b: b["status"] in ("built", "build failed"), deadline)


def _answers(api: Api) -> None:
    assert api.ok("GET", "/api/v2/projects")["projects"]


def test_a_model_that_exits_while_loading_fails_its_build_and_nothing_else(bench: Bench) -> None:
    endpoint = Endpoint(bench, "exits")
    failed = endpoint.wait(endpoint.start("exits"))
    assert failed["status"] == "build failed"
    assert "the build worker exited with code 3" in failed["comment"]
    assert "about to call os._exit(3)" in failed["comment"]  # the tail of the worker's output
    _answers(bench.api)
    assert "about to call os._exit(3)" in control.read_log(bench.state_dir, failed["id"])
    other = Endpoint(bench, "fine")
    built = other.wait(other.start("ok"))
    assert built["status"] == "built", control.read_log(bench.state_dir, built["id"])


def test_a_hanging_load_times_out_without_holding_up_other_builds(bench: Bench) -> None:
    hung = Endpoint(bench, "hangs")
    started = time.monotonic()
    stuck = hung.start("hangs")
    fine = Endpoint(bench, "fine-meanwhile")
    built = fine.wait(fine.start("ok"))
    assert built["status"] == "built", control.read_log(bench.state_dir, built["id"])
    if time.monotonic() - started < TIME_LIMIT:  # the other build finished while this one hung
        assert hung.get(stuck)["status"] == "pending"
    failed = hung.wait(stuck)
    assert failed["status"] == "build failed"
    assert f"timed out after {TIME_LIMIT} s" in failed["comment"]
    assert "CMLOPS_LOCAL_BUILD_TIMEOUT" in failed["comment"]
    _answers(bench.api)
    copy = bench.state_dir / "builds" / failed["id"]
    assert (copy / "hangs" / "MLmodel").is_file()  # the build's copy of the model version
    bench.api.ok("DELETE", f"{hung.base}/{failed['id']}")
    assert not copy.exists()


def test_a_model_whose_requirements_cannot_be_installed_fails_saying_so(bench: Bench) -> None:
    endpoint = Endpoint(bench, "needs")
    failed = endpoint.wait(endpoint.start("needs"))
    assert failed["status"] == "build failed"
    assert "installing the model's requirements failed" in failed["comment"]
    assert "no-such-package-for-cmlops" in failed["comment"]


def test_a_model_pickled_under_python_310_builds_and_serves_on_a_310_runtime(bench: Bench) -> None:
    endpoint = Endpoint(bench, "py310")
    built = endpoint.wait(endpoint.start("ok", python="3.10"))
    assert built["status"] == "built", control.read_log(bench.state_dir, built["id"])
    assert "(Python 3.10)" in control.read_log(bench.state_dir, built["id"])
    api = bench.api
    dep_base = f"{endpoint.base}/{built['id']}/deployments"
    dep = api.ok("POST", dep_base, json={})
    dep = wait_for(
        lambda: api.ok("GET", f"{dep_base}/{dep['id']}"), lambda d: d["status"] in ("deployed", "failed"), 300
    )
    assert dep["status"] == "deployed", control.read_log(bench.state_dir, dep["id"])
    request = {"dataframe_split": {"columns": ["a", "b"], "data": [[1.0, 2.0], [3.0, 0.5]]}}
    answer = api.session.post(
        f"{api.url}/model", json={"accessKey": endpoint.model["access_key"], "request": request}, timeout=60
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["response"]["prediction"] == [5.0, 4.0]

    # The same class on a Python 3.11 runtime does not load, and the reason says why.
    other = Endpoint(bench, "py310-on-311")
    failed = other.wait(other.start("ok", python="3.10", runtime_python="3.11"))
    assert failed["status"] == "build failed"
    assert "saved by Python 3.10" in failed["comment"], failed["comment"]


def _worker_pids(build_id: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if "serving.worker" in cmdline and build_id in cmdline:
                found.append(int(entry.name))
    return found


def test_a_build_running_when_the_server_dies_is_failed_at_restart_not_rerun(bench: Bench) -> None:
    hung = Endpoint(bench, "hangs-at-crash")
    build = hung.start("hangs")
    wait_for(lambda: _worker_pids(build["id"]), bool, 300)
    pid = control.status(bench.state_dir)["pid"]
    os.kill(pid, signal.SIGKILL)  # the server dies while the build's worker runs
    wait_for(lambda: control.status(bench.state_dir)["running"], lambda running: not running, 30)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CMLOPS_LOCAL_BUILD_TIMEOUT", str(TIME_LIMIT))
        # Another port: the killed server's side of the test's keep-alive connections is in TIME_WAIT.
        bench.api.url = control.start(bench.state_dir, wait=60).url
    failed = hung.wait(build, 60)
    assert failed["status"] == "build failed"
    assert "stopped unexpectedly while this build's worker ran (attempt 1)" in failed["comment"]
    assert "not retried" in failed["comment"]
    wait_for(lambda: _worker_pids(build["id"]), lambda pids: not pids, 30)  # the stray worker is gone
    _answers(bench.api)
    time.sleep(1)
    assert "checking" not in control.read_log(bench.state_dir, build["id"]).split("stopped unexpectedly")[-1]
