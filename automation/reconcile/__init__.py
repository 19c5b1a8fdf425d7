"""Reconcile a spec with a workspace: observe (reads), plan (pure), apply (writes in order)."""

from __future__ import annotations

from typing import Any

from automation.api import CMLClient
from automation.reconcile.apply import Applier, ApplyResult
from automation.reconcile.observe import Observed, observe
from automation.reconcile.plan import Action, Plan, plan
from automation.reconcile.sources import collect_files
from automation.reconcile.summary import summary_ids


def make_plan(
    client: CMLClient, spec: Any, *, retrain: bool = False
) -> tuple[Plan, Observed, dict[str, bytes]]:
    """Read the workspace and plan; returns what apply needs next."""
    files = collect_files(spec)
    obs = observe(client, spec, files)
    return plan(spec, obs, local_files=files, retrain=retrain), obs, files


__all__ = [
    "Action",
    "Applier",
    "ApplyResult",
    "Observed",
    "Plan",
    "make_plan",
    "observe",
    "plan",
    "summary_ids",
]
