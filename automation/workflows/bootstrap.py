"""bootstrap: an empty workspace to a serving PRD endpoint, then a smoke prediction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from automation.api import CMLClient
from automation.api.base import WaitEvent
from automation.errors import ApprovalRequired
from automation.reconcile import Applier, make_plan, summary_ids
from automation.reconcile.plan import Action, Plan
from automation.workflows.smoke import smoke_test


@dataclass
class BootstrapResult:
    plan: Plan
    apply: dict[str, Any]
    summary: dict[str, Any]
    smoke: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "plan": self.plan.to_dict(),
            "apply": self.apply,
            "summary": self.summary,
            "smoke": self.smoke,
        }


Approver = Callable[[list[Action]], bool]


def check_approval(the_plan: Plan, approve: Approver | None) -> None:
    """Raise ApprovalRequired when ``the_plan`` deletes or stops something ``approve`` did not allow."""
    destructive = the_plan.destructive
    if destructive and (approve is None or not approve(destructive)):
        raise ApprovalRequired(
            f"the plan deletes or stops {len(destructive)} thing(s) and was not approved; nothing was changed: "
            + "; ".join(a.destroys for a in destructive),
            actions=[a.destroys for a in destructive],
            hint="review `cmlops plan`, then re-run on a terminal to confirm, or pass --auto-approve (CI)",
        )


def apply_spec(
    client: CMLClient,
    spec: Any,
    *,
    retrain: bool = False,
    on_plan: Callable[[Plan], None] | None = None,
    on_step: Callable[[Action, str], None] | None = None,
    on_progress: Callable[[WaitEvent], None] | None = None,
    approve: Approver | None = None,
) -> tuple[Plan, Any, Any]:
    """Plan, then apply when there are changes. Returns (plan, observed, apply result or None).

    A plan that deletes or stops something goes ahead only when ``approve`` (given those actions)
    says yes; otherwise ApprovalRequired is raised before any write."""
    the_plan, obs, files = make_plan(client, spec, retrain=retrain)
    if on_plan:
        on_plan(the_plan)
    if not the_plan.has_changes:
        return the_plan, obs, None
    check_approval(the_plan, approve)
    applier = Applier(client, spec, obs, local_files=files, on_step=on_step, on_progress=on_progress)
    return the_plan, obs, applier.run(the_plan)


def bootstrap(
    client: CMLClient,
    spec: Any,
    *,
    retrain: bool = False,
    on_plan: Callable[[Plan], None] | None = None,
    on_step: Callable[[Action, str], None] | None = None,
    on_progress: Callable[[WaitEvent], None] | None = None,
    approve: Approver | None = None,
) -> BootstrapResult:
    the_plan, obs, result = apply_spec(
        client,
        spec,
        retrain=retrain,
        on_plan=on_plan,
        on_step=on_step,
        on_progress=on_progress,
        approve=approve,
    )
    summary = summary_ids(obs)
    summary["endpoint_url"] = client.model_service_url
    smokes: dict[str, dict[str, Any]] = {}
    for name, model in spec.models.items():
        served = obs.models[name].model
        summary["models"][name]["auth_enabled"] = bool(served.auth_enabled) if served else None
        if model.endpoint.smoke is not None:
            smokes[name] = smoke_test(client, served, model.endpoint.smoke)
            summary["models"][name]["smoke_prediction"] = smokes[name].get("predictions")
    first = next(iter(spec.models))
    smoke = smokes.get(first, {})
    summary["auth_enabled"] = summary["models"][first]["auth_enabled"]
    summary["smoke_prediction"] = smoke.get("predictions")
    return BootstrapResult(
        the_plan, result.to_dict() if result else {"writes": 0, "steps": []}, summary, smoke
    )
