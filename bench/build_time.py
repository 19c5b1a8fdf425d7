"""How long a registry model build takes on the local workspace, first (cold) and again (warm).

    python bench/build_time.py [--python 3.10] [--builds 3] [--state-dir DIR]

Starts a fresh local workspace, trains a small scikit-learn model as a job on the Standard runtime
of ``--python`` (the job pip-installs scikit-learn, as CML users do), registers it, then builds that
version ``--builds`` times into a model endpoint of another project, one after the other, and
prints each build's wall time (POST to ``built``) and the deployment's time to ``deployed``. The
first build is *cold* (a fresh workspace: its model environment is created and the model's
requirements installed), the later ones *warm*. It measures whatever ``automation`` is importable,
so the same command measures two checkouts: ``PYTHONPATH=<checkout> python bench/build_time.py``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from automation.local import control
from automation.local.workloads.runtime.prepare import default_wheelhouse

TRAIN = """
!pip3 install --quiet scikit-learn
import mlflow, mlflow.sklearn
import pandas as pd
from mlflow.models import infer_signature
from sklearn.linear_model import LinearRegression

mlflow.set_experiment("bench-build")
with mlflow.start_run() as run:
    X = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [0.0, 1.0, 0.0, 2.0]})
    model = LinearRegression().fit(X, X["a"] + 2 * X["b"])
    mlflow.sklearn.log_model(model, "model", signature=infer_signature(X, model.predict(X)), input_example=X[:1])
    print("RUN_ID=" + run.info.run_id)
"""


class Client:
    def __init__(self, url: str, key: str) -> None:
        self.url = url
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.headers["Authorization"] = f"Bearer {key}"

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        resp = self.session.request(method, self.url + path, timeout=60, **kwargs)
        if resp.status_code != 200:
            raise SystemExit(f"{method} {path}: {resp.status_code} {resp.text}")
        return resp.json()

    def wait(self, path: str, done: tuple[str, ...], deadline: float = 900) -> dict[str, Any]:
        end = time.monotonic() + deadline
        while True:
            doc = self.call("GET", path)
            if doc["status"] in done or time.monotonic() > end:
                return doc
            time.sleep(0.1)


def runtime_of(api: Client, python: str) -> str:
    search = f'{{"kernel": "Python {python}", "editor": "Workbench"}}'
    found = api.call("GET", "/api/v2/runtimes", params={"search_filter": search})["runtimes"]
    return max(found, key=lambda r: r["full_version"])["image_identifier"]


def train(api: Client, state_dir: Path, runtime: str) -> str:
    project = api.call("POST", "/api/v2/projects", json={"name": "bench-dev", "template": "blank"})
    api.call(
        "POST", f"/api/v2/projects/{project['id']}/files", files={"train.py": ("upload", TRAIN.encode())}
    )
    job = api.call(
        "POST",
        f"/api/v2/projects/{project['id']}/jobs",
        json={"name": "train", "script": "train.py", "runtime_identifier": runtime},
    )
    run = api.call("POST", f"/api/v2/projects/{project['id']}/jobs/{job['id']}/runs", json={})
    path = f"/api/v2/projects/{project['id']}/jobs/{job['id']}/runs/{run['id']}"
    run = api.wait(path, ("ENGINE_SUCCEEDED", "ENGINE_FAILED", "ENGINE_STOPPED", "ENGINE_TIMEDOUT"))
    log = control.read_log(state_dir, run["id"])
    if run["status"] != "ENGINE_SUCCEEDED":
        raise SystemExit(f"training failed:\n{log}")
    return next(line.split("=", 1)[1].strip() for line in log.splitlines() if line.startswith("RUN_ID="))


def measure(api: Client, state_dir: Path, python: str, builds: int) -> None:
    runtime = runtime_of(api, python)
    run_id = train(api, state_dir, runtime)
    reg = api.call(
        "POST",
        "/api/v2/registry/models",
        json={"run_id": run_id, "model_path": "model", "model_name": "bench"},
    )
    version_id = reg["model_versions"][0]["model_version_id"]
    prd = api.call("POST", "/api/v2/projects", json={"name": "bench-prd", "template": "blank"})
    model = api.call("POST", f"/api/v2/projects/{prd['id']}/models", json={"name": "bench-endpoint"})
    base = f"/api/v2/projects/{prd['id']}/models/{model['id']}/builds"
    last: dict[str, Any] = {}
    for number in range(builds):
        started = time.monotonic()
        body = {"registered_model_version_id": version_id, "runtime_identifier": runtime}
        build = api.call("POST", base, json=body)
        last = api.wait(f"{base}/{build['id']}", ("built", "build failed"))
        label = "cold" if number == 0 else "warm"
        print(
            f"build {number + 1} ({label}): {time.monotonic() - started:6.2f} s  {last['status']}", flush=True
        )
        if last["status"] != "built":
            print(control.read_log(state_dir, last["id"]))
            return
    started = time.monotonic()
    dep = api.call("POST", f"{base}/{last['id']}/deployments", json={})
    dep = api.wait(f"{base}/{last['id']}/deployments/{dep['id']}", ("deployed", "failed"))
    print(f"deployment:          {time.monotonic() - started:6.2f} s  {dep['status']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default="3.10")
    parser.add_argument("--builds", type=int, default=3)
    parser.add_argument("--state-dir", help="a new folder for the workspace (default: a temporary one)")
    args = parser.parse_args()
    # Offline, as the test suite: the job's pip install reads `cmlops local prepare`'s wheelhouse.
    os.environ.setdefault("CMLOPS_LOCAL_PIP_FIND_LINKS", str(default_wheelhouse()))
    os.environ.setdefault("CMLOPS_LOCAL_PIP_NO_INDEX", "1")
    with tempfile.TemporaryDirectory() as tmp:
        state_dir = Path(args.state_dir or Path(tmp) / ".cmlops")
        workspace = control.start(state_dir, wait=120)
        try:
            measure(Client(workspace.url, workspace.api_key), state_dir, args.python, args.builds)
        finally:
            control.stop(state_dir)


if __name__ == "__main__":
    main()
