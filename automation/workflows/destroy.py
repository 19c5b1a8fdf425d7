"""destroy: remove what a spec created, DEV by default, PRD and the registry only when asked."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from automation.api import CMLClient
from automation.api.models import DEPLOY_ACTIVE
from automation.errors import RegistryUnavailable


@dataclass
class Doomed:
    kind: str  # deployment | model | project | job | registered_model
    name: str
    id: str
    project_id: str | None = None
    extra: dict[str, str] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def find_doomed(client: CMLClient, spec: Any, *, include_prd: bool, include_registry: bool) -> list[Doomed]:
    """What destroy would delete, in the order it deletes it. Reads only."""
    out: list[Doomed] = []
    if include_prd:
        prd = client.projects.find(spec.projects.prd.name)
        if prd is not None:
            model = client.models.find(prd.id, spec.deployment.model_name)
            if model is not None:
                for build in client.models.list_builds(prd.id, model.id):
                    for dep in client.models.list_deployments(prd.id, model.id, build.id):
                        if dep.status.lower() in DEPLOY_ACTIVE:
                            out.append(
                                Doomed(
                                    "deployment",
                                    model.name,
                                    dep.id,
                                    prd.id,
                                    {"model_id": model.id, "build_id": build.id},
                                )
                            )
                out.append(Doomed("model", model.name, model.id, prd.id))
            out.append(Doomed("project", prd.name, prd.id))
    dev = client.projects.find(spec.projects.dev.name)
    if dev is not None:
        job = client.jobs.find(dev.id, spec.training.job.name)
        if job is not None:
            out.append(Doomed("job", job.name, job.id, dev.id))
        out.append(Doomed("project", dev.name, dev.id))
    if include_registry:
        try:
            registered = client.registry.find(spec.model.registered_name)
        except RegistryUnavailable:
            registered = None  # no registry, nothing of ours in it
        if registered is not None:
            out.append(Doomed("registered_model", registered.name, registered.model_id))
    return out


def destroy(client: CMLClient, doomed: list[Doomed]) -> int:
    """Delete the listed resources in order; returns how many were removed."""
    for item in doomed:
        if item.kind == "deployment":
            client.models.stop_deployment(
                item.project_id, item.extra["model_id"], item.extra["build_id"], item.id
            )
        elif item.kind == "model":
            client.models.delete(item.project_id, item.id)
        elif item.kind == "job":
            client.jobs.delete(item.project_id, item.id)
        elif item.kind == "project":
            client.projects.delete(item.id)
        elif item.kind == "registered_model":
            client.registry.delete(item.id)
    return len(doomed)
