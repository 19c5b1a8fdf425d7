"""Creating (or finding after a lost answer) and waiting for the builds and deployments a promotion
needs, in the PRD model or in the staging model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from automation.api import CMLClient
from automation.api.base import WaitEvent
from automation.api.creates import create_once
from automation.api.models import BUILD_FAILED, DEPLOY_ACTIVE
from automation.api.types import ModelBuild, ModelDeployment
from automation.reconcile import desired
from automation.reconcile.desired import matches

Progress = Callable[[WaitEvent], None] | None


def build_runtime(client: CMLClient, spec: Any, model: Any) -> str:
    """The runtime a model's builds use: the one its training job runs in, as apply builds it. The
    job's exact identifier; else the runtime the DEV job already uses while it still matches the
    job's editor/kernel/edition (a newer release does not move the model away from its training
    runtime); else the newest match."""
    rt = spec.runtime_of(spec.jobs[model.job])
    if rt.identifier:
        return str(rt.identifier)
    found = client.runtimes.matching(editor=rt.editor, kernel=rt.kernel, edition=rt.edition)
    dev = client.projects.find(spec.projects.dev.name)
    job = client.jobs.find(dev.id, model.job) if dev is not None else None
    if job is not None and job.runtime_identifier in {r.image_identifier for r in found}:
        return str(job.runtime_identifier)
    return found[0].image_identifier


def build_version(
    client: CMLClient,
    spec: Any,
    model: Any,
    project_id: str,
    model_id: str,
    version_id: str,
    *,
    comment: str,
    existing: ModelBuild | None = None,
    on_progress: Progress = None,
) -> ModelBuild:
    """Wait for ``existing`` (a build in progress) or create one of ``model``'s version, then wait for it."""
    models = client.models

    def of_version() -> ModelBuild | None:  # after a lost answer: the newest live build of the version
        builds = [
            b
            for b in models.list_builds(project_id, model_id)
            if b.registered_model_version_id == version_id and b.status.lower() not in BUILD_FAILED
        ]
        return max(builds, key=lambda b: b.created_at, default=None)

    build = existing
    if build is None:
        runtime = build_runtime(client, spec, model)
        build = create_once(
            lambda: models.create_build(
                project_id,
                model_id,
                registered_model_version_id=version_id,
                runtime_identifier=runtime,
                comment=comment,
            ),
            of_version,
        )
    return models.wait_build(
        project_id, model_id, build.id, timeout=spec.timeouts.build, on_progress=on_progress
    )


def deploy_build(
    client: CMLClient,
    spec: Any,
    endpoint: Any,
    project_id: str,
    model_id: str,
    build: ModelBuild,
    *,
    on_created: Callable[[ModelDeployment], None] | None = None,
    on_progress: Progress = None,
) -> ModelDeployment:
    """Deploy the build with the endpoint's resources (found, not twinned, after a lost answer) and wait."""
    models, d = client.models, endpoint
    dep = create_once(
        lambda: models.create_deployment(
            project_id,
            model_id,
            build.id,
            **desired.deployment_request(d),
        ),
        lambda: next(
            (
                x
                for x in models.list_deployments(project_id, model_id, build.id)
                if x.status.lower() in DEPLOY_ACTIVE and matches(x, d)
            ),
            None,
        ),
    )
    if on_created is not None:
        on_created(dep)
    return wait_deployment(client, spec, project_id, model_id, build.id, dep.id, on_progress)


def wait_deployment(
    client: CMLClient,
    spec: Any,
    project_id: str,
    model_id: str,
    build_id: str,
    dep_id: str,
    on_progress: Progress,
) -> ModelDeployment:
    return client.models.wait_deployment(
        project_id, model_id, build_id, dep_id, timeout=spec.timeouts.deployment, on_progress=on_progress
    )
