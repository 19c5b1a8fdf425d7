"""What deleting a job, a build, a model endpoint or a project takes with it: the domain rule, not the route's.

Deleting a job stops and forgets its runs; deleting a build stops its deployments; deleting a model
endpoint does that for each of its builds; deleting a project deletes its model endpoints (as
above), stops and forgets its applications and its jobs (as above), then removes its files and its
Python environments. Routes call these after their 404 checks.
"""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

from automation.local.state import records
from automation.local.state.records import Application, Build, Deployment, Job, Model, Project

if TYPE_CHECKING:
    from automation.local.workspace import Workspace


def delete_job(ws: Workspace, job_id: str) -> None:
    """A job goes with its runs (an active one is stopped first)."""
    ws.runner.forget_job(job_id)
    records.remove(ws.store, Job, job_id)


def delete_build(ws: Workspace, build_id: str) -> None:
    """Stop and forget a build's deployments, then the build (its worker and its copy of the model)."""
    for dep in records.load_all(ws.store, Deployment, build_id):
        ws.deployments.remove(dep.id)
    ws.builds.remove(build_id)


def delete_model(ws: Workspace, model_id: str) -> None:
    """Stop and forget a model endpoint with its builds and deployments."""
    for build in records.load_all(ws.store, Build, model_id):
        delete_build(ws, build.id)
    records.remove(ws.store, Model, model_id)


def delete_project(ws: Workspace, project_id: str) -> None:
    """Delete a project and everything in it (models, applications, jobs, files, environments)."""
    for model in records.load_all(ws.store, Model, project_id):
        delete_model(ws, model.id)
    for app in records.load_all(ws.store, Application, project_id):
        ws.applications.remove(app.id)  # stops its process too
    for job in records.load_all(ws.store, Job, project_id):
        delete_job(ws, job.id)
    records.remove(ws.store, Project, project_id)
    shutil.rmtree(ws.paths.project_dir(project_id), ignore_errors=True)
    shutil.rmtree(ws.paths.project_envs(project_id), ignore_errors=True)
    ws.log.info("project %s deleted", project_id)
