"""Model builds: prove a model will serve, in a worker process on the build's runtime, with a time limit.

A build never loads user code in the API server. For each build the server prepares the environment
the model will run in (``runtime/build_envs.py``: for a registry version, the runtime named by
``runtime_identifier`` plus the model's requirements, and a copy of the model under
``builds/<id>/model``, which the deployments serve; for a file-based model, its project's
environment) and starts ``python -m <serving>.worker`` there. The worker loads the model and
predicts once on its input example (or imports the project file and checks the function). Whatever
the model's code does (exits, crashes, hangs), only the worker suffers: the build fails with the
reason (the worker's last line, or its exit code and the tail of its output, or "timed out after
N s"), and other builds carry on (up to ``PARALLEL_BUILDS`` at once, so one hung build delays none).

The time limit is ``CMLOPS_LOCAL_BUILD_TIMEOUT`` seconds in the server's environment (default 600).
Statuses ``queued`` -> ``pending`` -> ``built`` or ``build failed`` (lowercase free text, as CML).
The API has no field for a failure reason and we invent none: the reason goes to the server log and
the build's log (``cmlops local logs <build_id>``, which also holds the worker's output), and is
appended to ``comment`` as ``" [build failed: why]"``.

Restarts: each start of a build is counted in its ``attempts`` and its worker's pid kept. A clean stop
of the server puts running builds back to ``queued`` (retried at the next start). A build found
with a worker at start-up was running when the server died: it is marked failed, never retried
(the model may be what brought the server down), and its stray worker is killed.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from automation.local.core.files import resolve_inside
from automation.local.core.ids import new_uuid
from automation.local.core.timefmt import now, rfc3339
from automation.local.state import records
from automation.local.state.records import Build, Model
from automation.local.workloads.engines import check_runtime
from automation.local.workloads.procs import kill_group, kill_stray, spawn
from automation.local.workloads.runtime.build_envs import BuildEnvironments, model_requirements
from automation.local.workloads.runtime.environments import RuntimeUnavailable
from automation.local.workloads.runtime.workload_env import (
    engine_environment,
    runtime_service_environment,
)
from automation.local.workloads.runtimes import profile_of

if TYPE_CHECKING:
    from automation.local.workspace import Workspace

ACTIVE = frozenset({"queued", "pending"})
PARALLEL_BUILDS = 4
TIME_LIMIT_VARIABLE = "CMLOPS_LOCAL_BUILD_TIMEOUT"
DEFAULT_TIME_LIMIT = 600.0
MAX_ATTEMPTS = 3
WORKER = "the build worker"
DEFAULT_BUILD_SCRIPT = "cdsw-build.sh"
EXIT_BUILD_FAILED = 10  # the worker's "the model is not fine" (automation.errors.EXIT_BUILD_FAILED)
_TAIL_LINES = 3


class BuildRefused(Exception):
    """The build cannot run; the message is the build's failure reason."""


class _Closing(Exception):
    """The server is stopping: leave the build for the next start."""


@dataclass(frozen=True)
class Step:
    """One process of a build: the build script (file-based models), then the worker."""

    label: str  # "the build script 'cdsw-build.sh'", "the build worker"
    cmd: list[str]
    env: dict[str, str]
    cwd: Path


@dataclass(frozen=True)
class WorkerLaunch:
    steps: list[Step]
    record: dict[str, Any]  # what the deployments need: the interpreter, PATH entries, the model's copy


def build_time_limit() -> float:
    """``CMLOPS_LOCAL_BUILD_TIMEOUT`` (seconds, > 0) or the default."""
    raw = os.environ.get(TIME_LIMIT_VARIABLE, "").strip()
    try:
        value = float(raw) if raw else DEFAULT_TIME_LIMIT
    except ValueError:
        return DEFAULT_TIME_LIMIT
    return value if value > 0 else DEFAULT_TIME_LIMIT


def _exit_text(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


class BuildWorker:
    """Queues builds and runs each one's worker process, several at once."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.log = ws.log.getChild("builds")
        self.time_limit = build_time_limit()
        self.envs = BuildEnvironments(ws.environments, ws.paths.model_envs, ws.paths.serving_wrapper)
        self._pool = ThreadPoolExecutor(max_workers=PARALLEL_BUILDS, thread_name_prefix="build")
        self._lock = threading.Lock()
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._closing = False

    def create(self, model: Model, fields: Mapping[str, Any], model_uri: str) -> Build:
        ts = now()
        queued = {
            "id": new_uuid(),
            "model_id": model.id,
            "project_id": model.project_id,
            "status": "queued",
            "created_at": ts,
            "updated_at": ts,
            "built_at": None,
            "model_uri": model_uri,
            "failure_reason": "",
            "attempts": 0,
            "worker_pid": None,
        }
        build = Build(id="").with_(**{**queued, **fields})
        records.insert(self.ws.store, build)
        self.log.info("build %s of model %s queued for %s", build.id, model.id, model_uri or "a file")
        self._pool.submit(self._build, build.id)
        return build

    def _set(self, build_id: str, **changes: Any) -> Build | None:
        return records.patch(self.ws.store, Build, build_id, **changes, updated_at=now())

    def log_path(self, build_id: str) -> Path:
        return self.ws.paths.build_logs / f"{build_id}.log"

    def _note(self, build_id: str, text: str) -> None:
        with self.log_path(build_id).open("a", encoding="utf-8") as fh:
            fh.write(f"{rfc3339(now())} {text}\n")

    # --- preparing the worker --------------------------------------------------------------------

    def _python_of(self, build: Build) -> str:
        refusal = check_runtime(build.runtime_identifier)
        if refusal:
            raise BuildRefused(refusal)
        profile = profile_of(build.runtime_identifier)
        assert profile is not None
        return profile.python

    def _fetch_model(self, build: Build) -> Path:
        """Copy the registered version's artifacts to ``builds/<id>/model`` (no user code runs here)."""
        from mlflow.artifacts import download_artifacts

        match = re.fullmatch(r"models:/(?P<name>.+)/(?P<version>\d+)", build.model_uri)
        if match is None:
            raise BuildRefused(f"model {build.model_uri!r} is not a registered model version")
        self.ws.mlflow.wait_ready()
        uri = self.ws.mlflow.uri
        try:
            source = self.ws.mlflow.client().get_model_version_download_uri(match["name"], match["version"])
            dest = self.ws.paths.builds / build.id
            dest.mkdir(parents=True, exist_ok=True)
            local = Path(download_artifacts(artifact_uri=source, dst_path=str(dest), tracking_uri=uri))
        except Exception as exc:  # mlflow raises many kinds; the build needs one line
            raise BuildRefused(
                f"cannot fetch model {build.model_uri!r}: {type(exc).__name__}: {exc}"
            ) from None
        if not (local / "MLmodel").is_file():
            raise BuildRefused(f"{build.model_uri!r} is not an MLflow model (no MLmodel file)")
        return local

    def _prepare(self, build: Build) -> WorkerLaunch:
        build_id = build.id
        python = self._python_of(build)
        project_dir = self.ws.paths.project_dir(build.project_id)
        note = lambda text: self._note(build_id, text)  # noqa: E731
        if not self.ws.environments.runtime_ready(python):
            note(
                f"preparing the Standard runtime environment for Python {python} (first use on this machine)"
            )
        try:
            if build.file_path:
                env = self.ws.environments.project_env(self.ws.paths.project_envs(build.project_id), python)
                task = ["function", str(project_dir), build.file_path, build.function_name]
                model_dir = ""
            else:
                local = self._fetch_model(build)
                requirements = local / "requirements.txt"
                text = (
                    requirements.read_text(encoding="utf-8", errors="replace")
                    if requirements.is_file()
                    else ""
                )
                env = self.envs.model_env(python, model_requirements(text), note)
                task = ["model", str(local)]
                model_dir = str(local)
            python_path = self.envs.python_path(python)
        except RuntimeUnavailable as exc:
            raise BuildRefused(str(exc)) from None
        note(f"build environment: {env.root} (Python {python})")
        record = {
            "python": python,
            "python_executable": str(env.python),
            "path_entries": env.path_entries,
            "model_dir": model_dir,
        }
        environment = runtime_service_environment(
            path_entries=env.path_entries, python_path=python_path, home=project_dir, layers=[]
        )
        cmd = [str(env.python), "-m", f"{self.ws.serving_module}.worker", "--build", build_id, *task]
        steps = [Step(WORKER, cmd, environment, self.ws.paths.root)]
        if build.file_path:
            steps[:0] = self._build_script(build, env.path_entries)
        return WorkerLaunch(steps, record)

    def _build_script(self, build: Build, path_entries: list[str]) -> list[Step]:
        """CML runs the project's build script (``build_script_path``, by default ``cdsw-build.sh``
        when the project has one) in the build, typically to install requirements: here with bash in
        the project's folder and environment, so its ``pip install`` lands in the project environment."""
        project_dir = self.ws.paths.project_dir(build.project_id)
        name = build.build_script_path or DEFAULT_BUILD_SCRIPT
        try:
            script = resolve_inside(project_dir, name, field="build_script_path", allow_root=False)
        except Exception:  # checked when the build was created; the project may have changed since
            raise BuildRefused(f"build_script_path {name!r} must stay inside the project folder") from None
        if not script.is_file():
            if build.build_script_path:
                raise BuildRefused(f"build_script_path {name!r} is not a file of the project")
            return []
        env = engine_environment(
            home=project_dir,
            path_entries=path_entries,
            layers=[],
            cml={"CDSW_PROJECT_ID": build.project_id, "CDSW_MODEL_ID": build.model_id},
            hostname=f"build-{build.id[:8]}",
        )
        # The build's id on the command line lets a restarted server recognise a stray script.
        cmd = ["/bin/bash", "-c", '/bin/bash "$1"', f"cmlops-build-{build.id}", str(script)]
        return [Step(f"the build script {name!r}", cmd, env, project_dir)]

    # --- running it ------------------------------------------------------------------------------

    def _run_steps(self, build_id: str, launch: WorkerLaunch) -> str | None:
        """None when every step succeeds (the worker says the model is fine); otherwise the reason."""
        self._set(build_id, **launch.record)
        for step in launch.steps:
            reason = self._run_step(build_id, step)
            if reason is not None:
                return reason
        return None

    def _run_step(self, build_id: str, step: Step) -> str | None:
        log_path = self.log_path(build_id)
        offset = log_path.stat().st_size if log_path.exists() else 0
        with self._lock:
            if self._closing:
                raise _Closing
            proc = spawn(step.cmd, cwd=step.cwd, env=step.env, log_path=log_path)
            self._procs[build_id] = proc
            self._set(build_id, worker_pid=proc.pid)
        started = time.monotonic()
        try:
            code = proc.wait(timeout=self.time_limit)
        except subprocess.TimeoutExpired:
            kill_group(proc, grace=2.0)
            return (
                f"{step.label} timed out after {self.time_limit:g} s "
                f"(the limit is {TIME_LIMIT_VARIABLE} in the workspace's environment)"
            )
        finally:
            with self._lock:
                self._procs.pop(build_id, None)
        if self._closing:
            raise _Closing
        tail = self._tail(log_path, offset)
        self._note(build_id, f"{step.label} {_exit_text(code)} after {time.monotonic() - started:.1f} s")
        if code == 0:
            return None
        if code == EXIT_BUILD_FAILED and tail and step.label == WORKER:
            return tail[-1]
        said = f"; its last output: {' | '.join(tail)}" if tail else " without any output"
        return f"{step.label} {_exit_text(code)}{said}"

    @staticmethod
    def _tail(log_path: Path, offset: int) -> list[str]:
        try:
            with log_path.open("rb") as fh:
                fh.seek(offset)
                text = fh.read().decode(errors="replace")
        except OSError:
            return []
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        return [line[:300] for line in lines[-_TAIL_LINES:]]

    def _build(self, build_id: str) -> None:
        try:
            build = records.change(
                self.ws.store,
                Build,
                build_id,
                lambda b: b.with_(status="pending", attempts=int(b.attempts or 0) + 1, updated_at=now()),
            )
            if build is None:
                return
            what = f"{build.file_path}:{build.function_name}" if build.file_path else build.model_uri
            self._note(build_id, f"checking {what}")
            reason = self._run_steps(build_id, self._prepare(build))
            if reason is not None and build.model_uri:
                reason += self._python_mismatch(build_id)
        except _Closing:
            return
        except BuildRefused as exc:
            reason = str(exc)
        except Exception as exc:  # a bug here must not leave the build pending forever
            self.log.exception("build %s crashed", build_id)
            reason = f"internal error: {type(exc).__name__}: {exc}"
        self._finish(build_id, reason)

    def _finish(self, build_id: str, reason: str | None) -> None:
        if records.load(self.ws.store, Build, build_id) is None:
            return  # deleted meanwhile
        if reason is None:
            build = self._set(build_id, status="built", built_at=now(), worker_pid=None)
            self._note(build_id, "built")
            self.log.info("build %s built", build_id)
            if build and build.auto_deploy_model:
                self._auto_deploy(build)
        else:
            self._set(build_id, status="build failed", failure_reason=reason, worker_pid=None)
            self._note(build_id, f"build failed: {reason}")
            self.log.warning("build %s failed: %s", build_id, reason)

    def _python_mismatch(self, build_id: str) -> str:
        """Why a model pickled by another Python may not load on the build's runtime."""
        build = records.load(self.ws.store, Build, build_id) or Build(id=build_id)
        mlmodel = Path(build.model_dir or "/nonexistent") / "MLmodel"
        try:
            found = re.search(r"python_version:\s*['\"]?(\d+\.\d+)", mlmodel.read_text(encoding="utf-8"))
        except OSError:
            return ""
        runtime = build.python
        if found is None or not runtime or found[1] == runtime:
            return ""
        return (
            f" (the model was saved by Python {found[1]} and this build runs on a Python {runtime} runtime: "
            "code pickled by value, such as a PythonModel class defined in the training script, does "
            f"not load across Python versions; build it on a Python {found[1]} runtime)"
        )

    def _auto_deploy(self, build: Build) -> None:
        model = records.load(self.ws.store, Model, build.model_id)
        if model is None:
            return
        config = build.auto_deployment_config or {}
        self.ws.deployments.create(model, build, config)

    def remove(self, build_id: str) -> None:
        """Forget a build: stop its worker if it runs, delete its record and its copy of the model."""
        with self._lock:
            proc = self._procs.pop(build_id, None)
        if proc is not None:
            kill_group(proc, grace=2.0)
        records.remove(self.ws.store, Build, build_id)
        shutil.rmtree(self.ws.paths.builds / build_id, ignore_errors=True)

    # --- server life cycle -----------------------------------------------------------------------

    def recover(self) -> None:
        """At start-up: queue again what a clean stop left queued; fail what a crash interrupted."""
        for build in records.load_all(self.ws.store, Build):
            if build.status not in ACTIVE:
                continue
            attempts = int(build.attempts or 0)
            if build.worker_pid:
                kill_stray(build.worker_pid, build.id, grace=2.0)
                self._fail_on_start(
                    build.id,
                    f"the workspace stopped unexpectedly while this build's worker ran (attempt {attempts}); "
                    "not retried, since the model may be what stopped it: start a new build",
                )
            elif attempts >= MAX_ATTEMPTS:
                self._fail_on_start(build.id, f"interrupted {attempts} times by server restarts; not retried")
            else:
                self._set(build.id, status="queued")
                self._pool.submit(self._build, build.id)

    def _fail_on_start(self, build_id: str, reason: str) -> None:
        self._set(build_id, status="build failed", failure_reason=reason, worker_pid=None)
        self._note(build_id, f"build failed: {reason}")
        self.log.warning("build %s failed: %s", build_id, reason)

    def shutdown(self) -> None:
        """Stop running workers; their builds go back to ``queued`` for the next start."""
        with self._lock:
            self._closing = True
            running = dict(self._procs)
            self._procs.clear()
        for build_id, proc in running.items():
            kill_group(proc, grace=2.0)
            self._set(build_id, status="queued", worker_pid=None)
            self._note(build_id, "interrupted: the workspace stopped; the build runs again at the next start")
        self._pool.shutdown(wait=False, cancel_futures=True)
