"""Executing a decided plan step by step (register, build, deploy, smoke, stop_previous, record).

Each planned step runs by its name, with what the decision chose (the build to reuse, the deployment
to reuse, what to stop, which versions to retire). A failure in register, build, deploy or smoke
puts PRD back (restore.py) and marks the candidate rejected; a failure after the smoke test keeps the
new version (it serves and passed) and says how to finish.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from automation.api import CMLClient
from automation.api.base import WaitEvent
from automation.api.creates import create_once
from automation.api.types import ModelBuild, ModelDeployment, RegisteredModel
from automation.errors import CmlopsError
from automation.workflows import history as hist
from automation.workflows.promotion.decide import Decision, retired_stage
from automation.workflows.promotion.observe import ActiveDeployment, Situation, load_registry
from automation.workflows.promotion.report import PromotionReport
from automation.workflows.promotion.restore import put_back, smoke, stop_deployment
from automation.workflows.promotion.staging import stage
from automation.workflows.promotion.steps import StepRunner
from automation.workflows.promotion.workloads import build_version, deploy_build, wait_deployment

# Failures in these steps put PRD back as it was; later steps only finish the bookkeeping.
ROLLBACK_STEPS = ("register", "stage", "build", "deploy", "smoke")


class Executor:
    def __init__(
        self,
        client: CMLClient,
        spec: Any,
        model: Any,
        report: PromotionReport,
        decision: Decision,
        s: Situation,
        steps: StepRunner,
        on_progress: Callable[[WaitEvent], None] | None,
    ) -> None:
        self.client, self.spec, self.report, self.decision, self.s = client, spec, report, decision, s
        self.model, self.endpoint = model, model.endpoint  # the ModelSpec promoted and its endpoint
        self.steps, self.on_progress = steps, on_progress
        self.new: ActiveDeployment | None = None
        self.new_build: ModelBuild | None = decision.build if decision.build_kind == "reuse" else None
        self.handlers: dict[str, Callable[[], str]] = {
            "register": self.register,
            "stage": self.stage,
            "build": self.build,
            "deploy": self.deploy,
            "smoke": lambda: smoke(client, model.endpoint, s.prd),
            "stop_previous": self.stop_previous,
            "record": self.record,
        }

    def run(self) -> None:
        """Run the plan; the report gets the outcome (promoted | failed)."""
        cand = self.s.cand
        try:
            for planned in self.decision.steps:
                if planned.name not in ROLLBACK_STEPS:
                    break
                if planned.skipped:
                    self.steps.skip(planned.name, planned.detail)
                else:
                    self.steps.run(planned.name, self.handlers[planned.name])
        except Exception as exc:
            failed_step = self.steps.current
            if not self.decision.finishing:
                self.report.rolled_back = put_back(
                    self.client,
                    self.spec,
                    self.endpoint,
                    self.steps,
                    self.s.prd,
                    self.new,
                    self.s.others,
                    self.on_progress,
                )
                if cand.version_id is not None:
                    self.steps.attempt("record", lambda: self.record_rejected(failed_step))
            self.failed(exc, failed_step)
            if not isinstance(exc, CmlopsError):
                raise
            return
        try:
            for planned in self.decision.steps:
                if planned.name not in ROLLBACK_STEPS:
                    self.steps.run(planned.name, self.handlers[planned.name])
        except CmlopsError as exc:  # the new version serves and passed its smoke test: keep it
            exc.hint = exc.hint or "the new version serves; re-run the same command to finish"
            self.failed(exc, self.steps.current)
            return
        self.report.outcome = "promoted"

    def failed(self, exc: Exception, step: str) -> None:
        report = self.report
        report.outcome, report.failed_step = "failed", step
        if isinstance(exc, CmlopsError):
            report.error, report.exit_code = exc.to_dict(), exc.exit_code
        else:
            report.error = {"error": type(exc).__name__, "message": str(exc), "exit_code": 1}
            report.exit_code = 1

    # -- register ---------------------------------------------------------------------------

    def register(self) -> str:
        """Register the run, unless a version of it exists by now (one MLflow run, one version)."""
        registry, name, cand, reg = (
            self.client.registry,
            self.model.registered_name,
            self.s.cand,
            self.s.reg,
        )
        fresh = load_registry(self.client, self.model)
        existing = fresh.by_run(cand.run_id)
        if existing is None:
            registered = create_once(
                lambda: registry.register(
                    project_id=cand.project_id,
                    experiment_id=cand.experiment_id,
                    run_id=cand.run_id,
                    model_path=self.model.artifact_path,
                    model_name=name,
                    tags={"cmlops.spec": self.spec.name},
                ),
                lambda: self._registered_with(cand.run_id),
            )
            fresh = load_registry(self.client, self.model)
            fresh.registered = registered
            existing = fresh.by_run(cand.run_id) or registry.version_of_run(registered, cand.run_id)
            verb = "registered"
        else:
            verb = "found registered"
        reg.registered, reg.versions = fresh.registered, fresh.versions
        version = registry.wait_version(
            reg.model_id,
            existing.model_version_id,
            timeout=self.spec.timeouts.registry,
            on_progress=self.on_progress,
        )
        cand.number, cand.version_id = int(version.number), version.model_version_id
        self.report.candidate = cand.to_dict()
        return f"{verb} version {cand.number} ({cand.version_id})"

    def _registered_with(self, run_id: str) -> RegisteredModel | None:
        """After a lost answer to a registration: the model, if a version of ``run_id`` exists."""
        view = load_registry(self.client, self.model)
        return view.registered if view.by_run(run_id) is not None else None

    # -- staging, build and deploy ---------------------------------------------------------

    def stage(self) -> str:
        return stage(
            self.client,
            self.spec,
            self.model,
            self.s.prd,
            self.s.cand,
            self.decision.action,
            self.on_progress,
        )

    def build(self) -> str:
        prd, cand, d = self.s.prd, self.s.cand, self.decision
        if d.build_kind == "reuse":
            self.new_build, cand.build_id = d.build, d.build.id
            return f"reused build {d.build.id}"
        self.new_build = build_version(
            self.client,
            self.spec,
            self.model,
            prd.project.id,
            prd.model.id,
            cand.version_id,
            comment=f"cmlops {d.action}: {self.model.registered_name} v{cand.number}",
            existing=d.build,
            on_progress=self.on_progress,
        )
        cand.build_id = self.new_build.id
        return f"{'built' if d.build_kind == 'create' else 'waited for'} build {self.new_build.id}"

    def _created(self, dep: ModelDeployment) -> None:
        self.new = ActiveDeployment(self.new_build, dep)
        self.s.cand.deployment_id = dep.id
        self.report.candidate = self.s.cand.to_dict()

    def deploy(self) -> str:
        prd, build, reuse = self.s.prd, self.new_build, self.decision.deployment
        if reuse is not None:
            self._created(reuse)
            dep = wait_deployment(
                self.client, self.spec, prd.project.id, prd.model.id, build.id, reuse.id, self.on_progress
            )
            return f"reused deployment {dep.id}"
        dep = deploy_build(
            self.client,
            self.spec,
            self.endpoint,
            prd.project.id,
            prd.model.id,
            build,
            on_created=self._created,
            on_progress=self.on_progress,
        )
        return f"deployed deployment {dep.id}"

    # -- after the smoke test ---------------------------------------------------------------

    def stop_previous(self) -> str:
        return (
            "; ".join(stop_deployment(self.client, self.s.prd, a) for a in self.decision.stop)
            or "nothing to stop"
        )

    def record(self) -> str:
        cand, reg, action = self.s.cand, self.s.reg, self.decision.action
        now = hist.utc_now_iso()
        replaced = self.s.previous.number if self.s.previous else None
        if replaced is None and self.decision.retire:
            replaced = int(self.decision.retire[0].number)
        tags = hist.promotion_tags(
            run_id=cand.run_id,
            gates=self.report.gates if action == "promote" and not self.decision.finishing else None,
            action=action,
            replaced=replaced,
            now=now,
            commit=self.report.git_commit,
        )
        registry = self.client.registry
        registry.update_version(
            reg.model_id, cand.version_id, tags=hist.merged_tags(reg.by_id(cand.version_id), tags)
        )
        done = [f"{cand.label} stage={hist.PRODUCTION}"]
        for version in self.decision.retire:
            stage = retired_stage(action, version, self.s)
            retired = hist.retired_tags(stage=stage, now=now)
            registry.update_version(
                reg.model_id, version.model_version_id, tags=hist.merged_tags(version, retired)
            )
            done.append(f"version {version.number} stage={stage}")
        cand.stage = hist.PRODUCTION
        self.report.candidate = cand.to_dict()
        return "; ".join(done)

    def record_rejected(self, step: str) -> str:
        cand, reg = self.s.cand, self.s.reg
        tags = hist.rejected_tags(
            run_id=cand.run_id, step=step, now=hist.utc_now_iso(), commit=self.report.git_commit
        )
        self.client.registry.update_version(
            reg.model_id, cand.version_id, tags=hist.merged_tags(reg.by_id(cand.version_id), tags)
        )
        cand.stage = hist.REJECTED
        self.report.candidate = cand.to_dict()
        return f"{cand.label} stage={hist.REJECTED}"
