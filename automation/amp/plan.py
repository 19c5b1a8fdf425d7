"""Turn an AMP's tasks into the API v2 calls a launch makes, deciding per task what is already done.

``observe`` reads the workspace (the project, and the jobs, models and applications the AMP names);
``build_plan`` is pure: for each task it says create / reuse / update / run / wait / skip / build /
deploy / start and lists the API v2 calls involved (the reference's task -> API v2 table). The
launcher (``launch.py``) takes the same decisions task by task on fresh reads, so the dry run and the
real run cannot disagree. Decisions that make a re-launch continue where it stopped:

- jobs, models and applications are found by name, never created twice;
- a ``run_job``/``run_session`` whose job already has a successful run is skipped (unless its job
  was created or changed by this launch, or ``rerun``); a run in progress is waited for;
- a ``build_model`` reuses a built (or waits for an in-progress) build of the same file/function;
- a ``deploy_model`` is skipped when that build is deployed, waited for when it is deploying.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from automation.amp.files import UploadSet, changed_files
from automation.amp.inputs import RECORD_VAR, launch_record, masked
from automation.amp.loader import LoadedAmp
from automation.amp.model import (
    AmpFile,
    BuildModel,
    CreateJob,
    CreateModel,
    DeployModel,
    RunJob,
    RunSession,
    StartApplication,
)
from automation.api import CMLClient
from automation.api.jobs import RUN_ACTIVE, RUN_SUCCESS
from automation.api.models import BUILD_FAILED, BUILD_OK, DEPLOY_OK
from automation.api.types import Application, Job, JobRun, Model, ModelBuild, ModelDeployment, Project
from automation.errors import InputError

DEFAULT_RUNTIME = {"editor": "Workbench", "kernel": "Python 3.10", "edition": "Standard"}
SESSION_PREFIX = "AMP session: "
JOB_CPU, JOB_MEMORY = 1.0, 2.0
MODEL_CPU, MODEL_MEMORY = 1.0, 2.0
APP_CPU, APP_MEMORY = 1.0, 2.0
APP_RUNNING = {"APPLICATION_RUNNING", "running"}
APP_ACTIVE = {"APPLICATION_STARTING", "starting", "APPLICATION_UNKNOWN", ""}
DEPLOY_ACTIVE = {"pending", "deploying", "starting", "scheduling"}

API = "/api/v2/projects"


# --- what a task asks for ------------------------------------------------------------------------------


def session_job_name(amp: AmpFile, index: int) -> str:
    """The one-off job a ``run_session`` becomes; numbered when two sessions share a name."""
    task = amp.tasks[index]
    assert isinstance(task, RunSession)
    same = [i for i, t in enumerate(amp.tasks) if isinstance(t, RunSession) and t.name == task.name]
    suffix = f" ({same.index(index) + 1})" if len(same) > 1 else ""
    return f"{SESSION_PREFIX}{task.name}{suffix}"[:200]


def job_fields(task: CreateJob | RunSession) -> dict[str, Any]:
    """The job fields a create_job (or an emulated run_session) asks for, in API v2 names."""
    fields: dict[str, Any] = {
        "script": task.script or "",
        "cpu": task.cpu or JOB_CPU,
        "memory": task.memory or JOB_MEMORY,
        "nvidia_gpu": task.gpu or 0,
        "arguments": task.argument_text if isinstance(task, CreateJob) else "",
        "environment": dict(task.environment) if isinstance(task, CreateJob) else {},
    }
    if isinstance(task, CreateJob) and task.timeout:
        fields["timeout"] = task.timeout
    return fields


def job_changes(job: Job, wanted: dict[str, Any]) -> dict[str, list[Any]]:
    """Fields of an existing job that differ from what the task asks for: {field: [current, wanted]}."""
    out: dict[str, list[Any]] = {}
    for name, value in wanted.items():
        current = getattr(job, name, None)
        if isinstance(value, float | int) and not isinstance(value, bool):
            if current is None or float(current or 0) != float(value):
                out[name] = [current, value]
        elif (current or ({} if isinstance(value, dict) else "")) != value:
            out[name] = [current, value]
    return out


def deployment_fields(amp: AmpFile, task: DeployModel) -> dict[str, Any]:
    """CPU/memory/GPUs/replicas/environment of a deployment: the task's, else the model's defaults."""
    model = amp.model_for(task.entity_label)
    res = model.default_resources if model else None
    cpu = (
        task.cpu
        or (task.cpu_millicores / 1000 if task.cpu_millicores else None)
        or (res.vcpu if res else None)
    )
    memory = (
        task.memory or (task.memory_mb / 1024 if task.memory_mb else None) or (res.memory_gb if res else None)
    )
    gpus = task.gpu if task.gpu is not None else task.nvidia_gpus
    if gpus is None and res is not None:
        gpus = res.gpu
    policy = model.default_replication_policy if model else None
    return {
        "cpu": cpu or MODEL_CPU,
        "memory": memory or MODEL_MEMORY,
        "nvidia_gpus": gpus or 0,
        "replicas": policy.num_replicas if policy else 1,
        "environment": {**task.environment, **task.environment_variables},
    }


def deploy_title(task: DeployModel, wanted: Mapping[str, Any]) -> str:
    return (
        f"deploy_model {task.entity_label!r} "
        f"({wanted['cpu']:g} vCPU, {wanted['memory']:g} GB, x{wanted['replicas']})"
    )


def application_fields(task: StartApplication) -> dict[str, Any]:
    return {
        "name": task.name,
        "subdomain": task.subdomain,
        "script": task.script,
        "cpu": task.cpu or APP_CPU,
        "memory": task.memory or APP_MEMORY,
        "nvidia_gpu": task.gpu or 0,
        "description": task.description or task.short_summary or "",
        "environment": {**task.environment, **task.environment_variables},
        "bypass_authentication": task.bypass_authentication,
    }


# --- what the workspace holds ----------------------------------------------------------------------------


@dataclass
class JobFacts:
    job: Job | None = None
    last_success: JobRun | None = None
    active: JobRun | None = None


@dataclass
class ModelFacts:
    model: Model | None = None
    builds: list[ModelBuild] = field(default_factory=list)


@dataclass
class Observed:
    """What a launch would find: the project and the objects the AMP names (by name)."""

    project: Project | None = None
    jobs: dict[str, JobFacts] = field(default_factory=dict)
    models: dict[str, ModelFacts] = field(default_factory=dict)
    deployments: dict[str, list[ModelDeployment]] = field(default_factory=dict)  # build id -> deployments
    applications: dict[str, Application | None] = field(default_factory=dict)
    present_files: dict[str, int] | None = None


def read_job(client: CMLClient, project_id: str, name: str) -> JobFacts:
    """The job called ``name`` (None when absent) and its latest successful / in-progress run."""
    job = client.jobs.find(project_id, name)
    return job_history(client, project_id, job) if job is not None else JobFacts()


def job_history(client: CMLClient, project_id: str, job: Job) -> JobFacts:
    """The newest in-progress run (newer than the last success) and the last successful run."""
    facts = JobFacts(job=job)
    for run in client.jobs.list_runs(project_id, job.id, sort="-created_at", limit=20):
        if run.status in RUN_ACTIVE and facts.active is None and facts.last_success is None:
            facts.active = run
        if run.status in RUN_SUCCESS:
            facts.last_success = run
            break
    return facts


def read_model(client: CMLClient, project_id: str, name: str) -> ModelFacts:
    facts = ModelFacts(model=client.models.find(project_id, name))
    if facts.model is not None:
        facts.builds = [
            b for b in client.models.list_builds(project_id, facts.model.id) if not b.deletion_status
        ]
    return facts


def observe(
    client: CMLClient,
    loaded: LoadedAmp,
    project_name: str,
    files: UploadSet | None = None,
    runtime_identifier: str | None = None,
) -> Observed:
    """Read what a launch of ``loaded`` into ``project_name`` would find (reads only).

    The runtime comes first: a runtime the workspace lacks stops the plan before anything is written.
    """
    amp = loaded.amp
    require_runtime(client, amp, runtime_identifier)
    runtime = amp.runtime()
    client.runtime_addons.resolve(runtime.addons if runtime else [])  # as the launch does, before a write
    obs = Observed(project=client.projects.find(project_name))
    if obs.project is None:
        return obs
    pid = obs.project.id
    if files is not None and files.files:
        obs.present_files = client.projects.file_sizes(pid, files.files)
    for i, task in enumerate(amp.tasks):
        if isinstance(task, CreateJob) and task.name not in obs.jobs:
            obs.jobs[task.name] = read_job(client, pid, task.name)
        elif isinstance(task, RunSession):
            name = session_job_name(amp, i)
            obs.jobs[name] = read_job(client, pid, name)
        elif isinstance(task, CreateModel) and task.name not in obs.models:
            obs.models[task.name] = read_model(client, pid, task.name)
        elif isinstance(task, StartApplication):
            obs.applications[task.name] = client.applications.find(pid, task.name)
    for task_index, task in enumerate(amp.tasks):
        if isinstance(task, DeployModel):
            model_task = amp.model_for(task.entity_label)
            facts = obs.models.get(model_task.name) if model_task else None
            build_task = amp.build_for(task.entity_label, before=task_index)
            build = pick_build(facts.builds, build_task) if facts and facts.model and build_task else None
            if build is not None and build.id not in obs.deployments:
                obs.deployments[build.id] = list(
                    client.models.list_deployments(pid, facts.model.id, build.id)  # type: ignore[union-attr]
                )
    return obs


# --- decisions (shared by plan and launch) ------------------------------------------------------------


def pick_build(builds: list[ModelBuild], task: BuildModel) -> ModelBuild | None:
    """The newest build of this file/function that is built, else one still in progress."""

    def same_source(b: ModelBuild) -> bool:
        file_path = getattr(b, "file_path", "") or ""
        function = getattr(b, "function_name", "") or ""
        return (not file_path or file_path == task.target_file_path) and (
            not function or function == task.target_function_name
        )

    usable = [b for b in builds if same_source(b) and b.status.lower() not in BUILD_FAILED]
    built = sorted(
        (b for b in usable if b.status.lower() in BUILD_OK), key=lambda b: b.created_at, reverse=True
    )
    if built:
        return built[0]
    active = sorted(usable, key=lambda b: b.created_at, reverse=True)
    return active[0] if active else None


def decide_run(facts: JobFacts | None, *, fresh_job: bool, rerun: bool) -> tuple[str, str]:
    """run | wait | skip for a run_job / run_session, with the reason."""
    if facts is None or facts.job is None:
        return "run", "the job is new"
    if facts.active is not None:
        return "wait", f"run {facts.active.id} is in progress"
    if fresh_job:
        return "run", "the job was created or changed by this launch"
    if facts.last_success is not None and not rerun:
        return "skip", f"run {facts.last_success.id} already succeeded"
    return "run", "rerun requested" if facts.last_success is not None else "no successful run yet"


def decide_deploy(deployments: list[ModelDeployment]) -> tuple[str, str, ModelDeployment | None]:
    for d in deployments:
        if d.status.lower() in DEPLOY_OK:
            return "skip", f"deployment {d.id} is deployed", d
    for d in deployments:
        if d.status.lower() in DEPLOY_ACTIVE:
            return "wait", f"deployment {d.id} is {d.status}", d
    return "deploy", "the build is not deployed", None


def decide_application(app: Application | None) -> tuple[str, str]:
    if app is None:
        return "start", "new application (created and started)"
    if app.status in APP_RUNNING:
        return "skip", f"application {app.id} is running"
    if app.status in APP_ACTIVE:
        return "wait", f"application {app.id} is {app.status or 'starting'}"
    return "restart", f"application {app.id} is {app.status}"


# --- the plan ----------------------------------------------------------------------------------------------


@dataclass
class Step:
    """One step of a launch: a task (``index``) or a project-level step (``index`` None)."""

    index: int | None
    task: str
    title: str
    action: str
    calls: list[str] = field(default_factory=list)
    reason: str = ""
    summary: str = ""
    changes: dict[str, list[Any]] = field(default_factory=dict)
    status: str = "planned"  # planned | done | skipped | failed
    ids: dict[str, str] = field(default_factory=dict)

    @property
    def is_change(self) -> bool:
        return self.action not in ("reuse", "skip")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class LaunchPlan:
    amp: str
    project: str
    project_exists: bool
    runtime: dict[str, str]
    environment: dict[str, str]
    steps: list[Step]
    notes: list[str] = field(default_factory=list)

    @property
    def has_changes(self) -> bool:
        return any(s.is_change for s in self.steps)

    def to_dict(self) -> dict[str, Any]:
        return {
            "amp": self.amp,
            "project": self.project,
            "project_exists": self.project_exists,
            "runtime": self.runtime,
            "environment": masked(self.environment),
            "has_changes": self.has_changes,
            "steps": [s.to_dict() for s in self.steps],
            "notes": list(self.notes),
        }


def files_step(
    files: UploadSet, present: Mapping[str, int], pid: str, exists: bool, notes: list[str]
) -> Step:
    """The upload step: how many of the files that really go are missing in the project."""
    missing = [f for f in files.files if f not in present]
    differing = changed_files(files, dict(present))
    if differing:
        shown = ", ".join(differing[:5]) + (" ..." if len(differing) > 5 else "")
        notes.append(
            f"{len(differing)} file(s) differ from the project's copy and are not overwritten ({shown}); "
            "delete them in the project to upload them again"
        )
    notes.append(f"files: {files.describe()}")
    if not missing:
        return Step(None, "files", f"{len(files.files)} file(s)", "reuse", [], "all present")
    return Step(
        None,
        "files",
        f"{len(missing)} of {len(files.files)} file(s)",
        "upload",
        [f"POST {API}/{pid}/files"],
        f"{len(files.files) - len(missing)} already in the project" if exists else "",
    )


def runtime_wanted(amp: AmpFile) -> dict[str, str]:
    runtime = amp.runtime()
    if runtime is None:
        return dict(DEFAULT_RUNTIME)
    return {"editor": runtime.editor, "kernel": runtime.kernel, "edition": runtime.edition}


def require_runtime(client: CMLClient, amp: AmpFile, runtime_identifier: str | None) -> str:
    """The runtime a launch would use; an InputError when the workspace does not offer it."""
    if runtime_identifier:
        if not client.runtimes.exists(runtime_identifier):
            raise InputError(
                f"--runtime-id {runtime_identifier!r} is not a runtime of this workspace",
                hint="list them with `cmlops runtimes`",
            )
        return runtime_identifier
    return client.runtimes.pick(**runtime_wanted(amp)).image_identifier


def build_plan(
    loaded: LoadedAmp,
    *,
    project_name: str,
    environment: Mapping[str, str],
    observed: Observed | None = None,
    files: UploadSet | None = None,
    git_url: str | None = None,
    rerun: bool = False,
    kept: Sequence[str] = (),
) -> LaunchPlan:
    """What a launch would do, from what ``observe`` read (``observed`` None: an empty workspace).

    ``kept``: AMP variables whose value the project holds is kept over the AMP default (user-changed).
    """
    amp = loaded.amp
    obs = observed or Observed()
    exists = obs.project is not None
    steps: list[Step] = []
    notes: list[str] = []
    pid = obs.project.id if obs.project else "{project_id}"

    if exists:
        steps.append(Step(None, "project", repr(project_name), "reuse", [], f"found {pid}"))
        current = obs.project.environment  # type: ignore[union-attr]
        wanted = {**environment, RECORD_VAR: launch_record(amp, environment)}
        changes = {k: [current.get(k), v] for k, v in wanted.items() if current.get(k) != v}
        if changes:
            shown = {k: [masked({k: c or ""})[k], masked({k: v})[k]] for k, (c, v) in changes.items()}
            steps.append(
                Step(
                    None,
                    "environment",
                    "project environment",
                    "update",
                    [f"PATCH {API}/{pid}"],
                    f"{', '.join(sorted(changes))} changed",
                    changes=shown,
                )
            )
        for name in kept:
            notes.append(
                f"keeps {name} as the project holds it (set in the project or by an earlier --env, not the "
                f"AMP's default); --env {name}=... overrides it"
            )
    else:
        how = f"from git {git_url}" if git_url else "blank"
        calls = [f"POST {API}"] + ([f"GET {API}/{{project_id}} (until created)"] if git_url else [])
        steps.append(Step(None, "project", repr(project_name), "create", calls, how))
    if not git_url and files is not None:
        steps.append(files_step(files, obs.present_files or {}, pid, exists, notes))

    fresh_jobs: set[str] = set()
    model_actions: dict[str, str] = {}
    build_actions: dict[str, str] = {}
    for i, task in enumerate(amp.tasks):
        summary = task.short_summary or ""
        if isinstance(task, CreateJob):
            facts = obs.jobs.get(task.name)
            step = Step(i, task.type, task.title, "create", [f"POST {API}/{pid}/jobs"], summary=summary)
            if facts and facts.job:
                changes = job_changes(facts.job, job_fields(task))
                step.ids["job"] = facts.job.id
                if changes:
                    step.action, step.changes = "update", changes
                    step.calls = [f"PATCH {API}/{pid}/jobs/{facts.job.id}"]
                    step.reason = "the job differs from the task"
                else:
                    step.action, step.calls, step.reason = "reuse", [], f"job {facts.job.id} exists"
            if step.action in ("create", "update"):
                fresh_jobs.add(task.entity_label)
            steps.append(step)
        elif isinstance(task, RunJob | RunSession):
            if isinstance(task, RunJob):
                job_task = amp.job_for(task.entity_label)
                name = job_task.name if job_task else task.entity_label
                facts = obs.jobs.get(name)
                fresh = task.entity_label in fresh_jobs
                title = f"run_job {name!r}"
            else:
                name = session_job_name(amp, i)
                facts = obs.jobs.get(name)
                fresh = facts is None or facts.job is None
                title = f"run_session {task.name!r} (as job {name!r})"
            action, reason = decide_run(facts, fresh_job=fresh, rerun=rerun)
            jid = facts.job.id if facts and facts.job else "{job_id}"
            calls = (
                [f"POST {API}/{pid}/jobs"]
                if isinstance(task, RunSession) and not (facts and facts.job)
                else []
            )
            if action == "run":
                calls += [
                    f"POST {API}/{pid}/jobs/{jid}/runs",
                    f"GET {API}/{pid}/jobs/{jid}/runs/{{run_id}} (until done)",
                ]
            elif action == "wait":
                calls += [f"GET {API}/{pid}/jobs/{jid}/runs/{facts.active.id} (until done)"]  # type: ignore[union-attr]
            steps.append(Step(i, task.type, title, action, calls, reason, summary=summary))
        elif isinstance(task, CreateModel):
            facts_m = obs.models.get(task.name)
            if facts_m and facts_m.model:
                step = Step(
                    i, task.type, task.title, "reuse", [], f"model {facts_m.model.id} exists", summary
                )
                step.ids["model"] = facts_m.model.id
            else:
                step = Step(i, task.type, task.title, "create", [f"POST {API}/{pid}/models"], "", summary)
            if task.access_key_environment_variable:
                step.calls.append(f"PATCH {API}/{pid} (environment.{task.access_key_environment_variable})")
                step.reason = (step.reason + "; " if step.reason else "") + (
                    f"its access key goes to project variable {task.access_key_environment_variable}"
                )
            model_actions[task.entity_label] = step.action
            steps.append(step)
        elif isinstance(task, BuildModel):
            model_task = amp.model_for(task.entity_label)
            facts_m = obs.models.get(model_task.name) if model_task else None
            build = pick_build(facts_m.builds, task) if facts_m and facts_m.model else None
            mid = facts_m.model.id if facts_m and facts_m.model else "{model_id}"
            title = f"build_model {task.entity_label!r} ({task.target_file_path}:{task.target_function_name})"
            if build is not None and build.status.lower() in BUILD_OK:
                step = Step(i, task.type, title, "reuse", [], f"build {build.id} is built", summary)
            elif build is not None:
                step = Step(
                    i,
                    task.type,
                    title,
                    "wait",
                    [f"GET {API}/{pid}/models/{mid}/builds/{build.id} (until built)"],
                    f"build {build.id} is {build.status}",
                    summary,
                )
            else:
                step = Step(
                    i,
                    task.type,
                    title,
                    "build",
                    [
                        f"POST {API}/{pid}/models/{mid}/builds",
                        f"GET {API}/{pid}/models/{mid}/builds/{{build_id}} (until built)",
                    ],
                    "no build of this file and function yet",
                    summary,
                )
            if build is not None:
                step.ids["build"] = build.id
            build_actions[task.entity_label] = step.action
            if task.examples:
                notes.append(
                    f"task {i}: examples are shown on CML's model page; API v2 has no field for them"
                )
            steps.append(step)
        elif isinstance(task, DeployModel):
            model_task = amp.model_for(task.entity_label)
            facts_m = obs.models.get(model_task.name) if model_task else None
            build_task = amp.build_for(task.entity_label, before=i)
            build = (
                pick_build(facts_m.builds, build_task) if facts_m and facts_m.model and build_task else None
            )
            wanted = deployment_fields(amp, task)
            title = deploy_title(task, wanted)
            mid = facts_m.model.id if facts_m and facts_m.model else "{model_id}"
            bid = build.id if build else "{build_id}"
            if build is None or build_actions.get(task.entity_label) == "build":
                action, reason, dep = "deploy", "the build is new", None
            else:
                action, reason, dep = decide_deploy(obs.deployments.get(build.id, []))
            base = f"{API}/{pid}/models/{mid}/builds/{bid}/deployments"
            calls = {
                "deploy": [f"POST {base}", f"GET {base}/{{deployment_id}} (until deployed)"],
                "wait": [f"GET {base}/{dep.id if dep else ''} (until deployed)"],
                "skip": [],
            }[action]
            steps.append(Step(i, task.type, title, action, calls, reason, summary))
        elif isinstance(task, StartApplication):
            app = obs.applications.get(task.name)
            action, reason = decide_application(app)
            aid = app.id if app else "{application_id}"
            calls = {
                "start": [
                    f"POST {API}/{pid}/applications",
                    f"GET {API}/{pid}/applications/{aid} (until running)",
                ],
                "restart": [
                    f"POST {API}/{pid}/applications/{aid}:restart",
                    f"GET {API}/{pid}/applications/{aid} (until running)",
                ],
                "wait": [f"GET {API}/{pid}/applications/{aid} (until running)"],
                "skip": [],
            }[action]
            title = f"start_application {task.name!r} (subdomain {task.subdomain})"
            steps.append(Step(i, task.type, title, action, calls, reason, summary))
    runtime = amp.runtime()
    if runtime and runtime.addons:
        notes.append(
            f"runtime add-on(s) {', '.join(runtime.addons)} are looked up by name in GET /api/v2/runtimeaddons "
            "and attached to the jobs, model builds and applications (the local workspace has none)"
        )
    if amp.feature_dependencies:
        notes.append(
            f"feature dependencies not checked through API v2: {', '.join(amp.feature_dependencies)}"
        )
    return LaunchPlan(
        amp=amp.name,
        project=project_name,
        project_exists=exists,
        runtime=runtime_wanted(amp),
        environment=dict(environment),
        steps=steps,
        notes=notes,
    )
