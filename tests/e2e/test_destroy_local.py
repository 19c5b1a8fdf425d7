"""destroy on the live local workspace: the ownership marks survive the real API (project and job
environments, the model's description), so what the spec created is listed for deletion, and a job
and a notebook someone else put in the DEV project are left, with the project. Reads only."""

from __future__ import annotations

from automation.workflows.destroy import find_doomed
from e2e.local_bootstrap import Bootstrapped


def test_destroy_lists_the_spec_resources_and_leaves_a_foreign_job_and_notebook(boot: Bootstrapped) -> None:
    client, spec = boot.client, boot.spec
    dev = client.projects.find(spec.projects.dev.name)
    train = client.jobs.find(dev.id, spec.model_named(None).job)
    other = client.jobs.create(
        dev.id, name="team-b report", script="code/wine.py", runtime_identifier=train.runtime_identifier
    )
    client.projects.upload_file(dev.id, "notebooks/analysis.ipynb", b"{}")
    try:
        found = find_doomed(client, spec, include_prd=True, include_registry=False)
    finally:
        client.jobs.delete(dev.id, other.id)
        client.projects.delete_file(dev.id, "notebooks")
    deleted = [(d.kind, d.name) for d in found.delete]
    assert ("model", spec.model_named(None).endpoint.model_name) in deleted
    assert ("deployment", spec.model_named(None).endpoint.model_name) in deleted
    assert ("job", spec.model_named(None).job) in deleted and (
        "job",
        spec.ancestors(spec.model_named(None).job)[0],
    ) in deleted
    assert ("project", spec.projects.prd.name) in deleted  # PRD holds only what the spec made
    assert ("project", spec.projects.dev.name) not in deleted
    left = {(x.kind, x.name) for x in found.left}
    assert {("job", "team-b report"), ("file", "notebooks/"), ("project", spec.projects.dev.name)} <= left
