"""apply for an application: create it once (CML starts it), PATCH what differs and restart it to
take effect, or restart it when it is stopped or failed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from automation.api.creates import create_once
from automation.reconcile.model import Action, Kind
from automation.reconcile.ownership import created_environment, keep_mark
from automation.reconcile.plan.common import job_fields

if TYPE_CHECKING:
    from automation.reconcile.apply import Applier


def apply_application(applier: Applier, action: Action) -> str:
    spec_app = applier.spec.applications[action.key]
    project = applier.obs.project(spec_app.project)
    apps, name, want = applier.client.applications, action.key, action.desired
    found = apps.find(project.id, name)  # a retry must not create a twin
    if found is None:
        marked = {**want, "environment": created_environment(want["environment"], applier.spec.name)}
        app = create_once(
            lambda: apps.create(project.id, name=name, **marked),
            lambda: apps.find(project.id, name),
        )
        applier.obs.applications[name] = _running(applier, project.id, app.id)
        return f"id {app.id}, running"
    changes: dict[str, Any] = {k: v for k, v in want.items() if job_fields(found, want)[k] != v}
    if "environment" in changes:
        changes["environment"] = keep_mark(changes["environment"], found.environment)
    if changes:
        apps.update(project.id, found.id, **changes)
    if changes or action.kind is Kind.RESTART:
        apps.restart(project.id, found.id)
    applier.obs.applications[name] = _running(applier, project.id, found.id)
    return (
        f"id {found.id}" + (f", {len(changes)} field(s) updated" if changes else "") + ", restarted, running"
    )


def _running(applier: Applier, project_id: str, app_id: str) -> Any:
    return applier.client.applications.wait_running(
        project_id, app_id, timeout=applier.timeouts.deployment, on_progress=applier.on_progress
    )
