"""Routing by deployment on the live local workspace: a model's route follows its live deployments,
whatever is restarted or stopped in whatever order, and ``deployed`` means "answers".

Issue 13's route loss: restarting an older deployment of a model and then stopping it took the route
of the newer, live deployment with it (``/model`` answered 503 while the API said ``deployed``).
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import psutil
from local_support import wait_for

from automation.local import control
from automation.local.workloads.procs import alive

TEMPLATE = "def predict(args):\n    return {{'version': {n}}}\n"
FINAL = ("deployed", "failed", "stopped")


class Model:
    """A file-based model with two builds (answering 1 and 2), each deployed once."""

    def __init__(self, api, local, runtime: str, name: str) -> None:
        self.api, self.local = api, local
        project = api.project(name)
        for n in (1, 2):
            api.upload(project["id"], f"predict{n}.py", TEMPLATE.format(n=n))
        self.model = api.ok("POST", f"/api/v2/projects/{project['id']}/models", json={"name": name})
        self.base = f"/api/v2/projects/{project['id']}/models/{self.model['id']}/builds"
        self.builds = [self._build(runtime, n) for n in (1, 2)]
        self.deps = [self._deploy(b) for b in self.builds]  # the second one supersedes the first

    def _build(self, runtime: str, n: int) -> str:
        body = {"file_path": f"predict{n}.py", "function_name": "predict", "runtime_identifier": runtime}
        build = self.api.ok("POST", self.base, json=body)
        build = wait_for(
            lambda: self.api.ok("GET", f"{self.base}/{build['id']}"),
            lambda b: b["status"] in ("built", "build failed"),
        )
        assert build["status"] == "built", control.read_log(self.local.state_dir, build["id"])
        return build["id"]

    def _path(self, dep: str) -> str:
        return f"{self.base}/{self.builds[self.deps.index(dep)]}/deployments/{dep}"

    def _deploy(self, build: str) -> str:
        dep = self.api.ok("POST", f"{self.base}/{build}/deployments", json={})
        path = f"{self.base}/{build}/deployments/{dep['id']}"
        done = wait_for(lambda: self.api.ok("GET", path), lambda d: d["status"] in FINAL)
        assert done["status"] == "deployed", control.read_log(self.local.state_dir, dep["id"])
        return dep["id"]

    def status(self, dep: str) -> dict[str, Any]:
        return self.api.ok("GET", self._path(dep))

    def act(self, dep: str, action: str, until: tuple[str, ...]) -> dict[str, Any]:
        self.api.ok("POST", f"{self._path(dep)}:{action}")
        return wait_for(lambda: self.status(dep), lambda d: d["status"] in until)

    def answer(self) -> tuple[int, Any]:
        ws = self.local.workspace
        resp = self.api.session.post(
            ws.model_service_url,
            json={"accessKey": self.model["access_key"], "request": {}},
            headers={"Authorization": f"Bearer {ws.api_key}"},
            timeout=30,
        )
        body = resp.json()
        return resp.status_code, body["response"]["version"] if body.get("success") else body


def test_restarting_then_stopping_the_older_deployment_keeps_the_newer_one_answering(api, local, runtime):
    m = Model(api, local, runtime, "route-restart-stop")
    older, newer = m.deps
    assert m.status(older)["status"] == "stopped"  # one active deployment per model
    assert m.answer() == (200, 2)

    assert m.act(older, "restart", FINAL)["status"] == "deployed"
    assert m.status(newer)["status"] == "deployed"
    assert m.answer() == (200, 1)  # the deployment made live last answers

    assert m.act(older, "stop", ("stopped",))["status"] == "stopped"
    assert m.answer() == (200, 2), "stopping the older deployment took the newer one's route"
    assert m.status(newer)["status"] == "deployed"

    # the other order: restart the older one, stop the newer one: the older one answers
    assert m.act(older, "restart", FINAL)["status"] == "deployed"
    assert m.act(newer, "stop", ("stopped",))["status"] == "stopped"
    assert m.answer() == (200, 1)
    assert m.act(older, "stop", ("stopped",))["status"] == "stopped"
    code, body = m.answer()
    assert code == 503 and body["success"] is False  # nothing serves, and the front says so


def test_a_model_server_that_dies_is_not_reported_deployed(api, local, runtime):
    m = Model(api, local, runtime, "route-liveness")
    newer = m.deps[1]
    server, worker = _server_pids(newer)  # the server and the large-call worker it forked
    assert psutil.Process(worker).ppid() == server
    os.kill(server, signal.SIGKILL)
    failed = wait_for(lambda: m.status(newer), lambda d: d["status"] != "deployed", deadline=15)
    assert failed["status"] == "failed"
    assert "exited" in control.read_log(local.state_dir, newer)
    code, _ = m.answer()
    assert code == 503
    # nothing of it serves on: the worker it forked goes with it
    assert wait_for(lambda: _server_pids(newer), lambda pids: pids == [], deadline=15) == []


def _server_pids(dep_id: str) -> list[int]:
    """The processes of a deployment's model server (started with its config file), oldest first."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(arg.endswith(f"{dep_id}.json".encode()) for arg in argv) and alive(int(proc.name)):
            found.append(int(proc.name))
    return sorted(found, key=lambda pid: psutil.Process(pid).create_time())
