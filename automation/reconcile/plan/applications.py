"""Planner of the applications: created (and so started), updated and restarted, or restarted
when stopped or failed."""

from __future__ import annotations

from typing import Any

from automation.reconcile import desired
from automation.reconcile.model import Action, Kind, Res, resource_key
from automation.reconcile.observe import Observed
from automation.reconcile.plan.common import diff, job_fields, masked_changes

STOPPED = ("APPLICATION_STOPPED", "APPLICATION_FAILED", "APPLICATION_UNKNOWN")


def plan_application(spec: Any, name: str, obs: Observed, depends_on: list[str]) -> Action:
    app, found = spec.applications[name], obs.applications.get(name)
    want = desired.application(app, *obs.runtime_of(resource_key(Res.APPLICATION, name)))
    if found is None:
        return Action(
            Res.APPLICATION, name, Kind.CREATE, name, "does not exist", desired=want, depends_on=depends_on
        )
    changes = diff(job_fields(found, want), want)
    shown = masked_changes(spec, ("applications", name), changes)
    if changes:
        return Action(
            Res.APPLICATION,
            name,
            Kind.UPDATE,
            name,
            "differs; restarted to apply it",
            shown,
            found.id,
            desired=want,
            depends_on=depends_on,
        )
    if found.status in STOPPED:
        return Action(
            Res.APPLICATION,
            name,
            Kind.RESTART,
            name,
            f"it is {found.status}",
            id=found.id,
            desired=want,
            depends_on=depends_on,
        )
    return Action(
        Res.APPLICATION, name, Kind.NOOP, name, found.status, id=found.id, desired=want, depends_on=depends_on
    )


def plan_applications(spec: Any, obs: Observed, files: list[str], serving: list[str]) -> list[Action]:
    """Each application after its project (and the DEV files), and after the endpoints it may call."""
    out = []
    for name, app in spec.applications.items():
        deps = [f"project.{app.project}", *(files if app.project == "dev" else ["files.prd"]), *serving]
        out.append(plan_application(spec, name, obs, deps))
    return out
