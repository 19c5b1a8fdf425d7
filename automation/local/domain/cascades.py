"""What deleting a project or a model endpoint takes with it: the domain rule, not the route's.

Deleting a build stops its deployments; deleting a model endpoint stops its deployments and forgets its builds; deleting a project deletes
its model endpoints (as above), stops and forgets its applications and its jobs' runs, then removes
its files and its Python environments. Routes call these after their 404 checks.
"""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from automation.local.workspace import Workspace


def delete_build(ws: Workspace, build_id: str) -> None:
    """Stop and forget a build's deployments, then the build (its worker and its copy of the model)."""
    for dep in ws.store.list("deployment", parent=build_id):
        ws.deployments.remove(dep["id"])
    ws.builds.remove(build_id)


def delete_model(ws: Workspace, model_id: str) -> None:
    """Stop and forget a model endpoint with its builds and deployments."""
    for build in ws.store.list("build", parent=model_id):
        delete_build(ws, build["id"])
    ws.store.delete("model", model_id)


def delete_project(ws: Workspace, project_id: str) -> None:
    """Delete a project and everything in it (models, applications, jobs, files, environments)."""
    for model in ws.store.list("model", parent=project_id):
        delete_model(ws, model["id"])
    for app in ws.store.list("application", parent=project_id):
        ws.applications.remove(app["id"])  # stops its process too
    for job in ws.store.list("job", parent=project_id):
        ws.runner.forget_job(job["id"])
        ws.store.delete("job", job["id"])
    ws.store.delete("project", project_id)
    shutil.rmtree(ws.paths.project_dir(project_id), ignore_errors=True)
    shutil.rmtree(ws.paths.project_envs(project_id), ignore_errors=True)
    ws.log.info("project %s deleted", project_id)
