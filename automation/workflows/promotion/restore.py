"""Putting PRD back after a failed promotion: stop the new deployment, make the previous ones serve
again (restarted when the platform stopped them), and check they answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from automation.api import CMLClient
from automation.api.base import WaitEvent
from automation.api.models import DEPLOY_ACTIVE
from automation.errors import ApiError
from automation.workflows.promotion.observe import ActiveDeployment, PrdState
from automation.workflows.promotion.steps import StepRunner
from automation.workflows.smoke import smoke_test


def stop_deployment(client: CMLClient, prd: PrdState, active: ActiveDeployment) -> str:
    """Stop one deployment; one the platform already took down (CML replaces a model's deployment
    when a new one starts) may refuse the :stop, which is fine."""
    models, pid, mid = client.models, prd.project.id, prd.model.id
    bid, did = active.build.id, active.deployment.id
    try:
        models.stop_deployment(pid, mid, bid, did)
    except ApiError as exc:
        if exc.status is None or exc.status >= 500:
            raise
        if models.get_deployment(pid, mid, bid, did).status.lower() in DEPLOY_ACTIVE:
            raise
        return f"deployment {did} was already down"
    return f"stopped deployment {did}"


def smoke(client: CMLClient, endpoint: Any, prd: PrdState) -> str:
    result = smoke_test(client, prd.model, endpoint.smoke)
    return f"predictions {result['predictions']}"


def put_back(
    client: CMLClient,
    spec: Any,
    endpoint: Any,
    steps: StepRunner,
    prd: PrdState,
    new: ActiveDeployment | None,
    previous: list[ActiveDeployment],
    on_progress: Callable[[WaitEvent], None] | None,
) -> bool:
    """Make ``previous`` serve again and stop ``new``; True when PRD was changed back.

    Hitless where it can be: a new deployment that serves is stopped only after the previous one
    serves again (so the endpoint never goes dark in between); one that does not serve yet is
    stopped first (so it cannot come up later and replace the restored one)."""
    models, pid, mid = client.models, prd.project.id, prd.model.id
    new_serves = new is not None and _serves(client, prd, new)
    rolled_back = False
    if new is not None and not new_serves:
        rolled_back = steps.attempt("stop_new", lambda: stop_deployment(client, prd, new))
    restarted = False
    for a in previous:

        def restore(a: ActiveDeployment = a) -> str:
            nonlocal restarted
            dep = models.get_deployment(pid, mid, a.build.id, a.deployment.id)
            status = dep.status.lower()
            if status == "deployed":
                return f"deployment {dep.id} still serves"
            if status not in DEPLOY_ACTIVE:
                models.restart_deployment(pid, mid, a.build.id, a.deployment.id)
                restarted = True
            models.wait_deployment(
                pid,
                mid,
                a.build.id,
                a.deployment.id,
                timeout=spec.timeouts.deployment,
                on_progress=on_progress,
            )
            return f"{'restarted' if status not in DEPLOY_ACTIVE else 'waited for'} deployment {dep.id}"

        steps.attempt("restore_previous", restore)
    if new is not None and new_serves:
        rolled_back = steps.attempt("stop_new", lambda: stop_deployment(client, prd, new))
    if previous and (new is not None or restarted) and endpoint.smoke is not None:
        steps.attempt("verify_previous", lambda: smoke(client, endpoint, prd))
    return rolled_back or restarted


def _serves(client: CMLClient, prd: PrdState, active: ActiveDeployment) -> bool:
    try:
        dep = client.models.get_deployment(
            prd.project.id, prd.model.id, active.build.id, active.deployment.id
        )
    except ApiError:
        return False
    return dep.status.lower() == "deployed"
