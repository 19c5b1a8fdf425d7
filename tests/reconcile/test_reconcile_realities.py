"""What real workspaces do that our own servers would not: a missing Model Registry, job PATCHes
CML ignores. Each test sets the fake up the way a live workspace behaves."""

from __future__ import annotations

import pytest
from fakes.fake_cml import FakeCML
from fakes.specs import make_spec

from automation.errors import EXIT_USAGE, InputError, RegistryUnavailable
from automation.reconcile import make_plan
from automation.workflows.bootstrap import apply_spec, bootstrap


def test_a_workspace_without_the_registry_gets_one_clear_error_before_any_write(
    fake: FakeCML, client, spec
) -> None:
    fake.registry_enabled = False

    with pytest.raises(RegistryUnavailable) as info:
        bootstrap(client, spec)

    assert info.value.exit_code == EXIT_USAGE
    assert "Model Registry" in str(info.value) and "nothing was written" in str(info.value)
    assert fake.writes() == []
    with pytest.raises(RegistryUnavailable):
        make_plan(client, spec)  # plan says it too


def test_a_converged_workspace_that_loses_its_registry_is_named_too(converged: FakeCML, client, spec) -> None:
    converged.registry_enabled = False

    with pytest.raises(RegistryUnavailable):
        bootstrap(client, spec)

    assert converged.writes() == []


def test_a_job_whose_patch_cml_ignores_is_replaced_once_then_converges(converged: FakeCML, client) -> None:
    converged.job_patch_ignores = {"script", "arguments", "runtime_identifier"}
    old = next(iter(converged.jobs.values()))
    dev_id = old["project"]["public_identifier"]
    dependant = client.jobs.create(
        dev_id,
        name="score",
        script="code/wine.py",
        runtime_identifier=old["runtime_identifier"],
        parent_id=old["id"],
    )
    spec = make_spec({"training": {"job": {"arguments": "--alpha 0.7"}}})
    converged.calls.clear()

    the_plan = make_plan(client, spec)[0]
    job = the_plan.get("job.train wine model")
    assert job.kind == "update" and "arguments" in job.changes
    assert "if CML leaves arguments unchanged after the PATCH, the job is replaced" in job.reason

    _, _, result = apply_spec(client, spec)

    job_writes = [w for w in converged.write_summary() if "/jobs" in w and "/runs" not in w]
    assert job_writes == [
        "PATCH /api/v2/projects/{project}/jobs/{job}",  # ignored by CML
        "POST /api/v2/projects/{project}/jobs",  # the replacement
        "PATCH /api/v2/projects/{project}/jobs/{job}",  # the dependant's parent link
        "DELETE /api/v2/projects/{project}/jobs/{job}",  # the old job
    ]
    step = next(s for s in result.steps if s.resource == "job.train wine model")
    assert "CML left arguments unchanged" in step.detail and step.detail.endswith(
        "; 1 dependent job(s) moved"
    )
    train = [j for j in converged.jobs.values() if j["name"] == spec.model_named(None).job]
    assert len(train) == 1 and train[0]["id"] != old["id"] and train[0]["arguments"] == "--alpha 0.7"
    assert converged.jobs[dependant.id]["parent_id"] == train[0]["id"]

    converged.calls.clear()
    assert not make_plan(client, spec)[0].has_changes  # converged: no update planned forever
    apply_spec(client, spec)
    assert converged.writes() == []


def test_a_job_patch_cml_applies_is_not_replaced(converged: FakeCML, client) -> None:
    spec = make_spec({"training": {"job": {"arguments": "--alpha 0.7"}}})
    old_id = next(iter(converged.jobs))

    apply_spec(client, spec)

    assert list(converged.jobs) == [old_id] and converged.jobs[old_id]["arguments"] == "--alpha 0.7"


def test_a_spec_asking_for_spark_gets_the_addon_identifier_on_its_job(fake: FakeCML, client) -> None:
    spec = make_spec({"runtime": {"addons": ["Spark 3.5.1 - CDE 1.24.1 - HOTFIX-1"]}})

    bootstrap(client, spec)

    job = next(iter(fake.jobs.values()))
    assert job["runtime_addon_identifiers"] == ["spark351-24.1-h1"]
    fake.calls.clear()
    assert not make_plan(client, spec)[0].has_changes
    assert [c.path for c in fake.reads()].count("/api/v2/runtimeaddons") == 1


def test_adding_spark_to_a_converged_job_updates_it(converged: FakeCML, client) -> None:
    spec = make_spec({"runtime": {"addons": ["spark351-24.1-h1"]}})

    job = make_plan(client, spec)[0].get("job.train wine model")

    assert job.kind == "update" and job.changes == {"runtime_addon_identifiers": [[], ["spark351-24.1-h1"]]}


def test_a_spec_asking_for_spark_where_there_is_none_fails_before_any_write(fake: FakeCML, client) -> None:
    fake.runtime_addons = []  # what the local workspace lists
    spec = make_spec({"runtime": {"addons": ["Spark 3.5.1 - CDE 1.24.1 - HOTFIX-1"]}})

    with pytest.raises(InputError) as info:
        bootstrap(client, spec)

    assert "Spark is not available locally" in str(info.value) and info.value.exit_code == EXIT_USAGE
    assert fake.writes() == []
