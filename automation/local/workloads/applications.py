"""Applications as real subprocesses: the script through the kernel runner, on a loopback port.

Statuses ``APPLICATION_STARTING`` -> ``APPLICATION_RUNNING`` (the process is alive and, if it listens,
its port accepts; a process that has not listened after ``LISTEN_GRACE`` seconds counts as running
too) -> ``APPLICATION_STOPPED`` (``:stop``, or a clean exit) or ``APPLICATION_FAILED`` (non-zero
exit, missing script, a runtime the workspace cannot run). An application starts as a job run does
(``engines.py``: its runtime, default the newest Workbench Standard one, the project's environment,
CML's variables, the project's and the application's environment) plus ``CDSW_APP_PORT``,
``CDSW_READONLY_PORT`` and ``CDSW_PUBLIC_PORT``, all set to one free loopback port. Like deployments, applications survive
a server restart: at shutdown their processes are killed but statuses kept, and at start-up those
starting or running are launched again. Each launch bumps a generation number so a stale watcher
(of a stopped or restarted process) never overwrites a newer status.
"""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from automation.local.core.files import resolve_inside
from automation.local.core.ids import new_engine_id, new_public_id
from automation.local.core.problems import ApiProblem, already_exists
from automation.local.core.timefmt import now
from automation.local.state import records
from automation.local.state.records import Application, Project
from automation.local.workloads.deployments import free_port
from automation.local.workloads.engines import LaunchRefused
from automation.local.workloads.procs import kill_group, kill_stray, spawn
from automation.local.workloads.runtimes import default_identifier

if TYPE_CHECKING:
    from automation.local.workspace import Workspace

STARTING = "APPLICATION_STARTING"
RUNNING = "APPLICATION_RUNNING"
STOPPED = "APPLICATION_STOPPED"
FAILED = "APPLICATION_FAILED"
LIVE = frozenset({STARTING, RUNNING})
STATUS_WORD = {  # ListApplications search_filter speaks lowercase short forms
    STARTING: "starting",
    RUNNING: "running",
    "APPLICATION_STOPPING": "stopping",
    STOPPED: "stopped",
    FAILED: "failed",
    "APPLICATION_UNKNOWN": "unknown",
}
LISTEN_GRACE = 10.0
PORT_VARIABLES = ("CDSW_APP_PORT", "CDSW_READONLY_PORT", "CDSW_PUBLIC_PORT")


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class ApplicationSupervisor:
    """Spawns, watches and stops application processes; the only writer of application statuses."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.log = ws.log.getChild("applications")
        self.logs = ws.paths.logs / "applications"
        self.logs.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._closing = False

    def log_path(self, app_id: str) -> Path:
        return self.logs / f"{app_id}.log"

    def _note(self, app_id: str, text: str) -> None:
        with self.log_path(app_id).open("a", encoding="utf-8") as fh:
            fh.write(f"[cmlops local] {text}\n")

    # --- create / update -----------------------------------------------------------------

    def check_subdomain(self, subdomain: str, app_id: str = "") -> None:
        """Subdomains are unique in a workspace (409 ALREADY_EXISTS naming the holder)."""
        for other in records.load_all(self.ws.store, Application):
            if other.subdomain == subdomain and other.id != app_id:
                raise already_exists(
                    f"subdomain {subdomain!r} is already used by application {other.id!r} "
                    f"({other.name!r}); pick another subdomain"
                )

    def create(self, project: Project, fields: Mapping[str, Any]) -> Application:
        """Store a new application and start it (CML starts on create)."""
        with self._lock:
            self.check_subdomain(fields["subdomain"])
            ts = now()
            app = Application(id="").with_(
                **fields,
                id=new_public_id(),
                project_id=project.id,
                status=STARTING,
                created_at=ts,
                updated_at=ts,
                starting_at=None,
                running_at=None,
                stopped_at=None,
                generation=0,
                pid=None,
                port=None,
                cmd=[],
            )
            records.insert(self.ws.store, app)
        self._start(app.id)
        return records.load(self.ws.store, Application, app.id) or app

    def update(self, app_id: str, changes: Mapping[str, Any]) -> Application | None:
        with self._lock:
            if "subdomain" in changes:
                self.check_subdomain(changes["subdomain"], app_id)
            return records.patch(self.ws.store, Application, app_id, **changes, updated_at=now())

    # --- launch --------------------------------------------------------------------------

    def _start(self, app_id: str) -> None:
        ts = now()
        with self._lock:
            app = records.change(
                self.ws.store,
                Application,
                app_id,
                lambda a: a.with_(
                    status=STARTING,
                    generation=a.generation + 1,
                    starting_at=ts,
                    running_at=None,
                    stopped_at=None,
                    updated_at=ts,
                ),
            )
        if app is None:
            return
        threading.Thread(
            target=self._launch, args=(app_id, app.generation), name=f"app-{app_id}", daemon=True
        ).start()

    def _current(self, app_id: str, generation: int) -> Application | None:
        """The application if no newer launch (restart) or a stop replaced this one meanwhile."""
        app = records.load(self.ws.store, Application, app_id)
        return app if app is not None and app.generation == generation else None

    def _set(self, app_id: str, generation: int, **changes: Any) -> Application | None:
        """Write only if no newer launch (restart) or a stop replaced this one meanwhile."""
        with self._lock:
            if self._current(app_id, generation) is None:
                return None
            return records.patch(self.ws.store, Application, app_id, **changes, updated_at=now())

    def _fail(self, app_id: str, generation: int, reason: str) -> None:
        self._note(app_id, f"application failed: {reason}")
        self.log.warning("application %s failed: %s (log: %s)", app_id, reason, self.log_path(app_id))
        self._set(app_id, generation, status=FAILED, pid=None, stopped_at=now())

    def _launch(self, app_id: str, generation: int) -> None:
        try:
            self._launch_inner(app_id, generation)
        except Exception as exc:  # never leave an application starting because of a bug here
            self.log.exception("application %s crashed in the supervisor", app_id)
            self._fail(app_id, generation, f"internal error: {type(exc).__name__}: {exc}")

    def _launch_inner(self, app_id: str, generation: int) -> None:
        store = self.ws.store
        app = records.load(store, Application, app_id)
        project = records.load(store, Project, app.project_id) if app else None
        if app is None or project is None:
            return
        root = self.ws.paths.project_dir(project.id)
        try:
            script = resolve_inside(root, app.script, field="script", allow_root=False)
        except ApiProblem as problem:
            self._fail(app_id, generation, problem.message)
            return
        if not script.is_file():
            self._fail(app_id, generation, f"script {app.script!r} not found in the project folder {root}")
            return
        port = free_port()
        try:
            launch = self.ws.launcher.prepare(
                project=project,
                runtime_identifier=app.runtime_identifier or default_identifier(),
                script=script,
                arguments=[],
                layers=[project.environment, app.environment],
                engine_id=new_engine_id(),
                tags={"cml.application_id": app_id},
                extra_cml={name: str(port) for name in PORT_VARIABLES},
                note=lambda text: self._note(app_id, text),
            )
        except LaunchRefused as exc:
            self._fail(app_id, generation, str(exc))
            return
        cmd = launch.cmd
        with self._lock:
            if self._closing or self._current(app_id, generation) is None:
                return
            self._note(app_id, f"starting {app.script} on 127.0.0.1:{port}")
            proc = spawn(cmd, cwd=root, env=launch.env, log_path=self.log_path(app_id))
            self._procs[app_id] = proc
            records.patch(
                store,
                Application,
                app_id,
                pid=proc.pid,
                port=port,
                cmd=cmd,
                needle=launch.needle,
                updated_at=now(),
            )
        self.log.info("application %s starting on port %s (log: %s)", app_id, port, self.log_path(app_id))
        self._await_running(app_id, generation, proc, port)
        code = proc.wait()
        kill_group(proc)  # what the script started (a server it forked) ends with it
        with self._lock:
            if self._procs.get(app_id) is proc:
                del self._procs[app_id]
            if self._closing:
                return  # the server is stopping: keep the status, restore() relaunches it
        if code == 0:
            self._note(app_id, "the script exited with code 0")
            self._set(app_id, generation, status=STOPPED, pid=None, stopped_at=now())
        elif self._set(app_id, generation, status=FAILED, pid=None, stopped_at=now()) is not None:
            self._note(app_id, f"the script exited with code {code}")
            self.log.warning("application %s exited with code %s", app_id, code)

    def _await_running(self, app_id: str, generation: int, proc: subprocess.Popen[bytes], port: int) -> None:
        """RUNNING once the port accepts, or once the process has lived LISTEN_GRACE s without listening."""
        deadline = time.monotonic() + LISTEN_GRACE
        while proc.poll() is None:
            if _accepts(port) or time.monotonic() > deadline:
                if proc.poll() is None and self._set(app_id, generation, status=RUNNING, running_at=now()):
                    self.log.info("application %s running on port %s", app_id, port)
                return
            if self._current(app_id, generation) is None:
                return
            time.sleep(0.1)

    # --- stop / restart / delete ---------------------------------------------------------

    def _kill(self, app_id: str) -> None:
        with self._lock:
            proc = self._procs.pop(app_id, None)
        if proc is not None:
            kill_group(proc)

    def stop(self, app_id: str) -> Application | None:
        """Stop it and kill its process group (idempotent: a stopped application comes back unchanged)."""
        with self._lock:
            app = records.load(self.ws.store, Application, app_id)
            if app is None or app.status not in LIVE:
                return app
            ts = now()
            app = records.change(
                self.ws.store,
                Application,
                app_id,
                lambda a: a.with_(
                    status=STOPPED, stopped_at=ts, updated_at=ts, pid=None, generation=a.generation + 1
                ),
            )
        self._kill(app_id)
        self._note(app_id, "stopped on request (:stop)")
        self.log.info("application %s stopped", app_id)
        return app

    def restart(self, app_id: str) -> Application | None:
        with self._lock:
            records.change(
                self.ws.store, Application, app_id, lambda a: a.with_(generation=a.generation + 1, pid=None)
            )
        self._kill(app_id)
        self._start(app_id)
        return records.load(self.ws.store, Application, app_id)

    def remove(self, app_id: str) -> None:
        self.stop(app_id)
        records.remove(self.ws.store, Application, app_id)

    # --- server life cycle -----------------------------------------------------------------

    def restore(self) -> None:
        """At start-up: relaunch what was starting or running when the server last stopped."""
        for app in records.load_all(self.ws.store, Application):
            if app.status in LIVE:
                kill_stray(app.pid, app.needle or "")
                self.log.info("application %s: relaunching after a server restart", app.id)
                self._start(app.id)

    def shutdown(self) -> None:
        """Kill every application process but keep statuses, so the next start brings them back."""
        with self._lock:
            self._closing = True
            procs = list(self._procs.values())
            self._procs.clear()
        for proc in procs:
            kill_group(proc, grace=3.0)
