"""destroy: lists before deleting, leaves PRD (and the registry) alone unless asked, no-op when empty."""

from __future__ import annotations

from fakes.fake_cml import FakeCML

from automation.workflows.destroy import destroy, find_doomed


def test_destroy_lists_dev_only_by_default_and_reads_only(converged: FakeCML, client, spec) -> None:
    doomed = find_doomed(client, spec, include_prd=False, include_registry=False)
    assert [(d.kind, d.name) for d in doomed] == [
        ("job", "train wine model"),
        ("project", spec.projects.dev.name),
    ]
    assert converged.writes() == []  # listing deletes nothing

    assert destroy(client, doomed) == 2
    assert converged.write_summary() == [
        "DELETE /api/v2/projects/{project}/jobs/{job}",
        "DELETE /api/v2/projects/{project}",
    ]
    assert [p["name"] for p in converged.projects.values()] == [spec.projects.prd.name]  # PRD untouched
    assert len(converged.active_deployments()) == 1 and len(converged.registered_models) == 1


def test_destroy_with_prd_and_registry_stops_deployments_first(converged: FakeCML, client, spec) -> None:
    doomed = find_doomed(client, spec, include_prd=True, include_registry=True)
    assert [d.kind for d in doomed] == [
        "deployment",
        "model",
        "project",
        "job",
        "project",
        "registered_model",
    ]
    destroy(client, doomed)
    assert converged.write_summary() == [
        "POST /api/v2/projects/{project}/models/{model}/builds/{build}/deployments/{deployment}:stop",
        "DELETE /api/v2/projects/{project}/models/{model}",
        "DELETE /api/v2/projects/{project}",
        "DELETE /api/v2/projects/{project}/jobs/{job}",
        "DELETE /api/v2/projects/{project}",
        "DELETE /api/v2/registry/models/{registered_model}",
    ]
    assert converged.projects == {} and converged.models == {} and converged.registered_models == {}


def test_destroy_is_a_no_op_on_an_empty_workspace(fake: FakeCML, client, spec) -> None:
    assert find_doomed(client, spec, include_prd=True, include_registry=True) == []
    assert destroy(client, []) == 0
    assert fake.writes() == []


def test_destroy_then_bootstrap_again_converges(converged: FakeCML, client, spec) -> None:
    from automation.reconcile import make_plan
    from automation.workflows.bootstrap import bootstrap

    destroy(client, find_doomed(client, spec, include_prd=True, include_registry=True))
    bootstrap(client, spec)
    assert not make_plan(client, spec)[0].has_changes
    assert len(converged.projects) == 2 and len(converged.active_deployments()) == 1
