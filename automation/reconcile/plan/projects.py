"""Planner of the DEV and PRD projects and of the DEV project's files."""

from __future__ import annotations

from typing import Any

from automation.reconcile import desired
from automation.reconcile.model import Action, Kind, Res
from automation.reconcile.observe import Observed
from automation.reconcile.ownership import without_mark
from automation.reconcile.plan.common import diff, file_changes, masked_changes


def plan_project(spec: Any, key: str, obs: Observed) -> Action:
    pspec, proj = getattr(spec.projects, key), getattr(obs, key)
    want = desired.project(pspec)
    if proj is None:
        return Action(Res.PROJECT, key, Kind.CREATE, pspec.name, "does not exist", desired=want)
    observed = {"description": proj.description, "environment": without_mark(proj.environment)}
    changes = masked_changes(spec, ("projects", key), diff(observed, want))
    kind = Kind.UPDATE if changes else Kind.NOOP
    return Action(
        Res.PROJECT, key, kind, pspec.name, "differs" if changes else "", changes, proj.id, desired=want
    )


def plan_files(spec: Any, key: str, local: dict[str, int], remote: dict[str, int]) -> Action:
    """Files to upload into project ``key``: missing there, or with another size."""
    changes = file_changes(local, remote)
    kind = Kind.UPLOAD if changes else Kind.NOOP
    reason = f"{len(changes)} file(s) missing or changed" if changes else "up to date"
    name = getattr(spec.projects, key).name
    return Action(Res.FILES, key, kind, name, reason, changes, depends_on=[f"project.{key}"])


def plan_projects(spec: Any, obs: Observed, local_files: dict[str, bytes] | None) -> list[Action]:
    actions = [plan_project(spec, "dev", obs)]
    if local_files:
        local = {path: len(data) for path, data in local_files.items()}
        actions.append(plan_files(spec, "dev", local, obs.dev_files if obs.dev is not None else {}))
    actions.append(plan_project(spec, "prd", obs))
    if obs.prd_local:
        actions.append(plan_files(spec, "prd", obs.prd_local, obs.prd_files if obs.prd is not None else {}))
    return actions
