"""The fake itself: its recorded shapes, paging, filtering and scripted progressions.

The reconcile tests are only as good as the fake, so its CML behaviours are pinned here.
"""

from __future__ import annotations

import json
import re

import pytest
import requests
from fakes.fake_cml import BASE_URL, FIXTURES, FakeCML, fixture

from automation.api import types
from automation.errors import BadRequest, NotFound, Unauthenticated

FOUR_BY_FOUR = re.compile(r"[a-z0-9]{4}(-[a-z0-9]{4}){3}")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def test_every_fixture_is_cml_shaped_and_parses_with_the_client_types() -> None:
    project = types.Project.model_validate(fixture("project"))
    assert FOUR_BY_FOUR.fullmatch(project.id) and project.environment == {}
    job = types.Job.model_validate(fixture("job"))
    assert fixture("job")["timeout"] == "0" and job.timeout == 0  # int64 as a string
    assert isinstance(fixture("job")["environment"], str)  # environment is a JSON string in responses
    run = types.ExperimentRun.model_validate(fixture("experiment_run"))
    assert run.metrics == {"rmse": 0.6536, "mae": 0.5009, "r2": 0.3418}
    assert run.tags["model_artifact_path"] == "model"
    registered = types.RegisteredModel.model_validate(fixture("registered_model"))
    assert FOUR_BY_FOUR.fullmatch(registered.model_id) and registered.model_versions[0].run_id == run.id
    model = types.Model.model_validate(fixture("model"))
    assert UUID.fullmatch(model.id) and len(model.access_key) == 32 and model.deletion_status == ""
    assert model.access_key not in repr(model)
    assert UUID.fullmatch(types.ModelBuild.model_validate(fixture("model_build")).id)
    deployment = types.ModelDeployment.model_validate(fixture("model_deployment"))
    assert deployment.status == "pending" and deployment.environment == {}
    for runtime in fixture("runtimes")["runtimes"]:
        types.Runtime.model_validate(runtime)
    for body in fixture("errors").values():
        assert "code" in body or body.get("success") is False
    assert {p.stem for p in FIXTURES.glob("*.json")} >= {
        "project", "runtimes", "job", "job_run", "experiment", "experiment_run", "registered_model",
        "model", "model_build", "model_deployment", "errors",
    }  # fmt: skip


def test_ids_follow_cml_forms(fake: FakeCML, client) -> None:
    project = client.projects.create("p")
    model = client.models.create(project.id, name="m")
    assert FOUR_BY_FOUR.fullmatch(project.id)
    assert UUID.fullmatch(model.id)
    assert re.fullmatch(r"[a-z0-9]{32}", model.access_key)


def test_paging_follows_tokens_and_requires_page_size_with_each_token(fake: FakeCML, client) -> None:
    for i in range(25):
        client.projects.create(f"proj-{i:02d}")
    fake.calls.clear()
    listed = list(client.projects.list())
    assert len(listed) == 25
    assert [c.query.get("page_size") for c in fake.calls] == ["100"]
    raw = requests.get(
        f"{BASE_URL}/api/v2/projects", params={"page_size": 10}, headers={"Authorization": "Bearer test-key"}
    ).json()
    assert len(raw["projects"]) == 10 and raw["next_page_token"]
    second = requests.get(
        f"{BASE_URL}/api/v2/projects",
        params={"page_size": 10, "page_token": raw["next_page_token"]},
        headers={"Authorization": "Bearer test-key"},
    ).json()
    assert {p["id"] for p in second["projects"]}.isdisjoint({p["id"] for p in raw["projects"]})
    refused = requests.get(
        f"{BASE_URL}/api/v2/projects",
        params={"page_token": raw["next_page_token"]},
        headers={"Authorization": "Bearer test-key"},
    )
    assert refused.status_code == 400 and refused.json()["code"] == 3


def test_client_pages_through_small_pages(fake: FakeCML, client) -> None:
    for i in range(7):
        client.projects.create(f"proj-{i}")
    fake.calls.clear()
    items = list(client.projects._pages("/api/v2/projects", "projects", page_size=3))
    assert len(items) == 7
    queries = [c.query for c in fake.calls]
    assert len(queries) == 3 and all(q["page_size"] == "3" for q in queries)
    assert "page_token" not in queries[0] and all("page_token" in q for q in queries[1:])


def test_search_filter_is_substring_and_case_sensitive(fake: FakeCML, client) -> None:
    client.projects.create("DSE")
    client.projects.create("wine-dev")
    assert [p.name for p in client.projects.list(search_filter={"name": "DS"})] == ["DSE"]
    assert list(client.projects.list(search_filter={"name": "dse"})) == []
    client.projects.create("wine-dev-old")
    assert client.projects.find("wine-dev").name == "wine-dev"  # the client re-checks the exact name


def test_job_run_progresses_over_successive_gets_and_logs_an_experiment_run(fake: FakeCML, client) -> None:
    project = client.projects.create("dev")
    job = client.jobs.create(
        project.id,
        name="train",
        script="t.py",
        runtime_identifier="rt",
        environment={"EXPERIMENT_NAME": "exp"},
    )
    run = client.jobs.start_run(project.id, job.id)
    assert run.status == "ENGINE_SCHEDULING"
    seen = [client.jobs.get_run(project.id, job.id, run.id).status for _ in range(4)]
    assert seen == ["ENGINE_SCHEDULING", "ENGINE_RUNNING", "ENGINE_SUCCEEDED", "ENGINE_SUCCEEDED"]
    experiment = client.experiments.find(project.id, "exp")
    runs = list(client.experiments.list_runs(project.id, experiment.id))
    assert len(runs) == 1 and runs[0].status == "EXPERIMENT_RUN_FINISHED"
    assert "model_artifact_path" not in runs[0].tags  # recorded as MLflow 2.19 does, no tag of ours
    history = json.loads(runs[0].tags["mlflow.log-model.history"])
    assert [h["artifact_path"] for h in history] == ["model"] and history[0]["run_id"] == runs[0].id
    assert runs[0].data["files"] == [{"path": "model", "is_dir": True, "file_size": ""}]
    assert set(runs[0].metrics) == {"rmse", "mae", "r2"}


def test_builds_and_deployments_progress_and_knobs_fail_them(fake: FakeCML, client) -> None:
    project = client.projects.create("dev")
    job = client.jobs.create(project.id, name="t", script="t.py", runtime_identifier="rt")
    run = client.jobs.start_run(project.id, job.id)
    fake.advance_all()
    experiment = client.experiments.find(project.id, "wine-test")
    mlflow_run = next(client.experiments.list_runs(project.id, experiment.id))
    registered = client.registry.register(
        project_id=project.id,
        experiment_id=experiment.id,
        run_id=mlflow_run.id,
        model_path="model",
        model_name="m",
    )
    version_id = registered.model_versions[0].model_version_id
    assert client.jobs.get_run(project.id, job.id, run.id).status == "ENGINE_SUCCEEDED"
    model = client.models.create(project.id, name="m", registered_model_id=registered.model_id)
    build = client.models.create_build(
        project.id, model.id, registered_model_version_id=version_id, runtime_identifier="rt"
    )
    statuses = [client.models.get_build(project.id, model.id, build.id).status for _ in range(3)]
    assert statuses == ["queued", "pending", "built"]
    dep = client.models.create_deployment(project.id, model.id, build.id, cpu=1, memory=2)
    statuses = [client.models.get_deployment(project.id, model.id, build.id, dep.id).status for _ in range(3)]
    assert statuses == ["pending", "deploying", "deployed"]
    fake.build_outcome = "build failed"
    failing = client.models.create_build(
        project.id, model.id, registered_model_version_id=version_id, runtime_identifier="rt"
    )
    fake.advance_all()
    assert client.models.get_build(project.id, model.id, failing.id).status == "build failed"


def test_uploads_never_overwrite_and_listing_is_one_level(fake: FakeCML, client) -> None:
    project = client.projects.create("dev")
    client.projects.upload_file(project.id, "code/a.py", b"one")
    client.projects.upload_file(project.id, "code/a.py", b"two!")
    client.projects.upload_file(project.id, "code/sub/b.py", b"x")
    assert fake.files[project.id] == {"code/a.py": b"one", "code/a(1).py": b"two!", "code/sub/b.py": b"x"}
    listing = {(f.path, f.is_dir, f.file_size) for f in client.projects.list_files(project.id, "code")}
    assert listing == {("a.py", False, 3), ("a(1).py", False, 4), ("sub", True, 4096)}
    with pytest.raises(NotFound):
        client.projects.list_files(project.id, "nowhere")


def test_bad_key_is_refused_and_unknown_paths_are_recorded() -> None:
    with FakeCML.running() as fake:
        bad = fake.client()
        bad.http._api_key = "wrong-key"
        with pytest.raises(Unauthenticated):
            list(bad.projects.list())
        good = fake.client()
        with pytest.raises(NotFound):
            good.http.request("GET", "/api/v2/nothing-here")
        assert [c.path for c in fake.unrouted] == ["/api/v2/nothing-here"]
        assert json.loads(json.dumps(fake.calls[0].query)) == {"page_size": "100"}


def test_the_model_endpoint_checks_the_request_shape(converged: FakeCML, client) -> None:
    model = next(iter(converged.models.values()))
    service = client.model_service()
    good = service.request(
        "POST", "", json_body={"accessKey": model["access_key"], "request": {"input": [[1]]}}
    )
    assert good["success"] is True
    for body, word in (
        ([1, 2], "JSON object"),
        ({"request": {"input": [[1]]}}, "accessKey"),
        ({"accessKey": model["access_key"]}, "request"),
        ({"accessKey": model["access_key"], "request": [[1]]}, "request"),
    ):
        with pytest.raises(BadRequest) as info:
            service.request("POST", "", json_body=body)
        assert getattr(info.value, "status", None) == 400 and word in str(info.value)
    assert converged.predictions == [{"input": [[1]]}]


def test_a_new_deployment_supersedes_the_models_older_one(converged: FakeCML, client) -> None:
    old = next(iter(converged.deployments.values()))
    pid, mid, bid = old["project_id"], old["model_id"], old["build_id"]
    new = client.models.create_deployment(pid, mid, bid, cpu=1, memory=2)
    assert converged.deployments[old["id"]]["status"] == "stopped"
    assert converged.deployments[new.id]["status"] == "pending"
    assert converged.deployments[old["id"]]["stopped_at"] is not None


def test_patch_bodies_and_enums_are_checked_as_cml_does(converged: FakeCML, client) -> None:
    project = next(iter(converged.projects.values()))
    with pytest.raises(BadRequest) as info:
        client.http.request(
            "PATCH", f"/api/v2/projects/{project['id']}", json_body={"environment": {"A": "1"}}
        )
    assert "environment" in str(info.value)
    assert client.projects.update(project["id"], environment={"A": "1"}).environment == {"A": "1"}
    run = next(iter(converged.experiment_runs.values()))
    with pytest.raises(BadRequest):
        client.registry.register(
            project_id=project["id"],
            experiment_id=run["experiment_id"],
            run_id=run["id"],
            model_path="model",
            model_name="x",
            visibility="private",
        )


def test_every_accepted_request_is_checked_against_the_swagger_types() -> None:
    from conformance.swagger import find_swagger
    from fakes.fake_cml import Call
    from fakes.fixtures import swagger_problems

    if find_swagger() is None:
        pytest.skip("API v2 swagger not found: set CML_SWAGGER to cml-api-v2.swagger.json")
    sent = [
        Call("PATCH", "/api/v2/projects/p1/jobs/j1", {}, {"timeout": 60}, status=200),  # int64 wants a string
        Call("PATCH", "/api/v2/projects/p1", {}, {"environment": {"A": "1"}}, status=200),  # wants a string
        Call(
            "PATCH", "/api/v2/projects/p1", {}, {"environment": {"A": "1"}}, status=400
        ),  # refused: not checked
        Call("POST", "/api/v2/projects/p1/files", {}, {"code/a.py": b"x"}, status=200),  # multipart
    ]
    problems = swagger_problems(sent)
    assert len(problems) == 2
    assert any("body.timeout" in p for p in problems) and any("body.environment" in p for p in problems)
