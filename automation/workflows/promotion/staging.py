"""The candidate smoke-tested off the live path: in the spec's optional staging model.

CML serves one deployment per model, and a new deployment of the PRD model takes its traffic as soon
as it is deployed; so on CML (and locally, which does the same) a candidate can only be tried before
it serves by deploying it somewhere else. With ``deployment.staging_model`` set, promote and
rollback build the candidate in that model (in the PRD project; created when missing, with the PRD
model's authentication), deploy it, smoke-test it there, and stop that deployment, pass or fail.
Only a candidate that passed is then built and deployed into the PRD model; one that fails never
answers a call made to the PRD endpoint.
"""

from __future__ import annotations

from typing import Any

from automation.api import CMLClient
from automation.api.creates import create_once
from automation.api.models import BUILD_FAILED
from automation.api.types import Model, ModelBuild, ModelDeployment
from automation.workflows.promotion.observe import PrdState
from automation.workflows.promotion.report import VersionRef
from automation.workflows.promotion.workloads import Progress, build_version, deploy_build
from automation.workflows.smoke import smoke_test


def staging_model(client: CMLClient, endpoint: Any, prd: PrdState) -> Model:
    name = endpoint.staging_model
    models, pid = client.models, prd.project.id
    found = models.find(pid, name)
    if found is not None:
        return found
    return create_once(
        lambda: models.create(
            pid,
            name=name,
            description=f"cmlops: candidates of {endpoint.model_name!r} are smoke-tested here before they serve",
            registered_model_id=prd.model.registered_model_id or None,
            disable_authentication=not endpoint.auth,
        ),
        lambda: models.find(pid, name),
    )


def stage(
    client: CMLClient,
    spec: Any,
    mspec: Any,
    prd: PrdState,
    cand: VersionRef,
    action: str,
    on_progress: Progress,
) -> str:
    """Build, deploy and smoke-test the candidate in the staging model; raises on any failure."""
    models, pid, endpoint = client.models, prd.project.id, mspec.endpoint
    model = staging_model(client, endpoint, prd)
    builds = [
        b
        for b in models.list_builds(pid, model.id)
        if b.registered_model_version_id == cand.version_id and b.status.lower() not in BUILD_FAILED
    ]
    ready = [b for b in builds if b.status.lower() == "built"]
    build: ModelBuild = (
        max(ready, key=lambda b: b.created_at)
        if ready
        else build_version(
            client,
            spec,
            mspec,
            pid,
            model.id,
            cand.version_id,
            comment=f"cmlops {action}: staging {mspec.registered_name} v{cand.number}",
            existing=max(builds, key=lambda b: b.created_at, default=None),
            on_progress=on_progress,
        )
    )
    created: list[ModelDeployment] = []
    try:
        deploy_build(
            client, spec, endpoint, pid, model.id, build, on_created=created.append, on_progress=on_progress
        )
        result = smoke_test(client, model, endpoint.smoke)
    finally:
        for dep in created:  # never left running, whatever happened
            try:
                models.stop_deployment(pid, model.id, build.id, dep.id)
            except Exception:  # best effort: the staging model serves no live traffic
                pass
    return f"staging model {model.name!r} answered {result['predictions']}; its deployment was stopped"
