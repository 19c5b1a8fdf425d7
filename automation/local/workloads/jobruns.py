"""Job runs as real subprocesses: CML's environment, a log file, a process group, a status.

Statuses move ``ENGINE_SCHEDULING`` -> ``ENGINE_RUNNING`` -> ``ENGINE_SUCCEEDED`` (exit 0),
``ENGINE_FAILED`` (non-zero exit, missing script), ``ENGINE_STOPPED`` (``:stop``, or the server
stopping) or ``ENGINE_TIMEDOUT`` (the job's ``timeout`` in seconds passed and ``kill_on_timeout``,
default true, killed it; with ``kill_on_timeout`` false the run goes on to its natural end).

One active run per job: a second create while one is active is refused with 409 (gRPC code 10,
ABORTED) naming the active run, rather than queued, so a retried POST cannot start twice.

A run starts as CML starts a job (``engines.py``): the job's runtime (a GPU edition is refused when
the run is created: the local workspace has no GPU), the project's own environment for that
runtime's Python (prepared while the run is ``ENGINE_SCHEDULING``; the first use on a machine
builds the runtime environment, a few seconds), the script run through the IPython-compatible
kernel runner, only CML's variables (lowest first: MLflow's tracking server for this engine, the
project's environment, the job's, the run's; ``CDSW_*`` last and not overridable).
"""

from __future__ import annotations

import shlex
import subprocess
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from automation.local.core.files import resolve_inside
from automation.local.core.ids import new_engine_id, new_public_id
from automation.local.core.problems import ApiProblem, aborted, failed_precondition
from automation.local.core.timefmt import now
from automation.local.state import records
from automation.local.state.mlflow_bridge import JOB_RUN_TAG, READY_TIMEOUT
from automation.local.state.records import Job, JobRun, Project
from automation.local.workloads.engines import LaunchRefused, check_runtime
from automation.local.workloads.procs import kill_group, kill_stray, spawn

if TYPE_CHECKING:
    from automation.local.workspace import Workspace

ACTIVE = frozenset({"ENGINE_SCHEDULING", "ENGINE_STARTING", "ENGINE_RUNNING", "ENGINE_STOPPING"})
TERMINAL = frozenset(
    {"ENGINE_SUCCEEDED", "ENGINE_FAILED", "ENGINE_STOPPED", "ENGINE_TIMEDOUT", "ENGINE_SKIPPED"}
)
KIND = JobRun.KIND
STATUS_WORD = {  # ListJobRuns search_filter speaks lowercase short forms
    "ENGINE_SCHEDULING": "scheduling",
    "ENGINE_STARTING": "starting",
    "ENGINE_RUNNING": "running",
    "ENGINE_STOPPING": "stopping",
    "ENGINE_STOPPED": "stopped",
    "ENGINE_UNKNOWN": "unknown",
    "ENGINE_SUCCEEDED": "succeeded",
    "ENGINE_FAILED": "failed",
    "ENGINE_TIMEDOUT": "timedout",
    "ENGINE_SKIPPED": "skipped",
}
STOP_GRACE = 5.0


class JobRunner:
    """Starts, watches and stops job-run subprocesses; the only writer of job-run statuses."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.log = ws.log.getChild("runner")
        self._lock = threading.Lock()
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._reasons: dict[str, str] = {}
        self._done: dict[str, threading.Event] = {}

    def log_path(self, run_id: str) -> Path:
        return self.ws.paths.jobrun_logs / f"{run_id}.log"

    # --- create --------------------------------------------------------------------------

    def create_run(
        self, project: Project, job: Job, environment: dict[str, str] | None, arguments: str | None
    ) -> JobRun:
        store = self.ws.store
        refusal = check_runtime(job.runtime_identifier)
        if refusal is None and int(job.nvidia_gpu or 0) > 0:
            refusal = f"no GPU on the local workspace: job {job.name!r} asks for {job.nvidia_gpu} GPU(s); set nvidia_gpu to 0"
        if refusal:
            raise failed_precondition(refusal)
        with self._lock:
            active = [r for r in records.load_all(store, JobRun, parent=job.id) if r.status in ACTIVE]
            if active:
                raise aborted(
                    f"job {job.id!r} already has an active run {active[0].id!r} ({active[0].status}); "
                    "stop it with :stop or wait for it to finish"
                )
            ts = now()
            run = JobRun(
                id=new_public_id(),
                project_id=project.id,
                job_id=job.id,
                status="ENGINE_SCHEDULING",
                created_at=ts,
                scheduling_at=ts,
                kernel=job.kernel,
                cpu=job.cpu,
                memory=job.memory,
                nvidia_gpu=job.nvidia_gpu,
                arguments=arguments if arguments else job.arguments,
                environment=environment or {},
                runtime_identifier=job.runtime_identifier,
                extra={"engine_id": new_engine_id(), "pid": None, "cmd": [], "exit_code": None},
            )
            records.insert(store, run)
            self._done[run.id] = threading.Event()
        self.log.info("job run %s of job %s created; log: %s", run.id, job.id, self.log_path(run.id))
        threading.Thread(target=self._execute, args=(run.id,), name=f"jobrun-{run.id}", daemon=True).start()
        return run

    # --- execute -------------------------------------------------------------------------

    def _note(self, run_id: str, text: str) -> None:
        """Append a line to the run's log; a log that cannot be written goes to the server log instead
        (a failed write must never leave the run without its final status)."""
        try:
            with self.log_path(run_id).open("a", encoding="utf-8") as fh:
                fh.write(f"[cmlops local] {text}\n")
        except OSError as exc:
            self.log.warning("job run %s: cannot write its log (%s); note: %s", run_id, exc, text)

    def _finish(self, run_id: str, status: str, exit_code: int | None = None) -> None:
        run = records.patch(
            self.ws.store, JobRun, run_id, status=status, finished_at=now(), exit_code=exit_code
        )
        if run:
            self.ws.engines.forget(run.engine_id or "")
        with self._lock:
            self._procs.pop(run_id, None)
            self._reasons.pop(run_id, None)
            done = self._done.pop(run_id, None)
        if done:
            done.set()
        self.log.info("job run %s finished: %s (exit code %s)", run_id, status, exit_code)

    def _execute(self, run_id: str) -> None:
        try:
            self._execute_inner(run_id)
        except Exception as exc:  # never leave a run active because of a bug or an I/O error here
            self.log.exception("job run %s crashed in the runner", run_id)
            try:
                self._note(run_id, f"internal error starting the run: {type(exc).__name__}: {exc}")
            finally:
                self._finish(run_id, "ENGINE_FAILED")

    def _execute_inner(self, run_id: str) -> None:
        ws = self.ws
        deadline = time.monotonic() + READY_TIMEOUT
        while not ws.mlflow.existed and not ws.mlflow.wait_ready(0.25) and time.monotonic() < deadline:
            with self._lock:
                if run_id in self._reasons:
                    break
        run = records.load(ws.store, JobRun, run_id)
        if run is None:
            return
        project = records.load(ws.store, Project, run.project_id)
        job = records.load(ws.store, Job, run.job_id)
        if project is None or job is None:
            self._note(run_id, "the job or its project was deleted before the run started")
            self._finish(run_id, "ENGINE_FAILED")
            return
        root = ws.paths.project_dir(project.id)
        try:
            script = resolve_inside(root, job.script, field="script", allow_root=False)
        except ApiProblem as problem:
            self._note(run_id, problem.message)
            self._finish(run_id, "ENGINE_FAILED")
            return
        if not script.is_file():
            self._note(run_id, f"script {job.script!r} not found in the project folder {root}")
            self._finish(run_id, "ENGINE_FAILED")
            return
        try:
            args = shlex.split(run.arguments or "")
        except ValueError as exc:
            self._note(run_id, f"arguments {run.arguments!r} cannot be split like a shell would: {exc}")
            self._finish(run_id, "ENGINE_FAILED")
            return
        try:
            launch = ws.launcher.prepare(
                project=project,
                runtime_identifier=run.runtime_identifier or job.runtime_identifier,
                script=script,
                arguments=args,
                layers=[project.environment, job.environment, run.environment],
                engine_id=run.engine_id,
                tags={JOB_RUN_TAG: run.id},
                note=lambda text: self._note(run_id, text),
            )
        except LaunchRefused as exc:
            self._note(run_id, str(exc))
            self._finish(run_id, "ENGINE_FAILED")
            return
        cmd = launch.cmd
        with self._lock:
            if run_id in self._reasons or run_id not in self._done:  # stopped while scheduling
                stopped = True
            else:
                stopped = False
                proc = spawn(cmd, cwd=root, env=launch.env, log_path=self.log_path(run_id))
                self._procs[run_id] = proc
        if stopped:
            self._note(run_id, "stopped before it started")
            self._finish(run_id, "ENGINE_STOPPED")
            return
        started = now()
        records.patch(
            ws.store,
            JobRun,
            run_id,
            status="ENGINE_RUNNING",
            starting_at=started,
            running_at=started,
            pid=proc.pid,
            cmd=cmd,
            needle=launch.needle,
        )
        timeout = int(job.timeout or 0)
        kill_on_timeout = bool(job.kill_on_timeout)
        try:
            proc.wait(timeout=timeout if timeout > 0 and kill_on_timeout else None)
        except subprocess.TimeoutExpired:
            with self._lock:
                self._reasons.setdefault(run_id, "timeout")
            kill_group(proc, STOP_GRACE)
        code = proc.wait()
        kill_group(proc, STOP_GRACE)  # the engine ends with its script: nothing it started lives on
        with self._lock:
            reason = self._reasons.get(run_id)
        if reason == "timeout":
            self._note(run_id, f"timed out after {timeout} s and was killed (kill_on_timeout)")
            self._finish(run_id, "ENGINE_TIMEDOUT", code)
        elif reason in ("stop", "shutdown"):
            why = (
                "the local workspace server stopped" if reason == "shutdown" else "stopped on request (:stop)"
            )
            self._note(run_id, why)
            self._finish(run_id, "ENGINE_STOPPED", code)
        elif code == 0:
            self._finish(run_id, "ENGINE_SUCCEEDED", code)
            self._start_dependents(project, job)
        else:
            self._note(run_id, f"the script exited with code {code}")
            self._finish(run_id, "ENGINE_FAILED", code)

    def _start_dependents(self, project: Project, job: Job) -> None:
        """CML starts a job's dependents when a run of it succeeds."""
        for child in records.load_all(self.ws.store, Job, parent=project.id):
            if child.parent_id == job.id:
                try:
                    self.create_run(project, child, None, None)
                except ApiProblem as problem:
                    self.log.warning("dependent job %s not started: %s", child.id, problem.message)

    # --- stop ----------------------------------------------------------------------------

    def stop(self, run_id: str, reason: str = "stop", wait: float = 15.0) -> bool:
        """Stop one run; False when it was not active. Returns after the final status is written."""
        with self._lock:
            run = records.load(self.ws.store, JobRun, run_id)
            done = self._done.get(run_id)
            if run is None or run.status not in ACTIVE or done is None:
                return False
            self._reasons.setdefault(run_id, reason)
            proc = self._procs.get(run_id)
        if proc is not None:
            kill_group(proc, STOP_GRACE)
        if not done.wait(wait) and proc is None:
            # its runner is stuck before the process started (e.g. preparing the environment):
            # the run is stopped now; the runner sees the reason when it comes back
            self.log.warning("job run %s did not stop within %.0f s; marked stopped", run_id, wait)
            self._finish(run_id, "ENGINE_STOPPED")
        return True

    def stop_all(self, reason: str = "shutdown") -> None:
        with self._lock:
            active = list(self._done)
        threads = [threading.Thread(target=self.stop, args=(rid, reason), daemon=True) for rid in active]
        for t in threads:
            t.start()
        for t in threads:
            t.join(STOP_GRACE * 3)

    def recover(self) -> None:
        """Runs left active by a server that died: kill what is left of them and mark them failed."""
        for run in records.load_all(self.ws.store, JobRun):
            if run.status in ACTIVE and run.id not in self._done:
                kill_stray(run.pid, run.needle or "")
                self._note(run.id, "the local workspace server stopped while this run was active")
                records.patch(self.ws.store, JobRun, run.id, status="ENGINE_FAILED", finished_at=now())
                self.log.warning("job run %s was active when the server last stopped; marked failed", run.id)

    def is_active(self, run_id: str) -> bool:
        with self._lock:
            return run_id in self._done

    def forget_job(self, job_id: str) -> None:
        """Stop a deleted job's active runs and drop their records."""
        for run in records.load_all(self.ws.store, JobRun, parent=job_id):
            self.stop(run.id)
            records.remove(self.ws.store, JobRun, run.id)
