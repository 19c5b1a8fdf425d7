"""destroy deletes only what the spec created (its ownership marks), lists it first, leaves PRD and the
registry alone unless asked, and names what it leaves: a project holding anything else is kept."""

from __future__ import annotations

from fakes.fake_cml import FakeCML

from automation.workflows.destroy import UploadGlobs, destroy, find_doomed


def _project(fake: FakeCML, name: str) -> dict:
    return fake.named(fake.projects, name)[0]


def test_destroy_lists_dev_only_by_default_and_reads_only(converged: FakeCML, client, spec) -> None:
    found = find_doomed(client, spec, include_prd=False, include_registry=False)
    assert [(d.kind, d.name) for d in found.delete] == [
        ("job", "train wine model"),
        ("project", spec.projects.dev.name),
    ]
    assert found.left == []
    assert converged.writes() == []  # listing deletes nothing

    assert destroy(client, found.delete) == 2
    assert converged.write_summary() == [
        "DELETE /api/v2/projects/{project}/jobs/{job}",
        "DELETE /api/v2/projects/{project}",
    ]
    assert [p["name"] for p in converged.projects.values()] == [spec.projects.prd.name]  # PRD untouched
    assert len(converged.active_deployments()) == 1 and len(converged.registered_models) == 1


def test_destroy_with_prd_and_registry_stops_deployments_first(converged: FakeCML, client, spec) -> None:
    found = find_doomed(client, spec, include_prd=True, include_registry=True)
    assert [d.kind for d in found.delete] == [
        "deployment",
        "model",
        "project",
        "job",
        "project",
        "registered_model",
    ]
    destroy(client, found.delete)
    assert converged.write_summary() == [
        "POST /api/v2/projects/{project}/models/{model}/builds/{build}/deployments/{deployment}:stop",
        "DELETE /api/v2/projects/{project}/models/{model}",
        "DELETE /api/v2/projects/{project}",
        "DELETE /api/v2/projects/{project}/jobs/{job}",
        "DELETE /api/v2/projects/{project}",
        "DELETE /api/v2/registry/models/{registered_model}",
    ]
    assert converged.projects == {} and converged.models == {} and converged.registered_models == {}


def test_a_foreign_job_notebook_and_endpoint_are_left_and_keep_their_projects(
    converged: FakeCML, client, spec
) -> None:
    dev, prd = _project(converged, spec.projects.dev.name), _project(converged, spec.projects.prd.name)
    runtime = next(iter(converged.jobs.values()))["runtime_identifier"]
    other_job = client.jobs.create(
        dev["id"], name="someone else's job", script="x.py", runtime_identifier=runtime
    )
    client.projects.upload_file(dev["id"], "analysis.ipynb", b"{}")
    other_model = client.models.create(prd["id"], name="team-b-endpoint", registered_model_id="")
    converged.calls.clear()

    found = find_doomed(client, spec, include_prd=True, include_registry=False)
    deleted = [(d.kind, d.name) for d in found.delete]
    assert deleted == [
        ("deployment", "wine-test-endpoint"),
        ("model", "wine-test-endpoint"),
        ("job", "train wine model"),
    ]  # the spec's own things, and neither project
    left = {(x.kind, x.name): x for x in found.left}
    assert set(left) == {
        ("model", "team-b-endpoint"),
        ("project", spec.projects.prd.name),
        ("job", "someone else's job"),
        ("file", "analysis.ipynb"),
        ("project", spec.projects.dev.name),
    }
    assert left[("job", "someone else's job")].id == other_job.id
    assert left[("model", "team-b-endpoint")].id == other_model.id
    assert "holds 2 thing(s) this spec did not create" in left[("project", spec.projects.dev.name)].reason
    assert converged.writes() == []

    destroy(client, found.delete)
    assert {p["name"] for p in converged.projects.values()} == {
        spec.projects.dev.name,
        spec.projects.prd.name,
    }
    assert [j["name"] for j in converged.jobs.values()] == ["someone else's job"]
    assert [m["name"] for m in converged.models.values()] == ["team-b-endpoint"]
    assert "analysis.ipynb" in converged.files[dev["id"]]


def test_force_deletes_the_projects_and_lists_what_goes_with_them(converged: FakeCML, client, spec) -> None:
    dev = _project(converged, spec.projects.dev.name)
    client.projects.upload_file(dev["id"], "analysis.ipynb", b"{}")
    found = find_doomed(client, spec, include_prd=False, include_registry=False, force=True)
    project = found.delete[-1]
    assert (project.kind, project.contents) == (
        "project",
        ["file analysis.ipynb in project wine-test-dev: not created by this spec"],
    )
    assert "with: file analysis.ipynb" in project.describe()
    destroy(client, found.delete)
    assert spec.projects.dev.name not in {p["name"] for p in converged.projects.values()}


def test_what_the_spec_did_not_create_is_never_deleted(fake: FakeCML, client, spec) -> None:
    """Projects, a job and a model with the spec's names, made by hand (no ownership marks)."""
    dev = client.projects.create(spec.projects.dev.name)
    prd = client.projects.create(spec.projects.prd.name)
    runtime = fake.runtimes[0]["image_identifier"]
    client.jobs.create(dev.id, name=spec.model_named(None).job, script="x.py", runtime_identifier=runtime)
    client.models.create(prd.id, name=spec.model_named(None).endpoint.model_name, registered_model_id="")
    found = find_doomed(client, spec, include_prd=True, include_registry=True)
    assert found.delete == []
    reasons = {(x.kind, x.name): x.reason for x in found.left}
    assert set(reasons) == {
        ("model", spec.model_named(None).endpoint.model_name),
        ("project", spec.projects.prd.name),
        ("job", spec.model_named(None).job),
        ("project", spec.projects.dev.name),
    }
    assert all("not created by this spec" in r for r in reasons.values())


def test_a_registered_model_with_versions_of_others_is_left(converged: FakeCML, client, spec) -> None:
    version = next(iter(converged.model_versions.values()))
    version["tags"] = []  # as if registered by someone else's script
    version.get("model_version_metadata", {}).pop("tags", None)
    found = find_doomed(client, spec, include_prd=False, include_registry=True)
    assert "registered_model" not in [d.kind for d in found.delete]
    left = next(x for x in found.left if x.kind == "registered_model")
    assert "did not register" in left.reason and "--force" in left.reason
    forced = find_doomed(client, spec, include_prd=False, include_registry=True, force=True)
    assert forced.delete[-1].kind == "registered_model" and forced.delete[-1].contents


def test_destroy_is_a_no_op_on_an_empty_workspace(fake: FakeCML, client, spec) -> None:
    found = find_doomed(client, spec, include_prd=True, include_registry=True)
    assert found.delete == [] and found.left == []
    assert destroy(client, []) == 0
    assert fake.writes() == []


def test_destroy_then_bootstrap_again_converges(converged: FakeCML, client, spec) -> None:
    from automation.reconcile import make_plan
    from automation.workflows.bootstrap import bootstrap

    destroy(client, find_doomed(client, spec, include_prd=True, include_registry=True).delete)
    bootstrap(client, spec)
    assert not make_plan(client, spec)[0].has_changes
    assert len(converged.projects) == 2 and len(converged.active_deployments()) == 1


def test_upload_globs_cover_the_spec_files_and_reach_only_their_folders() -> None:
    globs = UploadGlobs(["code/**/*.py", "requirements.txt", "conf"])
    assert globs.covers("code/wine.py") and globs.covers("code/api_tour/01.py")
    assert globs.covers("requirements.txt") and globs.covers("conf/a/b.yaml")
    assert not globs.covers("analysis.ipynb") and not globs.covers("code/notes.ipynb")
    assert globs.reaches("code") and globs.reaches("code/api_tour") and globs.reaches("conf")
    assert not globs.reaches("data") and not globs.reaches("notebooks")
