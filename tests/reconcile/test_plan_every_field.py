"""Field by field: every job, model, deployment and project field the spec controls is planned as a
change when it alone differs, applied with exactly that write, and converges afterwards.

The converged workspace comes from tests/reconcile/spec-wine-test.yaml (job cpu 1, memory 2, no GPU,
timeout 900; deployment cpu 1, memory 2, one replica, auth on).
"""

from __future__ import annotations

from typing import Any

import pytest
from fakes.fake_cml import FakeCML
from fakes.specs import make_spec

from automation.reconcile import make_plan
from automation.workflows.bootstrap import apply_spec

JOB_PATH = "/api/v2/projects/{project}/jobs/{job}"
PY39 = "docker.repository.cloudera.com/cloudera/cdsw/ml-runtime-workbench-python3.9-standard:2024.02.1-b4"


def changed(the_plan) -> dict[str, str]:
    return {a.resource: a.kind for a in the_plan.actions if a.is_change}


JOB_FIELDS = [
    # (spec override of training.job, plan field, current, desired, PATCH body)
    ({"memory": 4}, "memory", 2.0, 4.0, {"memory": 4.0}),
    ({"memory": 2.5}, "memory", 2.0, 2.5, {"memory": 2.5}),
    ({"cpu": 2}, "cpu", 1.0, 2.0, {"cpu": 2.0}),
    ({"cpu": 0.5}, "cpu", 1.0, 0.5, {"cpu": 0.5}),
    ({"gpus": 1}, "nvidia_gpu", 0, 1, {"nvidia_gpu": 1}),
    # a PATCH body is the Job message, whose timeout is an int64: a JSON string (swagger)
    ({"timeout": 901}, "timeout", 900, 901, {"timeout": "901"}),
    ({"arguments": "--fast"}, "arguments", "", "--fast", {"arguments": "--fast"}),
    ({"script": "code/wine.py"}, "script", "code/02_Experiment_log_model.py", "code/wine.py", None),
]


@pytest.mark.parametrize(
    ("override", "field", "current", "desired", "body"),
    JOB_FIELDS,
    ids=[f"{r[1]}-{r[3]}" for r in JOB_FIELDS],
)
def test_each_job_field_alone_is_an_update(
    converged: FakeCML, client, override: dict[str, Any], field: str, current: Any, desired: Any, body: Any
) -> None:
    spec = make_spec({"training": {"job": override}})
    the_plan = make_plan(client, spec)[0]
    job = the_plan.get("job.train wine model")
    assert (job.kind, job.changes) == ("update", {field: [current, desired]})
    assert (
        the_plan.get("job_run.wine-test-model").kind == "run"
        and the_plan.get("job_run.wine-test-model").reason == "the job changed"
    )
    assert converged.writes() == []

    apply_spec(client, spec)
    patches = [c for c in converged.writes() if c.method == "PATCH"]
    assert len(patches) == 1 and converged.shape(patches[0].path) == JOB_PATH
    assert patches[0].body == (body or {field: desired})
    assert not make_plan(client, spec)[0].has_changes


def test_job_environment_added_variable_is_an_update(converged: FakeCML, client) -> None:
    spec = make_spec({"training": {"job": {"environment": {"EXTRA": 1}}}})
    job = make_plan(client, spec)[0].get("job.train wine model")
    assert job.kind == "update"
    assert job.changes == {
        "environment": [
            {"ALPHA": "0.5", "EXPERIMENT_NAME": "wine-test"},
            {"ALPHA": "0.5", "EXPERIMENT_NAME": "wine-test", "EXTRA": "1"},
        ]
    }


def test_job_runtime_change_is_an_update(converged: FakeCML, client) -> None:
    old = next(iter(converged.jobs.values()))["runtime_identifier"]
    spec = make_spec({"runtime": {"kernel": "Python 3.9"}})
    the_plan = make_plan(client, spec)[0]
    assert the_plan.get("job.train wine model").changes == {"runtime_identifier": [old, PY39]}
    assert changed(the_plan)["job.train wine model"] == "update"


def test_an_unchanged_spec_plans_no_job_change(converged: FakeCML, client, spec) -> None:
    the_plan = make_plan(client, spec)[0]
    assert (
        the_plan.get("job.train wine model").kind == "noop"
        and the_plan.get("job.train wine model").changes == {}
    )
    assert not the_plan.has_changes


DEPLOYMENT_FIELDS = [
    ({"memory": 4}, "memory", 2.0, 4.0),
    ({"memory": 2.5}, "memory", 2.0, 2.5),
    ({"cpu": 2}, "cpu", 1.0, 2.0),
    ({"cpu": 0.5}, "cpu", 1.0, 0.5),
    ({"replicas": 3}, "replicas", 1, 3),
    ({"gpus": 1}, "nvidia_gpu", 0, 1),
    ({"environment": {"LOG_LEVEL": "debug"}}, "environment", {}, {"LOG_LEVEL": "debug"}),
]


@pytest.mark.parametrize(
    ("override", "field", "current", "desired"),
    DEPLOYMENT_FIELDS,
    ids=[f"{r[1]}-{r[3]}" for r in DEPLOYMENT_FIELDS],
)
def test_each_deployment_field_alone_deploys_anew(
    converged: FakeCML, client, override: dict[str, Any], field: str, current: Any, desired: Any
) -> None:
    spec = make_spec({"deployment": override})
    the_plan = make_plan(client, spec)[0]
    assert changed(the_plan) == {"deployment.wine-test-model": "deploy"}
    assert the_plan.get("deployment.wine-test-model").changes == {field: [current, desired]}

    apply_spec(client, spec)
    posts = [c for c in converged.writes() if c.method == "POST" and not c.path.endswith(":stop")]
    assert len(posts) == 1
    sent = posts[0].body
    sent_field = "nvidia_gpus" if field == "nvidia_gpu" else field  # the create request's spelling
    assert sent[sent_field] == desired
    assert not make_plan(client, spec)[0].has_changes


def test_model_auth_change_replaces_the_model(converged: FakeCML, client) -> None:
    spec = make_spec({"deployment": {"auth": False}})
    the_plan = make_plan(client, spec)[0]
    model = the_plan.get("endpoint.wine-test-model")
    assert (model.kind, model.changes) == ("replace", {"auth_enabled": [True, False]})
    assert (
        the_plan.get("build.wine-test-model").kind == "build"
        and the_plan.get("deployment.wine-test-model").kind == "deploy"
    )


def test_model_description_change_is_an_update_with_the_field(converged: FakeCML, client) -> None:
    spec = make_spec({"deployment": {"description": "other"}})
    model = make_plan(client, spec)[0].get("endpoint.wine-test-model")
    assert (model.kind, model.changes) == ("update", {"description": ["wine quality (tests)", "other"]})


@pytest.mark.parametrize("key", ["dev", "prd"])
@pytest.mark.parametrize(
    ("override", "field", "desired"),
    [
        ({"description": "moved"}, "description", "moved"),
        ({"environment": {"A": "b"}}, "environment", {"A": "b"}),
    ],
)
def test_each_project_field_alone_is_an_update(
    converged: FakeCML, client, key: str, override: dict[str, Any], field: str, desired: Any
) -> None:
    spec = make_spec({"projects": {key: override}})
    the_plan = make_plan(client, spec)[0]
    action = the_plan.get(f"project.{key}")
    assert action.kind == "update" and list(action.changes) == [field]
    assert action.changes[field][1] == desired
    assert changed(the_plan) == {f"project.{key}": "update"}
    apply_spec(client, spec)
    assert converged.write_summary() == ["PATCH /api/v2/projects/{project}"]
    assert not make_plan(client, spec)[0].has_changes


def test_a_project_created_between_plan_and_apply_is_found_not_twinned(fake: FakeCML, client, spec) -> None:
    """A concurrent run creates the DEV project after our plan said "create": apply must adopt it."""
    from automation.reconcile import Applier

    the_plan, obs, files = make_plan(client, spec)
    assert the_plan.get("project.dev").kind == "create"
    theirs = client.projects.create(spec.projects.dev.name, description="made by the other run")
    fake.calls.clear()

    Applier(client, spec, obs, local_files=files).run(the_plan)

    assert [p["id"] for p in fake.named(fake.projects, spec.projects.dev.name)] == [theirs.id]
    assert obs.dev.id == theirs.id
    posts = [c.path for c in fake.writes() if c.method == "POST"]
    assert posts.count("/api/v2/projects") == 1  # only PRD was created
    assert len(fake.projects) == 2
