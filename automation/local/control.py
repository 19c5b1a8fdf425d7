"""Start, stop and inspect the local workspace server from the CLI (or tests).

Light to import, so ``cmlops`` stays fast (psutil and filelock load when first used): the server (FastAPI, MLflow) runs in its own
detached process (``python -m automation.local.server``) and is probed with urllib.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from automation.errors import CmlopsError, InputError, WaitTimeout
from automation.local.state import serverlock
from automation.local.state.keys import load_or_create_api_key
from automation.local.state.paths import StatePaths
from automation.local.workloads.procs import alive, cmdline, exclusive_lock, kill_stray

SERVER_MODULE = "automation.local.server"
STOP_WAIT = 30.0
_ACTIVE_RUNS = ("ENGINE_SCHEDULING", "ENGINE_STARTING", "ENGINE_RUNNING", "ENGINE_STOPPING")
_LOG_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}  # servers this process spawned (reaped on stop)
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class LocalWorkspace:
    """How to reach a running local workspace. The key never shows in a repr."""

    url: str
    api_key: str
    model_service_url: str
    pid: int
    state_dir: Path

    def __repr__(self) -> str:
        return (
            f"LocalWorkspace(url={self.url!r}, api_key='***', model_service_url={self.model_service_url!r}, "
            f"pid={self.pid}, state_dir={str(self.state_dir)!r})"
        )


# --- helpers ---------------------------------------------------------------------------------


@contextlib.contextmanager
def _locked(paths: StatePaths) -> Iterator[None]:
    """One starter/stopper at a time per state folder (two CLIs must not start two servers)."""
    paths.ensure()
    with exclusive_lock(paths.lock):
        yield


def _read_info(paths: StatePaths) -> dict[str, Any] | None:
    """The running server's address: server.json, else what the holder of the server lock wrote."""
    try:
        info = json.loads(paths.server_json.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        info = None
    if isinstance(info, dict) and isinstance(info.get("pid"), int) and _is_server(info["pid"]):
        return info
    return serverlock.holder(paths) or (info if isinstance(info, dict) else None)


def _healthy(url: str, timeout: float = 2.0) -> bool:
    try:
        with _NO_PROXY.open(url.rstrip("/") + "/health", timeout=timeout) as resp:
            return resp.status == 200 and json.loads(resp.read() or b"{}").get("status") == "ok"
    except (OSError, ValueError):
        return False


def _gone(pid: int) -> bool:
    """True once ``pid`` has exited (a zombie counts as exited; our own children are reaped)."""
    child = _CHILDREN.get(pid)
    if child is not None:
        if child.poll() is not None:
            _CHILDREN.pop(pid, None)
            return True
        return False
    return not alive(pid)


def _is_server(pid: int) -> bool:
    return not _gone(pid) and SERVER_MODULE in cmdline(pid)


def _live(paths: StatePaths) -> LocalWorkspace | None:
    info = _read_info(paths)
    if not info or not isinstance(info.get("pid"), int) or not _is_server(info["pid"]):
        return None
    if not _healthy(str(info.get("url", ""))):
        return None
    return LocalWorkspace(
        url=info["url"],
        api_key=load_or_create_api_key(paths.api_key),
        model_service_url=info.get("model_service_url", info["url"] + "/model"),
        pid=info["pid"],
        state_dir=paths.root,
    )


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _child_env() -> dict[str, str]:
    """The server must import ``automation`` even when cmlops runs from a source checkout."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


# --- public API ------------------------------------------------------------------------------


def start(state_dir: Path, port: int | None = None, wait: float = 30) -> LocalWorkspace:
    """Start a server for ``state_dir`` (detached) and wait until /health answers.

    If a live server already serves this state folder it is returned as is (``port`` is then
    ignored), so ``start`` is idempotent.
    """
    paths = StatePaths.of(state_dir)
    with _locked(paths):
        live = _live(paths)
        if live is not None:
            return live
        stale = (_read_info(paths) or {}).get("pid")
        if isinstance(stale, int) and _is_server(stale):  # alive but not answering: hung, replace it
            kill_stray(stale, str(paths.root))
        if port is not None and not (0 < port < 65536):
            raise InputError(f"--port must be between 1 and 65535, got {port}")
        if port and not _port_free(port):
            raise InputError(
                f"port {port} on 127.0.0.1 is in use", hint="pick another --port or leave it out"
            )
        load_or_create_api_key(paths.api_key)
        cmd = [sys.executable, "-m", SERVER_MODULE, "--state-dir", str(paths.root)]
        if port:
            cmd += ["--port", str(port)]
        with open(paths.server_log, "ab") as log:
            proc = subprocess.Popen(
                cmd,
                cwd=paths.root,
                env=_child_env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _CHILDREN[proc.pid] = proc
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                _CHILDREN.pop(proc.pid, None)
                raise CmlopsError(
                    f"the local workspace server exited with code {proc.returncode} during start-up",
                    hint=f"see {paths.server_log}:\n{_tail(paths.server_log)}",
                )
            info = _read_info(paths)
            if info and info.get("pid") == proc.pid and _healthy(str(info.get("url", "")), timeout=1.0):
                live = _live(paths)
                if live is not None:
                    return live
            time.sleep(0.1)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        _CHILDREN.pop(proc.pid, None)
        raise WaitTimeout(
            f"the local workspace server did not answer /health within {wait:.0f} s",
            hint=f"see {paths.server_log}",
        )


def ensure_running(state_dir: Path) -> LocalWorkspace:
    """Reuse the live server of ``state_dir`` (pid alive and /health answering) or start one."""
    paths = StatePaths.of(state_dir)
    live = _live(paths)
    return live if live is not None else start(paths.root)


def ui_login(state_dir: Path) -> dict[str, Any]:
    """Start (or reuse) the server and ask it for a one-time login link to its web UI."""
    ws = ensure_running(state_dir)
    request = urllib.request.Request(
        ws.url + "/ui/token", data=b"", method="POST", headers={"Authorization": f"Bearer {ws.api_key}"}
    )
    try:
        with _NO_PROXY.open(request, timeout=10) as resp:
            body = json.loads(resp.read())
    except (OSError, ValueError) as exc:
        raise CmlopsError(
            f"the local workspace at {ws.url} gave no login link: {exc}",
            hint=f"see {ws.state_dir}/logs/server.log",
        ) from None
    return {"url": ui_url(ws.url), "login_url": body["login_url"], "expires_in": body["expires_in"]}


def ui_url(url: str) -> str:
    """The web UI's page of a workspace at ``url``."""
    return url.rstrip("/") + "/ui/"


def _db_rows(paths: StatePaths, kinds: tuple[str, ...]) -> list[tuple[str, dict[str, Any]]]:
    if not paths.db.exists():
        return []
    marks = ",".join("?" for _ in kinds)
    try:
        with contextlib.closing(sqlite3.connect(f"file:{paths.db}?mode=ro", uri=True, timeout=10)) as conn:
            rows = conn.execute(f"SELECT kind, doc FROM objects WHERE kind IN ({marks})", kinds).fetchall()
    except sqlite3.Error:
        return []
    return [(kind, json.loads(doc)) for kind, doc in rows]


def _kill_leftovers(paths: StatePaths) -> None:
    """A server that died hard leaves model servers, build workers, job runs and applications; end them
    (if still ours)."""
    for kind, doc in _db_rows(paths, ("deployment", "job_run", "application", "build")):
        if kind == "build" and doc.get("worker_pid"):
            kill_stray(doc["worker_pid"], doc["id"])  # the build's id is on its worker's command line
        elif kind == "deployment" and doc.get("pid"):
            kill_stray(doc["pid"], str(paths.deployment_configs / f"{doc['id']}.json"))
        elif kind == "job_run" and doc.get("status") in _ACTIVE_RUNS and len(doc.get("cmd") or []) > 1:
            kill_stray(doc.get("pid"), doc["cmd"][1])
        elif kind == "application" and doc.get("pid") and len(doc.get("cmd") or []) > 1:
            kill_stray(doc["pid"], doc["cmd"][1])


def stop(state_dir: Path) -> bool:
    """Stop the server and every process it started; False when no server was running."""
    paths = StatePaths.of(state_dir)
    with _locked(paths):
        info = _read_info(paths) or {}
        pid = info.get("pid")
        stopped = False
        if isinstance(pid, int) and _is_server(pid):
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + STOP_WAIT
            while time.monotonic() < deadline and not _gone(pid):
                time.sleep(0.1)
            if not _gone(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
                deadline = time.monotonic() + 5
                while time.monotonic() < deadline and not _gone(pid):
                    time.sleep(0.1)
            stopped = True
        _kill_leftovers(paths)
        paths.server_json.unlink(missing_ok=True)
        return stopped


def status(state_dir: Path) -> dict[str, Any]:
    """What runs and where, with counts; never a key."""
    paths = StatePaths.of(state_dir)
    info = _read_info(paths) or {}
    live = _live(paths) if paths.root.exists() else None
    counts: dict[str, Any] = {"projects": 0, "jobs": 0, "active_job_runs": 0, "models": 0, "deployments": {}}
    jobs: list[dict[str, Any]] = []
    for kind, doc in _db_rows(paths, ("project", "job", "job_run", "model", "deployment")):
        if kind == "project":
            counts["projects"] += 1
        elif kind == "job":
            counts["jobs"] += 1
            jobs.append(doc)
        elif kind == "job_run" and doc.get("status") in _ACTIVE_RUNS:
            counts["active_job_runs"] += 1
        elif kind == "model":
            counts["models"] += 1
        elif kind == "deployment":
            counts["deployments"][doc["status"]] = counts["deployments"].get(doc["status"], 0) + 1
    return {
        "running": live is not None,
        "state_dir": str(paths.root),
        "url": info.get("url", "") if live else "",
        "ui_url": ui_url(info.get("url", "")) if live else "",
        "model_service_url": info.get("model_service_url", "") if live else "",
        "pid": live.pid if live else None,
        "port": info.get("port") if live else None,
        "started_at": info.get("started_at", "") if live else "",
        "server_log": str(paths.server_log),
        "api_key_file": str(paths.api_key),
        "mlflow_tracking_uri": paths.tracking_uri,
        **counts,
        "next_scheduled_runs": _next_scheduled(jobs),
    }


def application_url(state_dir: Path, app_id: str) -> str | None:
    """Where a running application of the local workspace answers (its loopback port), or None.

    CML serves an application at https://<subdomain>.<workspace host>; API v2 has no field for the
    URL, and the local workspace gives each application its own loopback port instead."""
    for _kind, doc in _db_rows(StatePaths.of(state_dir), ("application",)):
        if doc.get("id") == app_id and doc.get("port") and doc.get("status") == "APPLICATION_RUNNING":
            return f"http://127.0.0.1:{doc['port']}/"
    return None


def _next_scheduled(jobs: list[dict[str, Any]], limit: int = 5) -> list[dict[str, str]]:
    """The soonest firings of scheduled jobs, in the job's timezone and in UTC."""
    from automation.local.core.timefmt import rfc3339
    from automation.local.state.records import Job
    from automation.local.workloads.schedules import upcoming

    return [
        {
            "job_id": u.job_id,
            "project_id": u.project_id,
            "job": u.name,
            "schedule": f"{u.schedule} ({u.timezone})",
            "at": rfc3339(u.at) or "",
        }
        for u in upcoming(Job.from_doc(j) for j in jobs)[:limit]
    ]


def job_run_log_path(state_dir: Path, run_id: str) -> Path:
    """Where the output of one job run is kept."""
    return StatePaths.of(state_dir).jobrun_logs / f"{run_id}.log"


def log_path(state_dir: Path, what: str = "server") -> Path:
    """Where the server log, or the log of a job run, build, deployment or application is kept."""
    paths = StatePaths.of(state_dir)
    if what == "server":
        candidates = [paths.server_log]
    elif _LOG_ID.match(what):
        candidates = paths.log_files(what)
    else:
        candidates = []
    for path in candidates:
        if path.is_file():
            return path
    raise InputError(
        f"no log {what!r} in {paths.logs}",
        hint="pass 'server', or the id of a job run, a model build or a model deployment",
    )


def read_log(state_dir: Path, what: str = "server") -> str:
    """The server log, or the log of a job run, build, deployment or application given its id."""
    return log_path(state_dir, what).read_text(encoding="utf-8", errors="replace")


def _still_writing(paths: StatePaths, what: str) -> bool:
    """A job run's log grows while the run is active; any other log while the server runs."""
    for kind, doc in _db_rows(paths, ("job_run",)):
        if kind == "job_run" and doc.get("id") == what:
            return doc.get("status") in _ACTIVE_RUNS
    return _live(paths) is not None


def follow_log(
    state_dir: Path, what: str = "server", *, poll: float = 0.5, sleep: Any = time.sleep
) -> Iterator[str]:
    """The log's text so far, then what is appended, until its writer is done (a job run ended, the
    server stopped). The caller stops early by closing the generator (Ctrl-C)."""
    paths = StatePaths.of(state_dir)
    path = log_path(state_dir, what)
    offset = 0
    while True:
        with open(path, "rb") as fh:
            fh.seek(offset)
            chunk = fh.read()
        offset += len(chunk)
        if chunk:
            yield chunk.decode("utf-8", errors="replace")
        elif not _still_writing(paths, what):
            return
        else:
            sleep(poll)
