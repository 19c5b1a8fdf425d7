"""Launch an AMP through API v2: the project, its files and environment, then every task in order.

Each task is decided on fresh reads with the same functions the plan uses (``plan.py``), then
executed and waited for where CML waits: a ``run_job`` for its run, a ``build_model`` until built, a
``deploy_model`` until deployed, a ``start_application`` until running. A ``run_session`` becomes a
one-off job (API v2 has no sessions endpoint) named ``AMP session: <name>``; it is kept so that a
re-launch knows it succeeded. The first failing task stops the launch (as in CML); running the same
launch again continues from there, creating nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from automation.amp.files import UploadSet, upload_set
from automation.amp.inputs import RECORD_VAR, launch_record, masked
from automation.amp.launchable import refusals
from automation.amp.loader import LoadedAmp
from automation.amp.model import (
    BuildModel,
    CreateJob,
    CreateModel,
    DeployModel,
    RunJob,
    RunSession,
    StartApplication,
)
from automation.amp.plan import (
    APP_RUNNING,
    Step,
    application_fields,
    decide_application,
    decide_deploy,
    decide_run,
    deploy_title,
    deployment_fields,
    job_changes,
    job_fields,
    job_history,
    pick_build,
    read_job,
    runtime_wanted,
    session_job_name,
)
from automation.api import CMLClient
from automation.api.base import WaitEvent, wait_for
from automation.api.models import BUILD_OK
from automation.api.types import Project
from automation.errors import CmlopsError, Conflict, InputError, WorkloadFailed

APP_FAILED = {"APPLICATION_FAILED", "failed", "APPLICATION_STOPPED", "stopped"}

StepCallback = Callable[[Step, str], None]
ProgressCallback = Callable[[WaitEvent], None]


@dataclass
class Timeouts:
    """Seconds each kind of wait may take before the launch reports a timeout."""

    project: float = 600
    job_run: float = 3600
    build: float = 1800
    deployment: float = 1200
    application: float = 600


@dataclass
class LaunchOptions:
    project_name: str
    environment: dict[str, str] = field(default_factory=dict)
    git_url: str | None = None
    git_ref: str | None = None
    rerun: bool = False
    runtime_identifier: str | None = None
    timeouts: Timeouts = field(default_factory=Timeouts)
    files: UploadSet | None = None  # None: upload_set() of the AMP file


@dataclass
class LaunchResult:
    amp: str
    project: str
    project_id: str = ""
    project_created: bool = False
    runtime_identifier: str = ""
    environment: dict[str, str] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    uploaded: int = 0
    error: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "amp": self.amp,
            "project": {"name": self.project, "id": self.project_id, "created": self.project_created},
            "runtime_identifier": self.runtime_identifier,
            "environment": masked(self.environment),
            "uploaded_files": self.uploaded,
            "steps": [s.to_dict() for s in self.steps],
            "error": self.error,
        }


class Launcher:
    """Runs one launch; ``result`` holds the steps done so far, also when ``run`` raises."""

    def __init__(
        self,
        client: CMLClient,
        loaded: LoadedAmp,
        options: LaunchOptions,
        *,
        on_step: StepCallback | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        self.client = client
        self.loaded = loaded
        self.amp = loaded.amp
        self.options = options
        self.on_step = on_step or (lambda step, phase: None)
        self.on_progress = on_progress
        self.result = LaunchResult(
            amp=self.amp.name, project=options.project_name, environment=dict(options.environment)
        )
        self.pid = ""
        self.runtime_id = ""
        self.addon_ids: list[str] = []  # runtime_addon_identifiers of the AMP runtime's add-ons (Spark)
        self.job_ids: dict[str, str] = {}  # entity_label -> job id
        self.fresh_jobs: set[str] = set()  # labels whose job this launch created or changed
        self.model_ids: dict[str, str] = {}  # entity_label -> model id
        self.build_ids: dict[str, str] = {}  # entity_label -> build id
        self.project: Project | None = None
        self.uploads: UploadSet | None = None
        self._announced: set[int] = set()
        # what the project's environment should hold, with the record of the defaults written
        self.environment = {**options.environment, RECORD_VAR: launch_record(self.amp, options.environment)}

    # -- driver -----------------------------------------------------------------------------------

    def run(self) -> LaunchResult:
        """Launch; raises the first failure (a CmlopsError) after recording it in ``result``."""
        try:
            self.runtime_id = self._runtime()
            self.result.runtime_identifier = self.runtime_id
            runtime = self.amp.runtime()
            # before any write: an add-on the workspace lacks (always, locally) is an InputError
            self.addon_ids = self.client.runtime_addons.resolve(runtime.addons if runtime else [])
            for refusal in refusals(self.amp):  # validate refuses these too: only a caller that skipped it
                raise self.loaded.error(refusal.path, refusal.message, hint=refusal.hint, key=True)
            if not self.options.git_url:  # what goes is decided (and may be refused) before any write
                self.uploads = self.options.files or upload_set(self.loaded.file, self.amp)
            for step_fn in (self._project, self._environment, self._files):
                step = step_fn()
                if step is not None:
                    self._finish(step)
            for index, task in enumerate(self.amp.tasks):
                self._finish(self._task(index, task))
        except CmlopsError as exc:
            current = self.result.steps[-1] if self.result.steps else None
            if current is not None and current.status == "running":
                current.status = "failed"
                self.on_step(current, "failed")
            self.result.error = exc.to_dict()
            if exc.hint is None:
                exc.hint = "fix the cause and run the same launch again: it continues where it stopped"
            raise
        return self.result

    def _begin(self, step: Step) -> Step:
        step.status = "running"
        self.result.steps.append(step)
        self.on_step(step, "start")
        return step

    def _decided(self, step: Step) -> None:
        """Report the step's action once it is known (before any long wait)."""
        if id(step) not in self._announced:
            self._announced.add(id(step))
            self.on_step(step, "decided")

    def _finish(self, step: Step) -> None:
        self._decided(step)
        if step.status == "running":
            step.status = "skipped" if step.action in ("skip", "reuse") else "done"
        self.on_step(step, step.status)

    # -- project ----------------------------------------------------------------------------------

    def _runtime(self) -> str:
        if self.options.runtime_identifier:
            return self.options.runtime_identifier
        return self.client.runtimes.pick(**runtime_wanted(self.amp)).image_identifier

    def _project(self) -> Step:
        opts = self.options
        project = self.client.projects.find(opts.project_name)
        title = repr(opts.project_name)
        if project is None:
            how = f"from git {opts.git_url}" if opts.git_url else "blank"
            step = self._begin(Step(None, "project", title, "create", ["POST /api/v2/projects"], how))
            project = self.client.projects.create(
                opts.project_name,
                description=self.amp.description[:2048],
                git_url=opts.git_url,
                git_ref=opts.git_ref,
                environment=self.environment,
            )
            self.result.project_created = True
            if opts.git_url:
                self._decided(step)
                project = self.client.projects.wait_created(
                    project.id, timeout=opts.timeouts.project, on_progress=self.on_progress
                )
        else:
            step = self._begin(Step(None, "project", title, "reuse", [], f"found {project.id}"))
        self.project = project
        self.pid = self.result.project_id = step.ids["project"] = project.id
        return step

    def _environment(self) -> Step | None:
        """A re-launch brings the project's variables in line with the AMP's (others are kept)."""
        if self.result.project_created:
            return None
        current = self.project.environment
        changed = sorted(k for k, v in self.environment.items() if current.get(k) != v)
        if not changed:
            return None
        step = self._begin(
            Step(
                None,
                "environment",
                "project environment",
                "update",
                [f"PATCH /api/v2/projects/{self.pid}"],
                f"{', '.join(changed)} changed",
            )
        )
        self.client.projects.update(self.pid, environment={**current, **self.environment})
        return step

    def _files(self) -> Step | None:
        if self.options.git_url:
            return None
        uploads = self.uploads
        assert uploads is not None  # set in run() when there is no git URL
        files = uploads.files
        present = {} if self.result.project_created else self.client.projects.file_sizes(self.pid, files)
        missing = [f for f in files if f not in present]
        if missing:
            step = self._begin(Step(None, "files", f"{len(missing)} of {len(files)} file(s)", "upload"))
        else:
            step = self._begin(Step(None, "files", f"{len(files)} file(s)", "reuse", [], "all present"))
        self._decided(step)
        for rel in missing:
            content = uploads.source(rel).read_bytes()
            try:
                self.client.projects.upload_file(self.pid, rel, content)
            except Conflict:
                continue  # uploaded by an earlier, interrupted launch
            self.result.uploaded += 1
        return step

    # -- tasks --------------------------------------------------------------------------------------

    def _task(self, index: int, task: Any) -> Step:
        handler = {
            CreateJob: self._create_job,
            RunJob: self._run_job,
            RunSession: self._run_session,
            CreateModel: self._create_model,
            BuildModel: self._build_model,
            DeployModel: self._deploy_model,
            StartApplication: self._start_application,
        }[type(task)]
        return handler(index, task)

    def _ensure_job(self, step: Step, name: str, wanted: dict[str, Any]) -> tuple[str, bool]:
        """Find the job by name, create it or bring it in line; returns (job id, created or changed)."""
        facts = read_job(self.client, self.pid, name)
        if facts.job is None:
            job = self.client.jobs.create(
                self.pid,
                name=name,
                runtime_identifier=self.runtime_id,
                runtime_addon_identifiers=self.addon_ids,
                **wanted,
            )
            step.ids["job"] = job.id
            return job.id, True
        step.ids["job"] = facts.job.id
        changes = job_changes(facts.job, wanted)
        if changes:
            step.changes = changes
            self.client.jobs.update(self.pid, facts.job.id, **{k: wanted[k] for k in changes})
            return facts.job.id, True
        return facts.job.id, False

    def _create_job(self, index: int, task: CreateJob) -> Step:
        step = self._begin(Step(index, task.type, task.title, "create", summary=task.short_summary or ""))
        job_id, changed = self._ensure_job(step, task.name, job_fields(task))
        if not changed:
            step.action, step.reason = "reuse", f"job {job_id} exists"
        elif step.changes:
            step.action = "update"
        self.job_ids[task.entity_label] = job_id
        if changed:
            self.fresh_jobs.add(task.entity_label)
        return step

    def _run(self, step: Step, job_id: str, *, fresh: bool, env: dict[str, str], arguments: str) -> Step:
        facts = job_history(self.client, self.pid, self.client.jobs.get(self.pid, job_id))
        action, reason = decide_run(facts, fresh_job=fresh, rerun=self.options.rerun)
        step.action, step.reason = action, reason
        self._decided(step)
        if action == "skip":
            step.ids["run"] = facts.last_success.id if facts.last_success else ""
            return step
        if action == "wait" and facts.active is not None:
            run_id = facts.active.id
        else:
            run_id = self.client.jobs.start_run(
                self.pid, job_id, environment=env or None, arguments=arguments or None
            ).id
        step.ids["run"] = run_id
        self.client.jobs.wait_run(
            self.pid, job_id, run_id, timeout=self.options.timeouts.job_run, on_progress=self.on_progress
        )
        return step

    def _run_job(self, index: int, task: RunJob) -> Step:
        job_task = self.amp.job_for(task.entity_label)
        name = job_task.name if job_task else task.entity_label
        step = self._begin(
            Step(index, task.type, f"run_job {name!r}", "run", summary=task.short_summary or "")
        )
        job_id = self.job_ids.get(task.entity_label)
        if job_id is None:  # validation guarantees an earlier create_job; be explicit anyway
            raise InputError(
                f"task {index} (run_job): no job was created for entity_label {task.entity_label!r}"
            )
        step.ids["job"] = job_id
        fresh = task.entity_label in self.fresh_jobs
        return self._run(step, job_id, fresh=fresh, env=dict(task.environment), arguments=task.argument_text)

    def _run_session(self, index: int, task: RunSession) -> Step:
        name = session_job_name(self.amp, index)
        title = f"run_session {task.name!r} (as job {name!r})"
        step = self._begin(Step(index, task.type, title, "run", summary=task.short_summary or ""))
        job_id, changed = self._ensure_job(step, name, job_fields(task))
        return self._run(step, job_id, fresh=changed, env={}, arguments="")

    def _create_model(self, index: int, task: CreateModel) -> Step:
        step = self._begin(Step(index, task.type, task.title, "create", summary=task.short_summary or ""))
        model = self.client.models.find(self.pid, task.name)
        if model is None:
            model = self.client.models.create(
                self.pid,
                name=task.name,
                description=task.description,
                disable_authentication=task.auth_enabled is False,
            )
        else:
            step.action, step.reason = "reuse", f"model {model.id} exists"
        step.ids["model"] = self.model_ids[task.entity_label] = model.id
        var = task.access_key_environment_variable
        if var:
            key = model.access_key or self.client.models.get(self.pid, model.id).access_key
            project = self.client.projects.get(self.pid)
            if key and project.environment.get(var) != key:
                self.client.projects.update(self.pid, environment={**project.environment, var: key})
                step.reason = (step.reason + "; " if step.reason else "") + f"access key stored in {var}"
        return step

    def _build_model(self, index: int, task: BuildModel) -> Step:
        title = f"build_model {task.entity_label!r} ({task.target_file_path}:{task.target_function_name})"
        step = self._begin(Step(index, task.type, title, "build", summary=task.short_summary or ""))
        model_id = self.model_ids[task.entity_label]
        builds = [b for b in self.client.models.list_builds(self.pid, model_id) if not b.deletion_status]
        build = pick_build(builds, task)
        if build is not None and build.status.lower() in BUILD_OK:
            step.action, step.reason = "reuse", f"build {build.id} is built"
        else:
            if build is not None:
                step.action, step.reason = "wait", f"build {build.id} is {build.status}"
            else:
                build = self.client.models.create_file_build(
                    self.pid,
                    model_id,
                    file_path=task.target_file_path,
                    function_name=task.target_function_name,
                    runtime_identifier=self.runtime_id,
                    comment=task.comment or task.name or "built by cmlops amp launch",
                    kernel=task.kernel,
                    runtime_addon_identifiers=self.addon_ids,
                )
            self._decided(step)
            step.ids["build"] = build.id
            self.client.models.wait_build(
                self.pid,
                model_id,
                build.id,
                timeout=self.options.timeouts.build,
                on_progress=self.on_progress,
            )
        step.ids["build"] = self.build_ids[task.entity_label] = build.id
        return step

    def _deploy_model(self, index: int, task: DeployModel) -> Step:
        wanted = deployment_fields(self.amp, task)
        title = deploy_title(task, wanted)
        step = self._begin(Step(index, task.type, title, "deploy", summary=task.short_summary or ""))
        model_id, build_id = self.model_ids[task.entity_label], self.build_ids[task.entity_label]
        deployments = list(self.client.models.list_deployments(self.pid, model_id, build_id))
        action, reason, dep = decide_deploy(deployments)
        step.action, step.reason = action, reason
        if action == "deploy":
            dep = self.client.models.create_deployment(self.pid, model_id, build_id, **wanted)
        if dep is not None:
            step.ids["deployment"] = dep.id
        if action != "skip" and dep is not None:
            self._decided(step)
            self.client.models.wait_deployment(
                self.pid,
                model_id,
                build_id,
                dep.id,
                timeout=self.options.timeouts.deployment,
                on_progress=self.on_progress,
            )
        return step

    def _start_application(self, index: int, task: StartApplication) -> Step:
        title = f"start_application {task.name!r} (subdomain {task.subdomain})"
        step = self._begin(Step(index, task.type, title, "start", summary=task.short_summary or ""))
        app = self.client.applications.find(self.pid, task.name)
        action, reason = decide_application(app)
        step.action, step.reason = action, reason
        if app is None:
            app = self.client.applications.create(
                self.pid,
                runtime_identifier=self.runtime_id,
                runtime_addon_identifiers=self.addon_ids,
                **application_fields(task),
            )
        elif action == "restart":
            app = self.client.applications.restart(self.pid, app.id)
        step.ids["application"] = app.id
        if action != "skip":
            self._decided(step)
            app_id = app.id
            wait_for(
                lambda: self.client.applications.get(self.pid, app_id),
                what=f"application {app_id}",
                status_of=lambda a: a.status,
                success=APP_RUNNING,
                failure=APP_FAILED,
                timeout=self.options.timeouts.application,
                clock=self.client.clock,
                failure_error=WorkloadFailed,
                failure_hint=f"read the application's logs: project {self.pid} > Applications > {task.name}",
                timeout_hint="raise the application timeout (--timeout)",
                on_progress=self.on_progress,
                interval=self.client.applications.poll[0],
                max_interval=self.client.applications.poll[1],
            )
        return step


def launch(
    client: CMLClient,
    loaded: LoadedAmp,
    options: LaunchOptions,
    *,
    on_step: StepCallback | None = None,
    on_progress: ProgressCallback | None = None,
) -> LaunchResult:
    """Launch ``loaded`` with ``options``; raises the first failure (its steps are in the error's result)."""
    return Launcher(client, loaded, options, on_step=on_step, on_progress=on_progress).run()
