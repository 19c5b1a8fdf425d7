"""Model deployments: one model-server process per deployment, on its own loopback port.

Statuses ``pending`` -> ``deploying`` -> ``deployed`` (the server wrote its ready file and answers
``GET /health``) or ``failed``; ``:stop`` makes it ``stopped``; a deployed server that exits on its
own makes it ``failed`` (watched every half second), so ``deployed`` always means "answers". CML keeps one active deployment per
model: when a deployment becomes ``deployed``, older active deployments of the same model are
stopped. Routing is by deployment (routes.py): a restarted older deployment answers while it is live,
and stopping it hands the route back to the model's other live deployment. Deployments survive a server restart: at shutdown their processes are killed but their
status kept, and at start-up every ``deployed`` (or half-started) deployment is launched again.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from automation.local.core.ids import new_uuid
from automation.local.core.timefmt import now
from automation.local.state import records
from automation.local.state.keys import sha256_hex
from automation.local.state.records import Build, Deployment, Model
from automation.local.workloads.procs import kill_group, kill_stray, spawn
from automation.local.workloads.routes import Route, RouteTable
from automation.local.workloads.runtime.workload_env import (
    runtime_service_environment,
    service_environment,
)

if TYPE_CHECKING:
    from automation.local.workspace import Workspace

STARTING = frozenset({"pending", "deploying"})
RUNNING = frozenset({"pending", "deploying", "deployed"})
READY_DEADLINE = 180.0
MAX_BODY_BYTES = 5 * 1024 * 1024
MAX_CONCURRENCY = 64
WATCH_EVERY = 0.5  # seconds between liveness checks of a deployed model server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1.0) as resp:
            return resp.status == 200
    except OSError:
        return False


class DeploymentSupervisor:
    """Spawns, watches and stops model-server processes; routes access keys to their ports."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.log = ws.log.getChild("deployments")
        self._lock = threading.RLock()
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self.routes = RouteTable()  # access key -> live deployment, read by the model service
        self._closing = False

    # --- paths ---------------------------------------------------------------------------

    def config_path(self, dep_id: str) -> Path:
        return self.ws.paths.deployment_configs / f"{dep_id}.json"

    def ready_path(self, dep_id: str) -> Path:
        return self.ws.paths.deployment_configs / f"{dep_id}.ready"

    def log_path(self, dep_id: str) -> Path:
        return self.ws.paths.deployment_logs / f"{dep_id}.log"

    # --- create / launch -----------------------------------------------------------------

    def create(self, model: Model, build: Build, fields: Mapping[str, Any]) -> Deployment:
        ts = now()
        dep = Deployment(
            id=new_uuid(),
            project_id=model.project_id,
            model_id=model.id,
            build_id=build.id,
            status="pending",
            created_at=ts,
            updated_at=ts,
            stopped_at=None,
            cpu=float(fields.get("cpu") or 1.0),
            memory=float(fields.get("memory") or 2.0),
            nvidia_gpu=int(fields.get("nvidia_gpus") or 0),
            replicas=int(fields.get("replicas") or 1),
            environment=fields.get("environment") or {},
            extra={"generation": 0, "port": None, "pid": None, "failure_reason": ""},
        )
        records.insert(self.ws.store, dep)
        self._start(dep.id)
        return dep

    def _start(self, dep_id: str) -> None:
        with self._lock:
            dep = records.change(
                self.ws.store,
                Deployment,
                dep_id,
                lambda d: d.with_(generation=d.generation + 1, updated_at=now()),
            )
        if dep is None:
            return
        threading.Thread(
            target=self._launch, args=(dep_id, dep.generation), name=f"deploy-{dep_id}", daemon=True
        ).start()

    def _current(self, dep_id: str, generation: int) -> Deployment | None:
        """The deployment if no newer launch (restart) or a stop replaced this one meanwhile."""
        dep = records.load(self.ws.store, Deployment, dep_id)
        return dep if dep is not None and dep.generation == generation else None

    def _set(self, dep_id: str, generation: int, **changes: Any) -> Deployment | None:
        """Write only if no newer launch (restart) or a stop replaced this one meanwhile."""
        with self._lock:
            if self._current(dep_id, generation) is None:
                return None
            return records.patch(self.ws.store, Deployment, dep_id, **changes, updated_at=now())

    def _process(self, dep: Deployment, build: Build, config: Path) -> tuple[list[str], dict[str, str]]:
        """The model server's command and environment: the interpreter and environment its build used."""
        module = self.ws.serving_module
        python = build.python_executable
        if not python:  # a build made before builds ran on runtimes: cmlops' interpreter, as it was checked
            return [sys.executable, "-m", module, str(config)], service_environment(
                [self.ws.mlflow.env(), dep.environment]
            )
        env = runtime_service_environment(
            path_entries=build.path_entries or [str(Path(python).parent)],
            python_path=self.ws.builds.envs.python_path(build.python),
            home=self.ws.paths.project_dir(dep.project_id),
            layers=[self.ws.mlflow.env(), dep.environment],  # MLflow's store, as before runtimes
        )
        return [python, "-m", module, str(config)], env

    def _write_config(self, dep_id: str, model: Model, build: Build, port: int) -> Path:
        uri = self.ws.mlflow.uri
        if build.file_path:  # a file-based build: the server calls the project's function
            source: dict[str, Any] = {
                "function": {
                    "project_dir": str(self.ws.paths.project_dir(model.project_id)),
                    "file_path": build.file_path,
                    "function_name": build.function_name,
                }
            }
        elif build.model_dir:  # the build's copy of the model, loaded on the build's runtime
            source = {"model_uri": build.model_dir}
            uri = Path(build.model_dir).as_uri()  # nothing to track: the model is a local folder
        else:
            source = {"model_uri": build.model_uri}
        config = {
            **source,
            "tracking_uri": uri,
            "registry_uri": uri,
            "host": "127.0.0.1",
            "port": port,
            "access_key": model.access_key,
            "auth": bool(model.auth_enabled),
            "api_key_sha256": sha256_hex(self.ws.api_key),
            "max_body_bytes": MAX_BODY_BYTES,
            "max_concurrency": MAX_CONCURRENCY,
            "ready_file": str(self.ready_path(dep_id)),
        }
        path = self.config_path(dep_id)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(config, fh, indent=2)
        os.chmod(path, 0o600)
        return path

    def _fail(self, dep_id: str, generation: int, reason: str) -> None:
        self.log.warning("deployment %s failed: %s (log: %s)", dep_id, reason, self.log_path(dep_id))
        with self.log_path(dep_id).open("a", encoding="utf-8") as fh:
            fh.write(f"[cmlops local] deployment failed: {reason}\n")
        self._set(dep_id, generation, status="failed", failure_reason=reason, pid=None)

    def _launch(self, dep_id: str, generation: int) -> None:
        try:
            self._launch_inner(dep_id, generation)
        except Exception as exc:
            self.log.exception("deployment %s crashed in the supervisor", dep_id)
            self._fail(dep_id, generation, f"internal error: {type(exc).__name__}: {exc}")

    def _launch_inner(self, dep_id: str, generation: int) -> None:
        store = self.ws.store
        dep = records.load(store, Deployment, dep_id)
        model = records.load(store, Model, dep.model_id) if dep else None
        build = records.load(store, Build, dep.build_id) if dep else None
        if dep is None or model is None or build is None:
            return
        port = free_port()
        config = self._write_config(dep_id, model, build, port)
        ready = self.ready_path(dep_id)
        ready.unlink(missing_ok=True)
        cmd, env = self._process(dep, build, config)
        with self._lock:
            if self._closing or self._current(dep_id, generation) is None:
                return
            proc = spawn(cmd, cwd=self.ws.paths.root, env=env, log_path=self.log_path(dep_id))
            self._procs[dep_id] = proc
            records.patch(
                store, Deployment, dep_id, status="deploying", port=port, pid=proc.pid, updated_at=now()
            )
        self.log.info("deployment %s starting on port %s (log: %s)", dep_id, port, self.log_path(dep_id))
        deadline = time.monotonic() + READY_DEADLINE
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                self._end(dep_id, proc)  # what it forked before dying goes with it
                self._fail(dep_id, generation, f"the model server exited with code {proc.returncode}")
                return
            if self._current(dep_id, generation) is None:
                self._end(dep_id, proc)  # stopped or restarted meanwhile: this launch's server goes
                return
            if ready.exists() and _healthy(port):
                break
            time.sleep(0.2)
        else:
            with self._lock:
                self._procs.pop(dep_id, None)
            kill_group(proc)
            self._fail(dep_id, generation, f"the model server was not ready within {READY_DEADLINE:.0f} s")
            return
        with self._lock:
            if self._set(dep_id, generation, status="deployed", failure_reason="") is None:
                return
            self.routes.set(model.access_key, Route(dep_id, port, auth=bool(model.auth_enabled)))
        self.log.info("deployment %s deployed on port %s", dep_id, port)
        self._supersede(dep)
        self._watch(dep_id, generation, proc)

    def _watch(self, dep_id: str, generation: int, proc: subprocess.Popen[bytes]) -> None:
        """While it is the deployment's current launch: a model server that exits on its own makes the
        deployment ``failed`` and takes it out of the routes, so its status never claims ``deployed``
        for a server that no longer answers (a stop, a restart or a shutdown ends the watch)."""
        while True:
            time.sleep(WATCH_EVERY)
            if self._current(dep_id, generation) is None:
                return
            if proc.poll() is None:
                continue
            with self._lock:
                if self._closing or self._procs.get(dep_id) is not proc:
                    return  # stopped, restarted or shut down on purpose
                self._procs.pop(dep_id, None)
                self.routes.drop_deployment(dep_id)
            kill_group(proc)  # its large-call worker, forked before serving, would serve on alone
            self._fail(
                dep_id, generation, f"the model server exited with code {proc.returncode} while serving"
            )
            return

    def _supersede(self, dep: Deployment) -> None:
        """One active deployment per model: stop the older ones once the new one serves."""
        for build in records.load_all(self.ws.store, Build, parent=dep.model_id):
            for other in records.load_all(self.ws.store, Deployment, parent=build.id):
                if other.id != dep.id and other.status in RUNNING and other.created_at <= dep.created_at:
                    self.log.info("deployment %s replaced by %s", other.id, dep.id)
                    self.stop(other.id)

    # --- stop / restart ------------------------------------------------------------------

    def _end(self, dep_id: str, proc: subprocess.Popen[bytes]) -> None:
        """End one launch's model server (and what it forked), whether or not it is the current one:
        a launch replaced while starting ends its own server, which nothing else knows of."""
        with self._lock:
            if self._procs.get(dep_id) is proc:
                del self._procs[dep_id]
        kill_group(proc)

    def _kill(self, dep_id: str) -> None:
        with self._lock:
            proc = self._procs.pop(dep_id, None)
            self.routes.drop_deployment(dep_id)
        if proc is not None:
            kill_group(proc)

    def stop(self, dep_id: str) -> Deployment | None:
        """Stop it (idempotent: stopping a stopped deployment returns it unchanged)."""
        with self._lock:
            dep = records.load(self.ws.store, Deployment, dep_id)
            if dep is None:
                return None
            if dep.status not in RUNNING:
                return dep
            ts = now()
            dep = records.change(
                self.ws.store,
                Deployment,
                dep_id,
                lambda d: d.with_(
                    status="stopped", stopped_at=ts, updated_at=ts, pid=None, generation=d.generation + 1
                ),
            )
        self._kill(dep_id)
        self.log.info("deployment %s stopped", dep_id)
        return dep

    def restart(self, dep_id: str) -> Deployment | None:
        self._kill(dep_id)
        dep = records.patch(
            self.ws.store, Deployment, dep_id, status="pending", stopped_at=None, updated_at=now()
        )
        if dep is None:
            return None
        self._start(dep_id)
        return records.load(self.ws.store, Deployment, dep_id)

    def remove(self, dep_id: str) -> None:
        self.stop(dep_id)
        records.remove(self.ws.store, Deployment, dep_id)
        self.config_path(dep_id).unlink(missing_ok=True)
        self.ready_path(dep_id).unlink(missing_ok=True)

    # --- routing -------------------------------------------------------------------------

    def route(self, access_key: str) -> tuple[str, int | None]:
        """(state, port) for an access key: ``deployed``, ``starting``, ``not deployed`` or ``unknown``."""
        hit = self.routes.get(access_key)
        if hit is not None:
            return "deployed", hit.port
        store = self.ws.store
        model = next((m for m in records.load_all(store, Model) if m.access_key == access_key), None)
        if model is None:
            return "unknown", None
        states = [
            d.status
            for b in records.load_all(store, Build, parent=model.id)
            for d in records.load_all(store, Deployment, parent=b.id)
        ]
        return ("starting" if any(s in STARTING for s in states) else "not deployed"), None

    def access_keys(self) -> list[str]:
        """Every model's access key (deployed or not), for the model service's key index."""
        return [m.access_key for m in records.load_all(self.ws.store, Model) if m.access_key]

    # --- server life cycle -----------------------------------------------------------------

    def mark_relaunching(self) -> None:
        """At start-up, before the server answers anyone: what was deployed when the server last
        stopped is ``deploying`` again, so a call arriving before ``restore`` relaunched it waits
        for it (the model service holds calls to a starting deployment) instead of hearing "not
        deployed"."""
        for dep in records.load_all(self.ws.store, Deployment):
            if dep.status == "deployed":
                records.patch(self.ws.store, Deployment, dep.id, status="deploying")

    def restore(self) -> None:
        """At start-up: relaunch what was deployed (or being deployed) when the server last stopped."""
        for dep in records.load_all(self.ws.store, Deployment):
            if dep.status in RUNNING:
                kill_stray(dep.pid, str(self.config_path(dep.id)))
                status = "deploying" if dep.status == "deployed" else dep.status
                records.patch(self.ws.store, Deployment, dep.id, status=status)
                self.log.info("deployment %s: relaunching after a server restart", dep.id)
                self._start(dep.id)

    def shutdown(self) -> None:
        """Kill every model server but keep statuses, so the next start brings them back."""
        with self._lock:
            self._closing = True
            procs = list(self._procs.items())
            self._procs.clear()
            self.routes.clear()
        for _, proc in procs:
            kill_group(proc, grace=3.0)
