"""The promotion decided once, as data: nothing to do, refused by the gates, or a plan of steps.

Pure: it reads only the :class:`Situation` observed before. ``--dry-run`` renders the plan's steps
and the real run executes the very same steps (execute.py dispatches on their names), so the two
cannot drift. The plan also carries what execution needs from the decision: which build to reuse,
wait for or create, which deployment to reuse, which deployments to stop and which versions to retire.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from automation.api.models import BUILD_FAILED
from automation.api.types import ModelBuild, ModelDeployment, RegisteredModelVersion
from automation.errors import GateFailed
from automation.reconcile import desired
from automation.reconcile.desired import matches
from automation.reconcile.selection import GateResult, check_no_worse, check_thresholds
from automation.workflows import history as hist
from automation.workflows.promotion.observe import ActiveDeployment, PrdState, Situation
from automation.workflows.promotion.report import VersionRef

NOOP, REFUSED, PLAN = "noop", "refused", "plan"


@dataclass(frozen=True)
class PlannedStep:
    name: str  # register | stage | build | deploy | smoke | stop_previous | record
    detail: str
    skipped: bool = False


@dataclass
class Decision:
    kind: str  # noop | refused | plan
    action: str  # promote | rollback
    steps: list[PlannedStep] = field(default_factory=list)
    gates: list[dict[str, Any]] = field(default_factory=list)
    error: GateFailed | None = None
    build_kind: str = "create"  # reuse | wait | create
    build: ModelBuild | None = None
    deployment: ModelDeployment | None = None  # an active deployment of the build to reuse
    stop: list[ActiveDeployment] = field(default_factory=list)
    retire: list[RegisteredModelVersion] = field(default_factory=list)  # versions no longer serving
    finishing: bool = False  # the candidate serves already: an interrupted run is being finished

    def step(self, name: str) -> PlannedStep | None:
        return next((s for s in self.steps if s.name == name), None)


def evaluate_gates(model: Any, candidate: VersionRef, previous: VersionRef | None) -> list[GateResult]:
    """Thresholds and "no worse than PRD" on the candidate's metrics; fails closed when PRD's
    metrics cannot be read (an unknown comparison is not let through)."""
    metrics = candidate.metrics or {}
    gates = model.gates
    results = check_thresholds(metrics, gates)
    rule = gates.no_worse_than_prd if gates else None
    if rule is not None and previous is not None and rule.metric not in (previous.metrics or {}):
        why = previous.metrics_error or f"its run has no {rule.metric!r} metric"
        results.append(
            GateResult(
                "no_worse_than_prd",
                rule.metric,
                metrics.get(rule.metric),
                f"PRD {previous.label} unknown: {why}",
                False,
            )
        )
    else:
        results += check_no_worse(metrics, previous.metrics if previous else None, gates)
    return results


def build_choice(prd: PrdState, version_id: str | None) -> tuple[str, ModelBuild | None]:
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


def deployment_to_reuse(prd: PrdState, build: ModelBuild | None, model: Any) -> ModelDeployment | None:
    """An active deployment of this very build with the endpoint's resources (a re-run finishing)."""
    if build is None:
        return None
    return next(
        (
            a.deployment
            for a in prd.active
            if a.build.id == build.id and matches(a.deployment, model.endpoint)
        ),
        None,
    )


def _claimed_production(s: Situation) -> list[RegisteredModelVersion]:
    """Versions the history calls ``production`` that are not the candidate (stale after an
    interrupted run, or the version being replaced)."""
    return [
        v
        for v in s.reg.versions
        if v.tag_map.get(hist.STAGE) == hist.PRODUCTION and v.model_version_id != s.cand.version_id
    ]


def _retire(s: Situation) -> list[RegisteredModelVersion]:
    """Every version that stops serving or stops being called production, each once."""
    out: dict[str, RegisteredModelVersion] = {}
    for version in [s.reg.by_id(a.version_id) for a in s.others] + _claimed_production(s):
        if version is not None and version.model_version_id != s.cand.version_id:
            out.setdefault(version.model_version_id, version)
    return list(out.values())


def _smoke_step(model: Any, what: str) -> PlannedStep:
    if model.endpoint.smoke is None:
        return PlannedStep("smoke", "the model has no endpoint.smoke", skipped=True)
    return PlannedStep("smoke", f"smoke-test {what} with the spec's input")


def _record_step(
    action: str, cand: VersionRef, retire: list[RegisteredModelVersion], s: Situation
) -> PlannedStep:
    text = f"tag {cand.label} stage={hist.PRODUCTION}"
    for version in retire:
        text += f"; version {version.number} stage={retired_stage(action, version, s)}"
    return PlannedStep("record", text)


def retired_stage(action: str, version: RegisteredModelVersion, s: Situation) -> str:
    """A rollback marks the version it undoes rolled_back; everything else retired is archived."""
    primary = s.previous is not None and version.model_version_id == s.previous.version_id
    claimed = version.tag_map.get(hist.STAGE) == hist.PRODUCTION
    return hist.ROLLED_BACK if action == "rollback" and (primary or claimed) else hist.ARCHIVED


def decide(model: Any, action: str, s: Situation, *, check_gates: bool) -> Decision:
    """The one decision both the dry run and the real run use."""
    cand, prd = s.cand, s.prd
    serving_alone = (
        bool(s.current) and not s.others and any(a.deployment.status.lower() == "deployed" for a in s.current)
    )
    retire = _retire(s)
    if serving_alone:
        if not retire and cand.stage not in (hist.REJECTED, hist.ROLLED_BACK, hist.ARCHIVED):
            return Decision(NOOP, action)
        # An interrupted promote/rollback left the candidate serving but the record unfinished:
        # check it answers, then write the record (no gates: it serves already).
        return Decision(
            PLAN,
            action,
            steps=[_smoke_step(model, "the deployment that serves"), _record_step(action, cand, retire, s)],
            retire=retire,
            finishing=True,
        )
    decision = Decision(PLAN, action, stop=list(s.others), retire=retire)
    if check_gates:
        results = evaluate_gates(model, cand, s.previous)
        decision.gates = [r.to_dict() for r in results]
        failed = [r for r in results if not r.passed]
        if failed:
            text = "; ".join(f"{r.metric}={_num(r.value)} (needs {r.threshold})" for r in failed)
            decision.kind = REFUSED
            decision.error = GateFailed(
                f"gate failed for {cand.label}: {text}; nothing was built", results=decision.gates
            )
            return decision
    steps: list[PlannedStep] = []
    if cand.version_id is None:
        steps.append(
            PlannedStep(
                "register", f"register run {cand.run_id} as a new version of {model.registered_name!r}"
            )
        )
    if model.endpoint.staging_model and model.endpoint.smoke is not None:
        steps.append(
            PlannedStep(
                "stage",
                f"build, deploy and smoke-test {cand.label} in staging model "
                f"{model.endpoint.staging_model!r} before it takes live traffic; then stop it there",
            )
        )
    kind, build = build_choice(prd, cand.version_id)
    decision.build_kind, decision.build = kind, build
    steps.append(
        PlannedStep(
            "build",
            {
                "reuse": f"reuse build {build.id if build else ''} (built)",
                "wait": f"wait for build {build.id if build else ''} ({build.status if build else ''})",
                "create": f"build {cand.label} in model {prd.model.name!r}",
            }[kind],
        )
    )
    decision.deployment = deployment_to_reuse(prd, build, model)
    want = desired.deployment(model.endpoint)
    reuse = decision.deployment
    steps.append(
        PlannedStep(
            "deploy",
            f"reuse deployment {reuse.id} ({reuse.status})"
            if reuse
            else f"deploy it (cpu {want['cpu']:g}, memory {want['memory']:g} GB, {want['replicas']} replica(s))",
        )
    )
    steps.append(_smoke_step(model, "the new deployment"))
    stop = ", ".join(f"{a.deployment.id} ({s.reg.label(a)})" for a in s.others)
    steps.append(PlannedStep("stop_previous", f"stop {stop}" if stop else "nothing serves yet"))
    steps.append(_record_step(action, cand, retire, s))
    decision.steps = steps
    return decision


def _num(value: float | None) -> str:
    return "missing" if value is None else f"{value:.6g}"
