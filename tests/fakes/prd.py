"""What the PRD model serves, read through the API (shared by the live promotion suites)."""

from __future__ import annotations

from automation.api import CMLClient
from automation.spec import Spec


def deployed_version_numbers(client: CMLClient, spec: Spec) -> list[int]:
    """Registered version numbers behind the PRD model's deployed deployments, sorted."""
    prd = client.projects.find(spec.projects.prd.name)
    model = client.models.find(prd.id, spec.model_named(None).endpoint.model_name)
    registered = client.registry.find(spec.model_named(None).registered_name)
    number = {v.model_version_id: v.number for v in client.registry.versions(registered.model_id)}
    return sorted(
        number[b.registered_model_version_id]
        for b in client.models.list_builds(prd.id, model.id)
        for d in client.models.list_deployments(prd.id, model.id, b.id)
        if d.status == "deployed"
    )
