"""promote and rollback: put a registered model version into PRD only when it is good, and put PRD
back as it was when anything fails.

The order is what makes it safe. First decide, with reads only: the candidate version and its MLflow
run's metrics, what PRD serves now and that version's metrics, and the spec's gates. Then act:
register the run (if needed), build the version in the PRD model (reusing a build of the same
version), deploy it next to the current deployment, smoke-test it, and only then stop the previous
deployment and record the promotion as tags on the registered versions (see ``history``). When the
build, the deployment or the smoke test fails, the new deployment is stopped and the previous one is
made to serve again (restarted if the platform had stopped it).

Decisions made here (README, "CI-driven promotion"):

* the PRD project and model must exist: promote changes what PRD serves, creating PRD is
  ``cmlops bootstrap``'s job, so a missing one is refused with that hint (exit 2, nothing written);
* promoting the version that already serves alone is a no-op (exit 0, zero writes, gates not run);
* "no worse than PRD" fails closed: when PRD serves a version whose metrics cannot be read, the gate
  fails rather than letting an unknown comparison through;
* rollback skips the gates (it is the escape hatch) but builds, deploys and smoke-tests like promote.

Every outcome is a :class:`PromotionReport` (what CI stores as JSON); the CLI exits with its
``exit_code``. Nothing here prints.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from automation.api import CMLClient
from automation.api.base import WaitEvent
from automation.api.creates import create_once
from automation.api.models import BUILD_FAILED, DEPLOY_ACTIVE
from automation.api.types import (
    ExperimentRun,
    Model,
    ModelBuild,
    ModelDeployment,
    RegisteredModel,
    RegisteredModelVersion,
)
from automation.errors import (
    EXIT_GATE,
    ApiError,
    CmlopsError,
    GateFailed,
    InputError,
    NotFound,
)
from automation.reconcile.observe import matches
from automation.reconcile.selection import (
    FINISHED,
    PROJECT_TAG,
    belongs,
    logged_model,
    select_run,
)
from automation.workflows import history as hist
from automation.workflows.promotion_state import (
    ActiveDeployment,
    PrdState,
    PromotionReport,
    RegistryView,
    Step,
    VersionRef,
    evaluate_gates,
    load_registry,
    observe_prd,
    read_metrics,
)
from automation.workflows.smoke import smoke_test

StepCallback = Callable[[str, str, str], None]  # (step, "start" | "ok" | "failed" | "skipped", detail)

# Failures in these steps put PRD back as it was; later steps only finish the bookkeeping.
ROLLBACK_STEPS = ("register", "build", "deploy", "smoke")


# -- the work -----------------------------------------------------------------------------------


class Promotion:
    """One promote or rollback run: decide with reads, then act in the safe order, then record."""

    def __init__(
        self,
        client: CMLClient,
        spec: Any,
        *,
        action: str,
        dry_run: bool = False,
        on_step: StepCallback | None = None,
        on_progress: Callable[[WaitEvent], None] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.client, self.spec, self.action, self.dry_run = client, spec, action, dry_run
        self.on_step = on_step
        self.on_progress = on_progress
        self.report = PromotionReport(
            action=action,
            spec=spec.name,
            dry_run=dry_run,
            git_commit=hist.git_commit(env),
            started_at=hist.utc_now_iso(),
        )
        self._dev_id: str | None = None
        self._dev_looked_up = False
        self._new: ActiveDeployment | None = None
        self._new_build: ModelBuild | None = None
        self._current = ""  # the step running now (named in the report when it fails)

    # -- reads ------------------------------------------------------------------------------

    def dev_project_id(self) -> str | None:
        if not self._dev_looked_up:
            dev = self.client.projects.find(self.spec.projects.dev.name)
            self._dev_id = dev.id if dev else None
            self._dev_looked_up = True
        return self._dev_id

    def ref(self, version: RegisteredModelVersion) -> VersionRef:
        metrics, why = read_metrics(self.client, version, self.dev_project_id)
        return VersionRef(
            number=int(version.number),
            version_id=version.model_version_id,
            run_id=version.run_id,
            experiment_id=version.experiment_id,
            project_id=str(version.model_version_metadata.get("project_id") or ""),
            metrics=metrics,
            metrics_error=why,
            stage=version.tag_map.get(hist.STAGE),
        )

    def run_ref(
        self, reg: RegistryView, run: ExperimentRun, project_id: str, experiment_id: str
    ) -> VersionRef:
        version = reg.by_run(run.id)
        if version is not None:
            ref = self.ref(version)
            ref.metrics, ref.metrics_error = run.metrics, None  # the run we already read
            return ref
        return VersionRef(None, None, run.id, experiment_id, project_id, run.metrics)

    def candidate(self, reg: RegistryView, *, version: int | None, run_id: str | None) -> VersionRef:
        """The version to promote: ``--version N``, ``--run-id ID`` or the spec's selection."""
        name = self.spec.model.registered_name
        if version is not None:
            found = reg.by_number(version)
            if found is None:
                have = (
                    ", ".join(str(v.number) for v in sorted(reg.versions, key=lambda v: v.number)) or "none"
                )
                raise InputError(
                    f"--version {version}: registered model {name!r} has no version {version} (versions: {have})",
                    hint="list them with `cmlops history SPEC` or pick a run with --run-id",
                )
            return self.ref(found)
        dev_id = self.dev_project_id()
        experiment_name = self.spec.training.experiment
        experiment = self.client.experiments.find(dev_id, experiment_name) if dev_id else None
        if experiment is None:
            raise InputError(
                f"no experiment {experiment_name!r} in DEV project {self.spec.projects.dev.name!r}",
                hint="train a model first: `cmlops apply SPEC` runs the training job",
            )
        if run_id is not None:
            try:
                run = self.client.experiments.get_run(dev_id, experiment.id, run_id)
            except NotFound:
                raise InputError(
                    f"--run-id {run_id}: no such run in experiment {experiment_name!r}",
                    hint="copy the run id from the DEV project's Experiments tab",
                ) from None
            if run.status not in FINISHED:
                raise InputError(f"--run-id {run_id}: the run is {run.status}, not finished")
            if not belongs(run, dev_id):
                raise InputError(
                    f"--run-id {run_id}: the run belongs to project {run.tags.get(PROJECT_TAG)!r}, "
                    f"not to DEV project {self.spec.projects.dev.name!r}",
                    hint="promote a run of the DEV project",
                )
        else:
            runs = list(
                self.client.experiments.list_runs(dev_id, experiment.id, sort="-start_time", limit=50)
            )
            run = select_run(runs, self.spec.model, dev_id, {v.run_id for v in reg.versions if v.run_id})
            if run is None:
                raise InputError(
                    f"no finished run in experiment {experiment_name!r} logged the model under "
                    f"{self.spec.model.artifact_path!r}",
                    hint="train a model first (`cmlops apply SPEC --retrain`), or pass --version N",
                )
        if not logged_model(run, self.spec.model.artifact_path) and reg.by_run(run.id) is None:
            raise InputError(
                f"run {run.id} did not log a model under {self.spec.model.artifact_path!r}: its artifacts "
                f"hold no {self.spec.model.artifact_path}/MLmodel and no log-model tag names that path",
                hint="pick a run that logged the model, e.g. mlflow.sklearn.log_model(model, "
                f"{self.spec.model.artifact_path!r}), or set model.artifact_path in the spec",
            )
        return self.run_ref(reg, run, dev_id, experiment.id)

    # -- the decision -----------------------------------------------------------------------

    def run(
        self, reg: RegistryView, prd: PrdState, cand: VersionRef, *, check_gates: bool
    ) -> PromotionReport:
        report = self.report
        others = prd.others(cand.version_id)
        previous = self._previous(reg, others)
        current = prd.of_version(cand.version_id)
        if current:
            cand.build_id, cand.deployment_id = current[0].build.id, current[0].deployment.id
        report.candidate = cand.to_dict()
        report.previous = previous.to_dict() if previous else None
        if current and not others and any(a.deployment.status.lower() == "deployed" for a in current):
            report.previous = report.candidate  # what served before this command: the candidate itself
            report.outcome = "noop"
            return self._finish()
        if check_gates:
            results = evaluate_gates(self.spec, cand, previous)
            report.gates = [r.to_dict() for r in results]
            failed = [r for r in results if not r.passed]
            if failed:
                text = "; ".join(f"{r.metric}={_num(r.value)} (needs {r.threshold})" for r in failed)
                err = GateFailed(
                    f"gate failed for {cand.label}: {text}; nothing was built", results=report.gates
                )
                report.outcome, report.error, report.exit_code = "refused", err.to_dict(), EXIT_GATE
                return self._finish()
        if self.dry_run:
            report.steps = self._planned(reg, prd, cand, others, previous)
            report.outcome = "planned"
            return self._finish()
        self._execute(reg, prd, cand, others, previous)
        return self._finish()

    def _previous(self, reg: RegistryView, others: list[ActiveDeployment]) -> VersionRef | None:
        if not others:
            return None
        primary = others[0]
        version = reg.by_id(primary.version_id)
        if version is not None:
            ref = self.ref(version)
        else:
            why = (
                f"build {primary.build.id} is not from registered model {self.spec.model.registered_name!r}"
                if primary.version_id
                else f"build {primary.build.id} was not built from the model registry"
            )
            ref = VersionRef(None, primary.version_id or None, "", metrics=None, metrics_error=why)
        ref.build_id, ref.deployment_id = primary.build.id, primary.deployment.id
        return ref

    def _finish(self) -> PromotionReport:
        self.report.finished_at = hist.utc_now_iso()
        return self.report

    def _planned(
        self,
        reg: RegistryView,
        prd: PrdState,
        cand: VersionRef,
        others: list[ActiveDeployment],
        previous: VersionRef | None,
    ) -> list[Step]:
        steps: list[Step] = []
        if cand.version_id is None:
            steps.append(
                Step(
                    "register",
                    "planned",
                    detail=f"register run {cand.run_id} as a new version of {self.spec.model.registered_name!r}",
                )
            )
        kind, build = self._build_choice(prd, cand.version_id)
        steps.append(
            Step(
                "build",
                "planned",
                detail={
                    "reuse": f"reuse build {build.id if build else ''} (built)",
                    "wait": f"wait for build {build.id if build else ''} ({build.status if build else ''})",
                    "create": f"build {cand.label} in model {prd.model.name!r}",
                }[kind],
            )
        )
        reuse = self._deployment_to_reuse(prd, build) if build else None
        d = self.spec.deployment
        steps.append(
            Step(
                "deploy",
                "planned",
                detail=f"reuse deployment {reuse.id} ({reuse.status})"
                if reuse
                else f"deploy it (cpu {d.cpu}, memory {d.memory} GB, {d.replicas} replica(s))",
            )
        )
        steps.append(
            Step("smoke", "planned", detail="smoke-test the new deployment with the spec's input")
            if d.smoke is not None
            else Step("smoke", "skipped", detail="the spec has no deployment.smoke")
        )
        stop = ", ".join(f"{a.deployment.id} ({self._version_label(reg, a)})" for a in others)
        steps.append(
            Step("stop_previous", "planned", detail=f"stop {stop}" if stop else "nothing serves yet")
        )
        retired = hist.ARCHIVED if self.action == "promote" else hist.ROLLED_BACK
        record = f"tag {cand.label} stage={hist.PRODUCTION}"
        if previous is not None and previous.number is not None:
            record += f"; version {previous.number} stage={retired}"
        steps.append(Step("record", "planned", detail=record))
        return steps

    @staticmethod
    def _version_label(reg: RegistryView, active: ActiveDeployment) -> str:
        version = reg.by_id(active.version_id)
        return f"version {version.number}" if version else f"build {active.build.id}"

    # -- acting -----------------------------------------------------------------------------

    def _step(self, name: str, fn: Callable[[], str]) -> None:
        """Run one step, timing it and recording ok/failed in the report; failures propagate."""
        started = time.monotonic()
        self._current = name
        try:
            if self.on_step:
                self.on_step(name, "start", "")
            detail = fn()
        except Exception as exc:
            message = exc.message if isinstance(exc, CmlopsError) else f"{type(exc).__name__}: {exc}"
            self.report.steps.append(Step(name, "failed", _secs(started), message))
            if self.on_step:
                self.on_step(name, "failed", message)
            raise
        self.report.steps.append(Step(name, "ok", _secs(started), detail))
        if self.on_step:
            self.on_step(name, "ok", detail)

    def _try_step(self, name: str, fn: Callable[[], str]) -> bool:
        """A best-effort step (putting PRD back, bookkeeping after a failure): recorded, never raised."""
        try:
            self._step(name, fn)
        except Exception:
            return False
        return True

    def _execute(
        self,
        reg: RegistryView,
        prd: PrdState,
        cand: VersionRef,
        others: list[ActiveDeployment],
        previous: VersionRef | None,
    ) -> None:
        report = self.report
        try:
            if cand.version_id is None:
                self._step("register", lambda: self._register(reg, cand))
            self._step("build", lambda: self._build(prd, cand))
            self._step("deploy", lambda: self._deploy(prd, cand))
            if self.spec.deployment.smoke is None:
                report.steps.append(Step("smoke", "skipped", detail="the spec has no deployment.smoke"))
            else:
                self._step("smoke", lambda: self._smoke(prd.model))
        except Exception as exc:
            failed_step = self._current
            self._put_back(prd, others)
            if cand.version_id is not None:
                self._try_step("record", lambda: self._record_rejected(reg, cand, failed_step))
            self._failed(exc, failed_step)
            if not isinstance(exc, CmlopsError):
                raise
            return
        try:
            self._step("stop_previous", lambda: self._stop_previous(prd, others))
            self._step("record", lambda: self._record_success(reg, cand, others, previous))
        except CmlopsError as exc:  # the new version serves and passed its smoke test: keep it
            exc.hint = exc.hint or "the new version serves; re-run the same command to finish"
            self._failed(exc, self._current)
            return
        report.outcome = "promoted"

    def _failed(self, exc: Exception, step: str) -> None:
        report = self.report
        report.outcome, report.failed_step = "failed", step
        if isinstance(exc, CmlopsError):
            report.error, report.exit_code = exc.to_dict(), exc.exit_code
        else:
            report.error = {"error": type(exc).__name__, "message": str(exc), "exit_code": 1}
            report.exit_code = 1

    def _register(self, reg: RegistryView, cand: VersionRef) -> str:
        registry, name = self.client.registry, self.spec.model.registered_name
        registered = create_once(
            lambda: registry.register(
                project_id=cand.project_id,
                experiment_id=cand.experiment_id,
                run_id=cand.run_id,
                model_path=self.spec.model.artifact_path,
                model_name=name,
                tags={"cmlops.spec": self.spec.name},
            ),
            lambda: self._registered_with(cand.run_id),
        )
        reg.registered = registered
        reg.versions = registry.versions(registered.model_id)
        version = reg.by_run(cand.run_id) or registry.version_of_run(registered, cand.run_id)
        version = registry.wait_version(
            registered.model_id,
            version.model_version_id,
            timeout=self.spec.timeouts.registry,
            on_progress=self.on_progress,
        )
        cand.number, cand.version_id = int(version.number), version.model_version_id
        self.report.candidate = cand.to_dict()
        return f"version {cand.number} ({cand.version_id})"

    def _registered_with(self, run_id: str) -> RegisteredModel | None:
        """After a lost answer to a registration: the model, if a version of ``run_id`` exists."""
        view = load_registry(self.client, self.spec)
        return view.registered if view.by_run(run_id) is not None else None

    def _build_choice(self, prd: PrdState, version_id: str | None) -> tuple[str, ModelBuild | None]:
        """reuse a built build of the version, wait for one in progress, or create one."""
        same = [
            b
            for b in prd.builds
            if version_id
            and b.registered_model_version_id == version_id
            and b.status.lower() not in BUILD_FAILED
            and not b.deletion_status
        ]
        built = sorted((b for b in same if b.status.lower() == "built"), key=lambda b: b.created_at)
        if built:
            return "reuse", built[-1]
        if same:
            return "wait", max(same, key=lambda b: b.created_at)
        return "create", None

    def _build_of_version(self, prd: PrdState, version_id: str | None) -> ModelBuild | None:
        """After a lost answer to a build create: the newest live build of the version, if any."""
        builds = [
            b
            for b in self.client.models.list_builds(prd.project.id, prd.model.id)
            if b.registered_model_version_id == version_id and b.status.lower() not in BUILD_FAILED
        ]
        return max(builds, key=lambda b: b.created_at, default=None)

    def _runtime(self) -> str:
        rt = self.spec.runtime
        if rt.identifier:
            return rt.identifier
        return self.client.runtimes.pick(
            editor=rt.editor, kernel=rt.kernel, edition=rt.edition
        ).image_identifier

    def _build(self, prd: PrdState, cand: VersionRef) -> str:
        models = self.client.models
        kind, build = self._build_choice(prd, cand.version_id)
        if kind == "reuse":
            self._new_build = build
            cand.build_id = build.id
            return f"reused build {build.id}"
        if build is None:
            runtime = self._runtime()
            build = create_once(
                lambda: models.create_build(
                    prd.project.id,
                    prd.model.id,
                    registered_model_version_id=cand.version_id,
                    runtime_identifier=runtime,
                    comment=f"cmlops {self.action}: {self.spec.model.registered_name} v{cand.number}",
                ),
                lambda: self._build_of_version(prd, cand.version_id),
            )
        cand.build_id = build.id
        build = models.wait_build(
            prd.project.id,
            prd.model.id,
            build.id,
            timeout=self.spec.timeouts.build,
            on_progress=self.on_progress,
        )
        self._new_build = build
        return f"{'built' if kind == 'create' else 'waited for'} build {build.id}"

    def _deployment_to_reuse(self, prd: PrdState, build: ModelBuild) -> ModelDeployment | None:
        """An active deployment of this very build with the spec's resources (a re-run finishing)."""
        return next(
            (a.deployment for a in prd.active if a.build.id == build.id and matches(a.deployment, self.spec)),
            None,
        )

    def _deploy(self, prd: PrdState, cand: VersionRef) -> str:
        models, build = self.client.models, self._new_build
        d = self.spec.deployment
        dep = self._deployment_to_reuse(prd, build)
        reused = dep is not None
        if dep is None:
            dep = create_once(
                lambda: models.create_deployment(
                    prd.project.id,
                    prd.model.id,
                    build.id,
                    cpu=float(d.cpu),
                    memory=float(d.memory),
                    replicas=int(d.replicas),
                    nvidia_gpus=int(d.gpus),
                    environment={k: str(v) for k, v in (d.environment or {}).items()},
                ),
                lambda: next(
                    (
                        x
                        for x in models.list_deployments(prd.project.id, prd.model.id, build.id)
                        if x.status.lower() in DEPLOY_ACTIVE and matches(x, self.spec)
                    ),
                    None,
                ),
            )
        self._new = ActiveDeployment(build, dep)
        cand.deployment_id = dep.id
        self.report.candidate = cand.to_dict()
        dep = models.wait_deployment(
            prd.project.id,
            prd.model.id,
            build.id,
            dep.id,
            timeout=self.spec.timeouts.deployment,
            on_progress=self.on_progress,
        )
        return f"{'reused' if reused else 'deployed'} deployment {dep.id}"

    def _smoke(self, model: Model) -> str:
        result = smoke_test(self.client, model, self.spec.deployment.smoke)
        return f"predictions {result['predictions']}"

    def _stop(self, prd: PrdState, active: ActiveDeployment) -> str:
        """Stop one deployment; one the platform already took down (CML replaces a model's
        deployment when a new one starts) may refuse the :stop, which is fine."""
        models, pid, mid = self.client.models, prd.project.id, prd.model.id
        bid, did = active.build.id, active.deployment.id
        try:
            models.stop_deployment(pid, mid, bid, did)
        except ApiError as exc:
            if exc.status is None or exc.status >= 500:
                raise
            if models.get_deployment(pid, mid, bid, did).status.lower() in DEPLOY_ACTIVE:
                raise
            return f"deployment {did} was already down"
        return f"stopped deployment {did}"

    def _stop_previous(self, prd: PrdState, others: list[ActiveDeployment]) -> str:
        return "; ".join(self._stop(prd, a) for a in others) or "nothing to stop"

    def _record_success(
        self, reg: RegistryView, cand: VersionRef, others: list[ActiveDeployment], previous: VersionRef | None
    ) -> str:
        now = hist.utc_now_iso()
        tags = hist.promotion_tags(
            run_id=cand.run_id,
            gates=self.report.gates if self.action == "promote" else None,
            action=self.action,
            replaced=previous.number if previous else None,
            now=now,
            commit=self.report.git_commit,
        )
        registry = self.client.registry
        registry.update_version(
            reg.model_id, cand.version_id, tags=hist.merged_tags(reg.by_id(cand.version_id), tags)
        )
        done = [f"{cand.label} stage={hist.PRODUCTION}"]
        retired: list[str] = []
        for a in others:
            version = reg.by_id(a.version_id)
            if version is None or version.model_version_id in retired:
                continue
            primary = previous is not None and version.model_version_id == previous.version_id
            stage = hist.ROLLED_BACK if self.action == "rollback" and primary else hist.ARCHIVED
            tags = hist.retired_tags(stage=stage, now=now)
            registry.update_version(
                reg.model_id, version.model_version_id, tags=hist.merged_tags(version, tags)
            )
            retired.append(version.model_version_id)
            done.append(f"version {version.number} stage={stage}")
        cand.stage = hist.PRODUCTION
        self.report.candidate = cand.to_dict()
        return "; ".join(done)

    def _record_rejected(self, reg: RegistryView, cand: VersionRef, step: str) -> str:
        tags = hist.rejected_tags(
            run_id=cand.run_id, step=step, now=hist.utc_now_iso(), commit=self.report.git_commit
        )
        self.client.registry.update_version(
            reg.model_id, cand.version_id, tags=hist.merged_tags(reg.by_id(cand.version_id), tags)
        )
        cand.stage = hist.REJECTED
        self.report.candidate = cand.to_dict()
        return f"{cand.label} stage={hist.REJECTED}"

    # -- putting PRD back -------------------------------------------------------------------

    def _put_back(self, prd: PrdState, others: list[ActiveDeployment]) -> None:
        """Stop the new deployment and make sure the previous ones serve again."""
        models, pid, mid = self.client.models, prd.project.id, prd.model.id
        new = self._new
        if new is not None and self._try_step("stop_new", lambda: self._stop(prd, new)):
            self.report.rolled_back = True
        restarted = False
        for a in others:

            def restore(a: ActiveDeployment = a) -> str:
                nonlocal restarted
                dep = models.get_deployment(pid, mid, a.build.id, a.deployment.id)
                status = dep.status.lower()
                if status == "deployed":
                    return f"deployment {dep.id} still serves"
                if status not in DEPLOY_ACTIVE:
                    models.restart_deployment(pid, mid, a.build.id, a.deployment.id)
                    restarted = True
                models.wait_deployment(
                    pid,
                    mid,
                    a.build.id,
                    a.deployment.id,
                    timeout=self.spec.timeouts.deployment,
                    on_progress=self.on_progress,
                )
                return f"{'restarted' if status not in DEPLOY_ACTIVE else 'waited for'} deployment {dep.id}"

            self._try_step("restore_previous", restore)
        if restarted:
            self.report.rolled_back = True
        if others and (new is not None or restarted) and self.spec.deployment.smoke is not None:
            self._try_step("verify_previous", lambda: self._smoke(prd.model))


def _secs(started: float) -> float:
    return round(time.monotonic() - started, 3)


def _num(value: float | None) -> str:
    return "missing" if value is None else f"{value:.6g}"


# -- entry points -------------------------------------------------------------------------------


def promote(
    client: CMLClient,
    spec: Any,
    *,
    version: int | None = None,
    run_id: str | None = None,
    dry_run: bool = False,
    on_step: StepCallback | None = None,
    on_progress: Callable[[WaitEvent], None] | None = None,
    env: Mapping[str, str] | None = None,
) -> PromotionReport:
    """Promote ``--version N``, ``--run-id ID`` or (neither) the spec's selected run into PRD.

    Input problems (no such version, PRD missing) raise InputError before anything is written;
    every other outcome, failures included, is in the returned report (``exit_code``).
    """
    if version is not None and run_id is not None:
        raise InputError("give either --version or --run-id, not both")
    work = Promotion(
        client, spec, action="promote", dry_run=dry_run, on_step=on_step, on_progress=on_progress, env=env
    )
    prd = observe_prd(client, spec)
    reg = load_registry(client, spec)
    cand = work.candidate(reg, version=version, run_id=run_id)
    return work.run(reg, prd, cand, check_gates=True)


def rollback(
    client: CMLClient,
    spec: Any,
    *,
    to_version: int | None = None,
    dry_run: bool = False,
    on_step: StepCallback | None = None,
    on_progress: Callable[[WaitEvent], None] | None = None,
    env: Mapping[str, str] | None = None,
) -> PromotionReport:
    """Serve ``to_version`` again (default: the version promoted before the current one)."""
    work = Promotion(
        client, spec, action="rollback", dry_run=dry_run, on_step=on_step, on_progress=on_progress, env=env
    )
    reg = load_registry(client, spec)
    name = spec.model.registered_name
    if reg.registered is None:
        raise InputError(f"registered model {name!r} does not exist: nothing to roll back to")
    prd = observe_prd(client, spec)
    current = prd.active[0].version_id if prd.active else None
    if to_version is not None:
        target = reg.by_number(to_version)
        if target is None:
            raise InputError(
                f"--to {to_version}: registered model {name!r} has no version {to_version}",
                hint="see `cmlops history SPEC` for the versions promoted so far",
            )
    else:
        entry = hist.rollback_target(hist.history(reg.versions), current)
        if entry is None:
            raise InputError(
                f"no earlier promoted version of {name!r} to roll back to",
                hint="pass --to VERSION (see `cmlops history SPEC`)",
            )
        target = reg.by_id(entry.version_id)
    return work.run(reg, prd, work.ref(target), check_gates=False)
