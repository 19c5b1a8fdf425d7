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


def plan_files(spec: Any, obs: Observed, local_files: dict[str, bytes]) -> Action:
    changes = file_changes(local_files, obs.dev_files if obs.dev is not None else {})
    kind = Kind.UPLOAD if changes else Kind.NOOP
    reason = f"{len(changes)} file(s) missing or changed" if changes else "up to date"
    return Action(Res.FILES, "dev", kind, spec.projects.dev.name, reason, changes, depends_on=["project.dev"])


def plan_projects(spec: Any, obs: Observed, local_files: dict[str, bytes] | None) -> list[Action]:
    actions = [plan_project(spec, "dev", obs)]
    if local_files:
        actions.append(plan_files(spec, obs, local_files))
    actions.append(plan_project(spec, "prd", obs))
    return actions
