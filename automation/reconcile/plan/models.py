"""Planner of a model's chain: the training run, the registered version, the PRD endpoint (a CML
model), its build and its deployment (and the superseded deployments to stop)."""

from __future__ import annotations

from typing import Any

from automation.reconcile import desired
from automation.reconcile.model import Action, Kind, Res, resource_key
from automation.reconcile.observe import ModelObserved
from automation.reconcile.ownership import description_text
from automation.reconcile.plan.common import diff, masked_changes


def plan_job_run(
    key: str,
    job_name: str,
    obs: ModelObserved,
    *,
    retrain: bool,
    changed: str,
    after: str | None,
    deps: list[str],
) -> Action:
    """Wait for an active run, start one (``changed`` says what changed, "" if nothing), or keep the last."""
    if obs.active_run is not None and not retrain:
        run = obs.active_run
        return Action(
            Res.JOB_RUN, key, Kind.WAIT, job_name, f"run {run.id} is {run.status}", id=run.id, depends_on=deps
        )
    reason = (
        "--retrain"
        if retrain
        else changed
        or (
            "no successful run"
            if obs.last_success_run is None
            else "no MLflow run logged the model"
            if obs.mlflow_run is None
            else ""
        )
    )
    if reason:
        if after:
            reason += f"; started from {after!r}, the first job of its chain"
        return Action(Res.JOB_RUN, key, Kind.RUN, job_name, reason, depends_on=deps)
    run = obs.last_success_run
    return Action(
        Res.JOB_RUN, key, Kind.NOOP, job_name, f"run {run.id} succeeded", id=run.id, depends_on=deps
    )


def plan_version(key: str, obs: ModelObserved, *, training_pending: bool) -> Action:
    deps = [resource_key(Res.JOB_RUN, key)]
    if training_pending or obs.mlflow_run is None:
        return Action(Res.MODEL_VERSION, key, Kind.REGISTER, key, "after the training run", depends_on=deps)
    if obs.version is None:
        reason = f"MLflow run {obs.mlflow_run.id} not registered"
        return Action(Res.MODEL_VERSION, key, Kind.REGISTER, key, reason, depends_on=deps)
    v = obs.version
    return Action(
        Res.MODEL_VERSION, key, Kind.NOOP, key, f"version {v.number}", id=v.model_version_id, depends_on=deps
    )


def plan_endpoint(key: str, ep: Any, obs: ModelObserved) -> Action:
    """The PRD model: created, its description updated, or replaced (authentication or registered
    model differ, which CML cannot change in place)."""
    want = desired.endpoint(ep)
    deps = ["project.prd", resource_key(Res.MODEL_VERSION, key)]
    name = ep.model_name
    if obs.model is None:
        return Action(Res.ENDPOINT, key, Kind.CREATE, name, "does not exist", desired=want, depends_on=deps)
    model = obs.model
    changes: dict[str, list[Any]] = {}
    if model.auth_enabled != want["auth_enabled"]:
        changes["auth_enabled"] = [model.auth_enabled, want["auth_enabled"]]
    if obs.registered is not None and model.registered_model_id not in ("", obs.registered.model_id):
        changes["registered_model_id"] = [model.registered_model_id, obs.registered.model_id]
    if changes:
        active = [obs.deployment] if obs.deployment is not None else []
        active += list(obs.other_deployments or [])
        serving = f" and stops its {len(active)} active deployment(s)" if active else ""
        return Action(
            Res.ENDPOINT,
            key,
            Kind.REPLACE,
            name,
            "authentication or registered model differs",
            changes,
            model.id,
            destroys=f"deletes PRD model {name!r} ({model.id}){serving}: "
            "its endpoint does not answer until the new build deploys",
            desired=want,
            depends_on=deps,
        )
    current = description_text(model.description)
    if current != want["description"]:
        changes = {"description": [current, want["description"]]}
        return Action(
            Res.ENDPOINT, key, Kind.UPDATE, name, "differs", changes, model.id, desired=want, depends_on=deps
        )
    return Action(Res.ENDPOINT, key, Kind.NOOP, name, id=model.id, desired=want, depends_on=deps)


def plan_build(key: str, name: str, obs: ModelObserved, *, pending: bool) -> Action:
    deps = [resource_key(Res.ENDPOINT, key), resource_key(Res.MODEL_VERSION, key)]
    build = obs.build
    if pending or build is None:
        return Action(Res.BUILD, key, Kind.BUILD, name, "no build of the selected version", depends_on=deps)
    if build.status.lower() != "built":
        reason = f"build {build.id} is {build.status}"
        return Action(Res.BUILD, key, Kind.WAIT, name, reason, id=build.id, depends_on=deps)
    return Action(Res.BUILD, key, Kind.NOOP, name, f"build {build.id} built", id=build.id, depends_on=deps)


def plan_deployment(spec: Any, key: str, ep: Any, obs: ModelObserved, *, pending: bool) -> Action:
    want = desired.deployment(ep)
    deps = [resource_key(Res.BUILD, key)]
    dep = obs.deployment
    if pending or dep is None:
        reason = "new build" if pending else "no running deployment with the spec's resources"
        changes = {}
        if obs.other_deployments:
            changes = diff(desired.deployment_fields(obs.other_deployments[0]), want)
        shown = masked_changes(spec, ("models", key, "endpoint"), changes)
        return Action(
            Res.DEPLOYMENT, key, Kind.DEPLOY, ep.model_name, reason, shown, desired=want, depends_on=deps
        )
    if dep.status.lower() != "deployed":
        reason = f"deployment {dep.id} is {dep.status}"
        return Action(
            Res.DEPLOYMENT, key, Kind.WAIT, ep.model_name, reason, id=dep.id, desired=want, depends_on=deps
        )
    reason = f"deployment {dep.id} deployed"
    return Action(
        Res.DEPLOYMENT, key, Kind.NOOP, ep.model_name, reason, id=dep.id, desired=want, depends_on=deps
    )


def plan_old_deployments(key: str, name: str, obs: ModelObserved) -> Action:
    ids = ", ".join(dep.id for dep in obs.other_deployments)
    return Action(
        Res.OLD_DEPLOYMENTS,
        key,
        Kind.UPDATE,
        name,
        f"stop superseded deployment(s) {ids}",
        {"status": ["deployed", "stopped"]},
        depends_on=[resource_key(Res.DEPLOYMENT, key)],
    )


def plan_model(
    spec: Any, name: str, m: ModelObserved, *, retrain: bool, changed: str, job_keys: list[str]
) -> list[Action]:
    """The model's chain, each action pending when the one before it is."""
    model = spec.models[name]
    ep = model.endpoint
    chain = spec.ancestors(model.job)
    run = plan_job_run(
        name,
        model.job,
        m,
        retrain=retrain,
        changed=changed,
        after=chain[0] if chain else None,
        deps=job_keys,
    )
    version = plan_version(name, m, training_pending=run.is_change)
    endpoint = plan_endpoint(name, ep, m)
    build = plan_build(
        name,
        ep.model_name,
        m,
        pending=version.is_change or endpoint.kind in (Kind.CREATE, Kind.REPLACE),
    )
    deployment = plan_deployment(spec, name, ep, m, pending=build.kind is Kind.BUILD)
    actions = [run, version, endpoint, build, deployment]
    if m.other_deployments and not deployment.is_change:
        actions.append(plan_old_deployments(name, ep.model_name, m))
    return actions
