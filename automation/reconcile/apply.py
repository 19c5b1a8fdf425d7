"""apply(plan): make the workspace match the spec, step by step, in dependency order.

Every create looks the resource up by name first, so a retry after a crash or a lost answer never
makes a twin; every step that the next one depends on is waited for (project created, run
succeeded, version ready, build built, deployment deployed). Interrupting and re-running is safe:
the next plan sees what exists and what is still in progress, and continues from there.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from automation.api import CMLClient
from automation.api.base import WaitEvent
from automation.api.creates import create_once
from automation.api.jobs import RUN_ACTIVE
from automation.api.models import DEPLOY_ACTIVE
from automation.api.types import Job, JobRun
from automation.errors import CmlopsError, GateFailed, NotFound
from automation.reconcile import desired
from automation.reconcile.applications import apply_application
from automation.reconcile.chain import follow_chain
from automation.reconcile.desired import matches
from automation.reconcile.model import Action, Kind, Plan, Res
from automation.reconcile.observe import Observed, observe_candidate
from automation.reconcile.ownership import (
    created_description,
    created_environment,
    keep_description_mark,
    keep_mark,
)
from automation.reconcile.plan.common import JOB_FIELDS_CML_MAY_IGNORE, job_fields
from automation.reconcile.selection import check_thresholds
from automation.reconcile.sources import application_files
from automation.reconcile.summary import summary_ids


@dataclass
class StepReport:
    resource: str
    kind: str
    name: str
    seconds: float
    detail: str = ""


@dataclass
class ApplyResult:
    """Ids and states of everything apply touched or found, for summaries and later steps."""

    ids: dict[str, Any] = field(default_factory=dict)
    steps: list[StepReport] = field(default_factory=list)
    gates: list[dict[str, Any]] = field(default_factory=list)
    writes: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "ids": dict(self.ids),
            "steps": [s.__dict__ for s in self.steps],
            "gates": self.gates,
            "writes": self.writes,
        }


StepCallback = Callable[[Action, str], None]  # (action, "start" | "done: <detail>")


class Applier:
    def __init__(
        self,
        client: CMLClient,
        spec: Any,
        obs: Observed,
        *,
        local_files: dict[str, bytes] | None = None,
        on_step: StepCallback | None = None,
        on_progress: Callable[[WaitEvent], None] | None = None,
        check_gates: bool = True,
    ) -> None:
        self.client, self.spec, self.obs = client, spec, obs
        self.local_files = local_files or {}
        self.on_step = on_step
        self.on_progress = on_progress
        self.check_gates = check_gates
        self.result = ApplyResult()
        self.timeouts = spec.timeouts
        self._trained: dict[str, JobRun] = {}  # job name -> its successful run in this apply
        self._gated: set[str] = set()  # models whose gates were checked in this apply

    def run(self, plan: Plan) -> ApplyResult:
        writes_before = self.client.http.stats.writes()
        for action in plan.actions:
            if not action.is_change:
                continue
            handler = HANDLERS[action.type]
            started = time.monotonic()
            if self.on_step:
                self.on_step(action, "start")
            detail = handler(self, action) or ""
            elapsed = time.monotonic() - started
            self.result.steps.append(
                StepReport(action.resource, action.kind, action.name, round(elapsed, 2), detail)
            )
            if self.on_step:
                self.on_step(action, f"done in {elapsed:.1f}s {detail}".rstrip())
        self.result.writes = self.client.http.stats.writes() - writes_before
        self._collect_ids()
        return self.result

    # -- projects -------------------------------------------------------------------------------

    def _project(self, action: Action) -> str:
        key = action.key
        pspec = getattr(self.spec.projects, key)
        projects = self.client.projects
        want = action.desired
        if action.kind is Kind.CREATE:
            existing = projects.find(pspec.name)  # a retry must not create a twin
            project = existing or create_once(
                lambda: projects.create(
                    pspec.name,
                    description=want["description"],
                    environment=created_environment(want["environment"], self.spec.name),
                    **(
                        {"git_url": pspec.source.git_url, "git_ref": pspec.source.git_ref}
                        if key == "dev" and pspec.source and pspec.source.git_url
                        else {}
                    ),
                ),
                lambda: projects.find(pspec.name),
            )
            project = projects.wait_created(
                project.id, timeout=self.timeouts.project, on_progress=self.on_progress
            )
        else:
            observed = getattr(self.obs, key)
            project = projects.update(
                action.id,
                description=want["description"],
                environment=keep_mark(want["environment"], observed.environment if observed else None),
            )
        setattr(self.obs, key, project)
        return f"id {project.id}"

    def _files(self, action: Action) -> str:
        project_id = self.obs.project(action.key).id
        local = self.local_files if action.key == "dev" else application_files(self.spec, action.key)
        for path, (remote_size, _local_size) in action.changes.items():
            if remote_size is not None:
                try:
                    self.client.projects.delete_file(project_id, path)  # uploads never overwrite in CML
                except NotFound:
                    pass
            content = local[path]
            create_once(
                lambda p=path, c=content: self.client.projects.upload_file(project_id, p, c),
                lambda p=path, c=content: (
                    self.client.projects.file_sizes(project_id, [p]).get(p) == len(c) or None
                ),
            )
        sizes = {path: len(local[path]) for path in action.changes}
        twins = self.client.projects.remove_upload_twins(project_id, sizes)
        return f"{len(action.changes)} file(s)" + (
            f", {twins} twin(s) of a concurrent upload removed" if twins else ""
        )

    # -- training -------------------------------------------------------------------------------

    def _job(self, action: Action) -> str:
        want = dict(action.desired)
        after = want.pop("after")
        parent = self.obs.jobs.get(after) if after else None  # planned (so made) before this job
        job, detail = self._ensure_job(action.key, want, parent.id if parent is not None else "")
        self.obs.jobs[action.key] = job
        return detail

    def _ensure_job(self, name: str, want: dict[str, Any], parent_id: str) -> tuple[Job, str]:
        """The job ``name`` with the fields of ``want`` and parent ``parent_id``: found, created once,
        updated, or replaced."""
        dev_id = self.obs.dev.id
        job = self.client.jobs.find(dev_id, name)
        if job is None:
            marked = {**want, "environment": created_environment(want["environment"], self.spec.name)}
            job = create_once(
                lambda: self.client.jobs.create(dev_id, name=name, parent_id=parent_id or None, **marked),
                lambda: self.client.jobs.find(dev_id, name),
            )
        else:
            have = job_fields(job, want)
            changes = {k: v for k, v in want.items() if have[k] != v}
            if job.parent_id != parent_id:
                changes["parent_id"] = parent_id
            if "environment" in changes:
                changes["environment"] = keep_mark(changes["environment"], job.environment)
            if changes:
                self.client.jobs.update(dev_id, job.id, **changes)
                job = self.client.jobs.get(dev_id, job.id)  # what CML kept, not what it echoed
                ignored = [
                    k for k in JOB_FIELDS_CML_MAY_IGNORE if k in changes and getattr(job, k) != want[k]
                ]
                if ignored:
                    return self._replace_job(name, job, want, ignored)
        return job, f"id {job.id}"

    def _replace_job(self, name: str, old: Any, want: dict[str, Any], ignored: list[str]) -> tuple[Job, str]:
        """CML left ``ignored`` unchanged after a PATCH: create the job anew, move the parent link
        of its dependent jobs to the new one, delete the old one (so the next plan converges)."""
        dev_id, jobs = self.obs.dev.id, self.client.jobs

        def twin() -> Any:  # a replacement an interrupted apply already made
            return next(
                (
                    j
                    for j in jobs.list(dev_id, search_filter={"name": name})
                    if j.name == name and j.id != old.id and job_fields(j, want) == want
                ),
                None,
            )

        fields = {**want, "environment": keep_mark(want["environment"], old.environment)}
        new = twin() or create_once(
            lambda: jobs.create(dev_id, name=name, parent_id=old.parent_id or None, **fields), twin
        )
        moved = 0
        for job in list(jobs.list(dev_id)):
            if job.parent_id == old.id and job.id != new.id:
                jobs.update(dev_id, job.id, parent_id=new.id)
                moved += 1
        try:
            jobs.delete(dev_id, old.id)
        except NotFound:
            pass
        return new, (
            f"replaced job {old.id} by {new.id}: CML left {', '.join(ignored)} unchanged after the PATCH"
            + (f"; {moved} dependent job(s) moved" if moved else "")
        )

    def _active_run(self, job_id: str) -> Any:
        """An active run of ``job_id`` (among its latest five), or None."""
        runs = self.client.jobs.list_runs(self.obs.dev.id, job_id, limit=5)
        return next((r for r in runs if r.status in RUN_ACTIVE), None)

    def _start_run(self, job_id: str) -> JobRun:
        """Start a run of ``job_id`` once, even if the answer to the create is lost."""
        dev_id = self.obs.dev.id
        return create_once(
            lambda: self.client.jobs.start_run(dev_id, job_id),
            # apply starts a run only when none is active, so an active one now is ours
            lambda: self._active_run(job_id),
        )

    def _job_run(self, action: Action) -> str:
        """Train: start the root of the model's job chain (an active run of it is finished, not
        started twice) and follow the runs CML starts down to the model's job."""
        model, m = self.spec.models[action.key], self.obs.models[action.key]
        dev_id, chain = self.obs.dev.id, [*self.spec.ancestors(model.job), model.job]
        timeout = self.spec.job_timeout(model.job)
        started = ""
        if action.kind is Kind.WAIT:
            job_id = self.obs.jobs[model.job].id
            run = self.client.jobs.wait_run(
                dev_id, job_id, action.id, timeout=timeout, on_progress=self.on_progress
            )
        else:
            ids = [(name, self.obs.jobs[name].id) for name in chain]
            # a job of the chain another model's chain ran in this apply: follow on from its run
            ran = max((i for i, name in enumerate(chain) if name in self._trained), default=None)
            if ran is not None:
                root = self._trained[chain[ran]]
                ids = ids[ran:]
            else:
                root = self._active_run(ids[0][1]) or self._start_run(ids[0][1])
                if len(chain) > 1:
                    started = f"started {chain[0]!r} run {root.id}, "
            runs = follow_chain(self.client, dev_id, root, ids, timeout=timeout, on_progress=self.on_progress)
            self._trained.update(runs)
            run = runs[model.job]
        self._trained[model.job] = run
        m.last_success_run, m.active_run = run, None
        observe_candidate(self.client, model, m, dev_id)
        if m.mlflow_run is None:
            raise CmlopsError(
                f"job run {run.id} succeeded but no finished MLflow run in experiment "
                f"{model.experiment!r} logged a model under {model.artifact_path!r}",
                hint=f"check models.{action.key}.experiment and artifact_path against what the script logs",
            )
        return f"{started}run {run.id} {run.status}, MLflow run {m.mlflow_run.id}"

    # -- registry -------------------------------------------------------------------------------

    def _gate(self, name: str) -> None:
        if not self.check_gates or name in self._gated:
            return
        self._gated.add(name)
        m = self.obs.models[name]
        results = check_thresholds(m.mlflow_run.metrics, self.spec.models[name].gates)
        self.result.gates += [r.to_dict() for r in results]
        failed = [r for r in results if not r.passed]
        if failed:
            text = ", ".join(f"{r.metric}={r.value} (needs {r.threshold})" for r in failed)
            raise GateFailed(
                f"gate failed for MLflow run {m.mlflow_run.id} of model {name!r}: {text}; nothing was built",
                results=self.result.gates,
            )

    def _model_version(self, action: Action) -> str:
        name, dev_id = action.key, self.obs.dev.id
        model, m = self.spec.models[name], self.obs.models[name]
        run = m.mlflow_run  # observed by the plan, or by this apply's training step (planned first)
        if run is None:
            raise CmlopsError(f"no MLflow run to register in experiment {model.experiment!r}")
        self._gate(name)
        version = m.version
        if version is None:
            registered = create_once(
                lambda: self.client.registry.register(
                    project_id=dev_id,
                    experiment_id=m.experiment.id,
                    run_id=run.id,
                    model_path=model.artifact_path,
                    model_name=name,
                    tags={"cmlops.spec": self.spec.name},
                ),
                lambda: self._registered_with(name, run.id),
            )
            m.registered = registered
            version = self.client.registry.version_of_run(registered, run.id)
        version = self.client.registry.wait_version(
            m.registered.model_id,
            version.model_version_id,
            timeout=self.timeouts.registry,
            on_progress=self.on_progress,
        )
        m.version = version
        return f"version {version.number} ({version.model_version_id})"

    def _registered_with(self, name: str, run_id: str) -> Any:
        """The registered model ``name`` when one of its versions came from ``run_id``, else None."""
        registered = self.client.registry.find(name)
        if registered is None:
            return None
        versions = [v for v in self.client.registry.versions(registered.model_id) if v.run_id == run_id]
        return registered.model_copy(update={"model_versions": versions}) if versions else None

    # -- serving --------------------------------------------------------------------------------

    def _endpoint(self, action: Action) -> str:
        prd_id, m = self.obs.prd.id, self.obs.models[action.key]
        name, want = action.name, action.desired
        models = self.client.models
        if action.kind is Kind.UPDATE:
            description = keep_description_mark(want["description"], m.model.description)
            m.model = models.update(prd_id, action.id, description=description)
            return f"id {action.id}"
        if action.kind is Kind.REPLACE:
            self._stop_deployments(action.key, exclude=None)
            models.delete(prd_id, action.id)
        model = models.find(prd_id, name) if action.kind is Kind.CREATE else None
        model = model or create_once(
            lambda: models.create(
                prd_id,
                name=name,
                description=created_description(want["description"], self.spec.name),
                registered_model_id=m.registered.model_id,
                disable_authentication=not want["auth_enabled"],
            ),
            lambda: models.find(prd_id, name),
        )
        m.model = model
        m.build = None
        return f"id {model.id}"

    def _build(self, action: Action) -> str:
        m = self.obs.models[action.key]
        prd_id, model_id = self.obs.prd.id, m.model.id
        if action.kind is Kind.WAIT:
            build_id = action.id
        else:
            self._gate(action.key)
            version_id = m.version.model_version_id

            def existing() -> Any:
                return next(
                    (
                        b
                        for b in self.client.models.list_builds(prd_id, model_id)
                        if b.registered_model_version_id == version_id
                        and b.status.lower() not in ("build failed", "failed", "timedout")
                    ),
                    None,
                )

            build = existing() or create_once(
                lambda: self.client.models.create_build(
                    prd_id,
                    model_id,
                    registered_model_version_id=version_id,
                    runtime_identifier=self.obs.build_runtime(action.key),
                    comment=f"cmlops: {action.key} v{m.version.number}",
                ),
                existing,
            )
            build_id = build.id
        m.build = self.client.models.wait_build(
            prd_id, model_id, build_id, timeout=self.timeouts.build, on_progress=self.on_progress
        )
        return f"build {build_id}"

    def _deployment(self, action: Action) -> str:
        m, ep = self.obs.models[action.key], self.spec.models[action.key].endpoint
        prd_id, model_id, build_id = self.obs.prd.id, m.model.id, m.build.id
        if action.kind is Kind.WAIT:
            dep_id = action.id
        else:

            def existing() -> Any:
                return next(
                    (
                        x
                        for x in self.client.models.list_deployments(prd_id, model_id, build_id)
                        if x.status.lower() in DEPLOY_ACTIVE and matches(x, ep)
                    ),
                    None,
                )

            dep = existing() or create_once(
                lambda: self.client.models.create_deployment(
                    prd_id, model_id, build_id, **desired.deployment_request(ep)
                ),
                existing,
            )
            dep_id = dep.id
        m.deployment = self.client.models.wait_deployment(
            prd_id, model_id, build_id, dep_id, timeout=self.timeouts.deployment, on_progress=self.on_progress
        )
        stopped = self._stop_deployments(action.key, exclude=dep_id)
        return f"deployment {dep_id}" + (f", stopped {stopped} older" if stopped else "")

    def _old_deployments(self, action: Action) -> str:
        m = self.obs.models[action.key]
        return (
            f"stopped {self._stop_deployments(action.key, exclude=m.deployment.id if m.deployment else None)}"
        )

    def _stop_deployments(self, name: str, exclude: str | None) -> int:
        """Stop every active deployment of the model's PRD endpoint except ``exclude`` (after the
        new one serves)."""
        prd_id, m = self.obs.prd.id, self.obs.models[name]  # m.model: every caller has the endpoint
        stopped = 0
        for build in self.client.models.list_builds(prd_id, m.model.id):
            for dep in self.client.models.list_deployments(prd_id, m.model.id, build.id):
                if dep.id != exclude and dep.status.lower() in DEPLOY_ACTIVE:
                    self.client.models.stop_deployment(prd_id, m.model.id, build.id, dep.id)
                    stopped += 1
        m.other_deployments = []
        return stopped

    # -- summary --------------------------------------------------------------------------------

    def _collect_ids(self) -> None:
        self.result.ids = summary_ids(self.obs)


Handler = Callable[[Applier, Action], str]
HANDLERS: dict[Res, Handler] = {
    Res.PROJECT: Applier._project,
    Res.FILES: Applier._files,
    Res.JOB: Applier._job,
    Res.JOB_RUN: Applier._job_run,
    Res.APPLICATION: apply_application,
    Res.MODEL_VERSION: Applier._model_version,
    Res.ENDPOINT: Applier._endpoint,
    Res.BUILD: Applier._build,
    Res.DEPLOYMENT: Applier._deployment,
    Res.OLD_DEPLOYMENTS: Applier._old_deployments,
}
