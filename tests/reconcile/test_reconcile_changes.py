"""Change detection: what plan proposes when the spec moves away from a converged workspace."""

from __future__ import annotations

import pytest
from fakes.fake_cml import FakeCML
from fakes.specs import make_spec

from automation.errors import ApprovalRequired
from automation.reconcile import make_plan
from automation.workflows.bootstrap import apply_spec


def changes(the_plan) -> dict[str, str]:
    return {a.resource: a.kind for a in the_plan.actions if a.is_change}


def test_changed_job_cpu_is_an_update_with_the_differing_field(converged: FakeCML, client) -> None:
    spec = make_spec({"training": {"job": {"cpu": 2}}})
    the_plan, _, _ = make_plan(client, spec)
    job = the_plan.get("job.train wine model")
    assert job.kind == "update" and job.changes == {"cpu": [1.0, 2.0]}
    assert (
        the_plan.get("job_run.wine-test-model").kind == "run"
    )  # no successful run for the new job definition
    assert converged.writes() == []  # planning wrote nothing

    apply_spec(client, spec)
    patches = [c for c in converged.writes() if c.method == "PATCH"]
    assert len(patches) == 1 and patches[0].body == {"cpu": 2.0}
    assert converged.shape(patches[0].path) == "/api/v2/projects/{project}/jobs/{job}"
    assert len(converged.jobs) == 1 and next(iter(converged.jobs.values()))["cpu"] == 2.0
    assert not make_plan(client, spec)[0].has_changes


def test_changed_job_environment_is_compared_after_normalising_the_json_string(
    converged: FakeCML, client
) -> None:
    spec = make_spec({"training": {"job": {"environment": {"EXPERIMENT_NAME": "wine-test", "ALPHA": 0.7}}}})
    job = make_plan(client, spec)[0].get("job.train wine model")
    assert job.kind == "update"
    assert job.changes == {
        "environment": [
            {"ALPHA": "0.5", "EXPERIMENT_NAME": "wine-test"},
            {"ALPHA": "0.7", "EXPERIMENT_NAME": "wine-test"},
        ]
    }


def test_changed_replicas_deploys_anew_and_stops_the_old_one_after(converged: FakeCML, client) -> None:
    converged.supersede_on_deploy = False  # a workspace that keeps the old one until told (handled too)
    old_id = next(iter(converged.deployments))
    spec = make_spec({"deployment": {"replicas": 2}})
    the_plan, _, _ = make_plan(client, spec)
    assert changes(the_plan) == {"deployment.wine-test-model": "deploy"}
    assert the_plan.get("deployment.wine-test-model").changes == {"replicas": [1, 2]}

    _, _, result = apply_spec(client, spec)
    detail = {s.resource: s.detail for s in result.steps}
    writes = converged.write_summary()
    assert writes == [
        "POST /api/v2/projects/{project}/models/{model}/builds/{build}/deployments",
        "POST /api/v2/projects/{project}/models/{model}/builds/{build}/deployments/{deployment}:stop",
    ]
    new_id = next(d for d in converged.deployments if d != old_id)
    assert converged.writes()[0].body["replicas"] == 2
    assert converged.writes()[1].path.endswith(f"/deployments/{old_id}:stop")
    # the old deployment was stopped only after the new one reported "deployed"
    stop_at = converged.calls.index(converged.writes()[1])
    polls = [c for c in converged.calls[:stop_at] if c.method == "GET" and c.path.endswith(new_id)]
    assert polls and polls[-1].status == 200
    assert converged.deployments[new_id]["status"] == "deployed"
    assert converged.deployments[old_id]["status"] == "stopped"
    assert detail["deployment.wine-test-model"] == f"deployment {new_id}, stopped 1 older"
    assert not make_plan(client, spec)[0].has_changes


def test_when_cml_supersedes_the_old_deployment_apply_stops_nothing(converged: FakeCML, client) -> None:
    assert converged.supersede_on_deploy  # the fake's default, as CML does
    old_id = next(iter(converged.deployments))
    spec = make_spec({"deployment": {"replicas": 2}})

    _, _, result = apply_spec(client, spec)

    assert converged.write_summary() == [
        "POST /api/v2/projects/{project}/models/{model}/builds/{build}/deployments"
    ]
    assert result.steps[0].detail.startswith("deployment ") and "stopped" not in result.steps[0].detail
    assert converged.deployments[old_id]["status"] == "stopped"
    assert [d["replicas"] for d in converged.active_deployments()] == [2]
    assert not make_plan(client, spec)[0].has_changes


def test_changed_model_description_is_a_model_update_only(converged: FakeCML, client) -> None:
    spec = make_spec({"deployment": {"description": "new words"}})
    the_plan, _, _ = make_plan(client, spec)
    assert changes(the_plan) == {"endpoint.wine-test-model": "update"}
    apply_spec(client, spec)
    assert converged.write_summary() == ["PATCH /api/v2/projects/{project}/models/{model}"]
    assert converged.writes()[0].body == {"description": "new words [cmlops:wine-test]"}  # the mark kept


def test_changed_auth_replaces_the_model(converged: FakeCML, client) -> None:
    spec = make_spec({"deployment": {"auth": False}})
    the_plan, _, _ = make_plan(client, spec)
    assert the_plan.get("endpoint.wine-test-model").kind == "replace"
    assert the_plan.get("endpoint.wine-test-model").changes == {"auth_enabled": [True, False]}
    assert the_plan.destructive == [the_plan.get("endpoint.wine-test-model")]
    assert "deletes PRD model 'wine-test-endpoint'" in the_plan.get("endpoint.wine-test-model").destroys
    with pytest.raises(ApprovalRequired) as refused:  # not approved: refused before any write
        apply_spec(client, spec)
    assert refused.value.exit_code == 12 and converged.writes() == []
    with pytest.raises(ApprovalRequired):
        apply_spec(client, spec, approve=lambda actions: False)
    assert converged.writes() == []
    seen = []
    apply_spec(client, spec, approve=lambda actions: seen.append(actions) or True)
    assert [[a.resource for a in actions] for actions in seen] == [["endpoint.wine-test-model"]]
    assert converged.write_summary()[:3] == [  # the old model's deployments stopped before it goes
        "POST /api/v2/projects/{project}/models/{model}/builds/{build}/deployments/{deployment}:stop",
        "DELETE /api/v2/projects/{project}/models/{model}",
        "POST /api/v2/projects/{project}/models",
    ]
    assert len(converged.models) == 1 and next(iter(converged.models.values()))["auth_enabled"] is False
    assert len(converged.active_deployments()) == 1
    assert not make_plan(client, spec)[0].has_changes


def test_retrain_plans_a_new_run_and_a_new_version(converged: FakeCML, client, spec) -> None:
    the_plan, _, _ = make_plan(client, spec, retrain=True)
    assert changes(the_plan) == {
        "job_run.wine-test-model": "run",
        "model_version.wine-test-model": "register",
        "build.wine-test-model": "build",
        "deployment.wine-test-model": "deploy",
    }
    apply_spec(client, spec, retrain=True)
    assert len(converged.job_runs) == 2 and len(converged.model_versions) == 2
    assert len(converged.active_deployments()) == 1  # the previous version's deployment was stopped
    assert not make_plan(client, spec)[0].has_changes


def test_changed_source_file_is_uploaded_again_and_retrains(converged: FakeCML, client, spec) -> None:
    dev_id = next(p["id"] for p in converged.projects.values() if p["name"] == spec.projects.dev.name)
    converged.files[dev_id]["code/wine.py"] = b"an older version"
    the_plan, _, _ = make_plan(client, spec)
    files = the_plan.get("files.dev")
    assert files.kind == "upload" and list(files.changes) == ["code/wine.py"]
    assert the_plan.get("job_run.wine-test-model").kind == "run"
    apply_spec(client, spec)
    assert converged.write_summary()[:2] == [
        "DELETE /api/v2/projects/{project}/files/code%2Fwine.py",
        "POST /api/v2/projects/{project}/files",
    ]
    assert sorted(converged.files[dev_id]) == ["code/02_Experiment_log_model.py", "code/wine.py"]


def test_a_folder_in_source_files_uploads_what_validate_accepted(fake: FakeCML, client) -> None:
    from automation.spec import check_files

    spec = make_spec({"projects": {"dev": {"source": {"files": ["code"]}}}})
    validated = check_files(spec)  # what `cmlops validate` accepts ...
    the_plan, _, files = make_plan(client, spec)
    assert sorted(files) == validated  # ... is what apply uploads
    assert sorted(the_plan.get("files.dev").changes) == validated


def test_crash_before_the_old_deployment_was_stopped_is_finished_next_time(
    converged: FakeCML, client
) -> None:
    converged.supersede_on_deploy = False  # a workspace that keeps the old one until told (handled too)
    old_id = next(iter(converged.deployments))
    spec = make_spec({"deployment": {"replicas": 2}})
    converged.interrupt("POST", r":stop$")
    with pytest.raises(KeyboardInterrupt):
        apply_spec(client, spec)
    assert len(converged.active_deployments()) == 2  # new one serving, old one still up
    the_plan, _, _ = make_plan(client, spec)
    assert changes(the_plan) == {"old_deployments.wine-test-model": "update"}
    converged.calls.clear()
    _, _, result = apply_spec(client, spec)
    assert [c.shape.rsplit("/", 1)[-1] for c in converged.writes()] == ["{deployment}:stop"]
    assert [s.detail for s in result.steps] == ["stopped 1"]
    assert converged.deployments[old_id]["status"] == "stopped"
    assert len(converged.active_deployments()) == 1 and len(converged.deployments) == 2


def test_a_newer_runtime_release_does_not_force_a_retrain(converged: FakeCML, client) -> None:
    spec = make_spec()
    in_use = next(iter(converged.jobs.values()))["runtime_identifier"]
    current = next(r for r in converged.runtimes if r["image_identifier"] == in_use)
    release = dict(
        current, full_version="2099.01.1-b1", image_identifier=in_use.rsplit(":", 1)[0] + ":2099.01.1-b1"
    )
    converged.runtimes.append(release)
    assert (
        client.runtimes.pick(
            editor=current["editor"], kernel=current["kernel"], edition=current["edition"]
        ).image_identifier
        == release["image_identifier"]
    )
    the_plan, obs, _ = make_plan(client, spec)
    assert not the_plan.has_changes, changes(the_plan)
    assert obs.runtime_identifier == in_use  # the matching runtime already in use is kept


def test_a_job_on_a_runtime_that_no_longer_matches_moves_to_the_newest(converged: FakeCML, client) -> None:
    spec = make_spec()
    job = next(iter(converged.jobs.values()))
    job["runtime_identifier"] = "docker.example.com/retired-runtime:2019.01.1-b1"
    the_plan, obs, _ = make_plan(client, spec)
    action = the_plan.get("job.train wine model")
    assert action.kind == "update"
    assert action.changes["runtime_identifier"][1] == obs.runtime_identifier != job["runtime_identifier"]
