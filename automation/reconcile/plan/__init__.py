"""plan(spec, observed) -> Plan: pure data, no I/O.

A plan is an ordered list of actions, one per resource of the spec, each saying what would be
done (create, update, replace, upload, run, wait, register, build, deploy, restart, noop) and why,
with the fields that differ. One small planner per resource type (``projects``, ``jobs``,
``models``); their order is the dependency order apply follows. Server representations (ints as
strings, environment as a JSON string) are normalised by the typed API models before they get
here, so a converged workspace plans to nothing but no-ops.
"""

from __future__ import annotations

from typing import Any

from automation.reconcile.model import CHANGE_KINDS, Action, Kind, Plan, Res, resource_key
from automation.reconcile.observe import Observed
from automation.reconcile.plan.applications import plan_applications
from automation.reconcile.plan.common import JOB_FIELDS_CML_MAY_IGNORE, job_fields, masked_changes
from automation.reconcile.plan.jobs import plan_jobs
from automation.reconcile.plan.models import plan_model
from automation.reconcile.plan.projects import plan_projects


def plan(
    spec: Any, obs: Observed, *, local_files: dict[str, bytes] | None = None, retrain: bool = False
) -> Plan:
    actions = plan_projects(spec, obs, local_files)
    files = [a.resource for a in actions if a.type is Res.FILES and a.key == "dev"]
    code_changed = any(a.type is Res.FILES and a.key == "dev" and a.is_change for a in actions)
    jobs = {a.key: a for a in plan_jobs(spec, obs, files)}
    actions += jobs.values()
    serving: list[str] = []
    for name, model in spec.models.items():
        chain = [*spec.ancestors(model.job), model.job]
        job_changed = any(jobs[j].is_change for j in chain)
        changed = "the code changed" if code_changed else "the job changed" if job_changed else ""
        keys = [jobs[j].resource for j in chain]
        actions += plan_model(spec, name, obs.models[name], retrain=retrain, changed=changed, job_keys=keys)
        serving.append(resource_key(Res.DEPLOYMENT, name))
    actions += plan_applications(spec, obs, files, serving)
    return Plan(actions, runtime_identifier=obs.runtime_identifier, reads=obs.reads)


__all__ = [
    "CHANGE_KINDS",
    "JOB_FIELDS_CML_MAY_IGNORE",
    "Action",
    "Kind",
    "Plan",
    "Res",
    "job_fields",
    "masked_changes",
    "plan",
    "resource_key",
]
