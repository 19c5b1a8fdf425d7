"""Helpers shared by the promotion tests: candidate metrics, training a new run, call sequences."""

from __future__ import annotations

from promote_fake import PromoteFake

from automation.api import CMLClient
from automation.spec import Spec

# The fake's default run metrics (what bootstrap's version 1 scores): rmse 0.6536, r2 0.3418.
BETTER = {"rmse": 0.61, "mae": 0.48, "r2": 0.40}
WORSE = {"rmse": 0.70, "mae": 0.55, "r2": 0.30}  # passes thresholds, fails "no worse" (0.6536 + 0.02)
GATES = {"no_worse_than_prd": {"metric": "rmse", "higher_is_better": False, "tolerance": 0.02}}


def train(fake: PromoteFake, client: CMLClient, spec: Spec, metrics: dict[str, float]) -> str:
    """Run the training job once more (the fake logs an MLflow run with ``metrics``); the call log is
    cleared afterwards. Returns the MLflow run id."""
    fake.run_metrics = dict(metrics)
    dev = client.projects.find(spec.projects.dev.name)
    job = client.jobs.find(dev.id, spec.model_named(None).job)
    run = client.jobs.start_run(dev.id, job.id)
    client.jobs.wait_run(dev.id, job.id, run.id)
    newest = max(fake.experiment_runs.values(), key=lambda r: r["start_time"])
    fake.calls.clear()
    fake.predictions.clear()
    return newest["id"]


def sequence(fake: PromoteFake) -> list[str]:
    """What the promotion did, in order: writes, endpoint calls and waits (single-object GETs of
    versions, builds and deployments), ids replaced by their kind, repeated polls collapsed into one;
    the lease's writes are left out."""
    out: list[str] = []
    for call in fake.calls:
        if call.host == "model":
            line = f"{call.method} model-endpoint"
        elif call.method == "PATCH" and call.path.rstrip("/") == "/api/v2/registry/models":
            continue  # the promotion lease (taken and released): see test_promote_lease.py
        elif call.is_write:
            line = f"{call.method} {fake.shape(call.path)}"
        else:
            shape = fake.shape(call.path)
            if not shape.endswith(("{version}", "{build}", "{deployment}")):
                continue
            line = f"{call.method} {shape}"
        if not (line.startswith("GET") and out and out[-1] == line):
            out.append(line)
    return out


def deployed_versions(fake: PromoteFake) -> list[int]:
    """Version numbers with an active deployment (pending, deploying or deployed), sorted."""
    return sorted(fake.version_of_deployment(d) for d in fake.active_deployments())


def serving_version(fake: PromoteFake) -> int | None:
    """The version the endpoint answers with (the newest deployed deployment)."""
    model = next(iter(fake.models.values()))
    dep = fake.serving_deployment(model["id"])
    return fake.version_of_deployment(dep) if dep else None
