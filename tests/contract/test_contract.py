"""One suite of client-level assertions, run on the CML-shaped fake and on a live local workspace.

Same assertions on both backends: what passes on the fake (recorded CML shapes) must pass on the
local server, which keeps the local workspace honest.
"""

from __future__ import annotations

import pytest

from automation.api.jobs import RUN_SUCCESS
from automation.errors import EXIT_AUTH, JobRunFailed, NotFound, Unauthenticated

from .conftest import Backend

HELLO = b'print("hello from the contract suite")\n'
SLEEPER = b"import time\ntime.sleep(120)\n"


def _runtime(backend: Backend) -> str:
    return backend.client.runtimes.pick(
        editor="Workbench", kernel="Python 3.10", edition="Standard"
    ).image_identifier


def test_project_create_get_and_exact_name_lookup(backend: Backend) -> None:
    client = backend.client
    name = backend.name_for("alpha")
    created = client.projects.create(name, description="contract")
    longer = client.projects.create(name + "-2")
    assert created.id and created.id != longer.id
    assert created.name == name
    got = client.projects.get(created.id)
    assert (got.id, got.name, got.description) == (created.id, name, "contract")
    # search_filter is a substring match: the exact-name lookup must re-check client-side
    assert client.projects.find(name).id == created.id
    assert client.projects.find(name + "-2").id == longer.id
    assert client.projects.find(name[:-1]) is None
    assert client.projects.find(name.upper()) is None  # case-sensitive
    assert {created.id, longer.id} <= {p.id for p in client.projects.list()}


def test_list_follows_page_tokens(backend: Backend) -> None:
    client = backend.client
    ids = {client.projects.create(backend.name_for(f"page-{i}")).id for i in range(5)}
    before = client.http.stats.requests
    seen = [
        item["id"]
        for item in client.projects._pages(
            "/api/v2/projects", "projects", {"search_filter": {"name": backend.prefix}}, page_size=2
        )
    ]
    assert sorted(seen) == sorted(ids)  # every item once, none twice
    assert client.http.stats.requests - before == 3  # 2 + 2 + 1: page_size was re-sent with each token


def test_environment_round_trips_as_a_dict(backend: Backend) -> None:
    client = backend.client
    env = {"ALPHA": "0.5", "WITH_SPACE": "a b", "JSON_LIKE": '{"x": 1}'}
    project = client.projects.create(backend.name_for("env"), environment=env)
    assert client.projects.get(project.id).environment == env
    client.projects.upload_file(project.id, "hello.py", HELLO)
    job = client.jobs.create(
        project.id, name="env-job", script="hello.py", runtime_identifier=_runtime(backend), environment=env
    )
    assert job.environment == env
    assert client.jobs.get(project.id, job.id).environment == env


def test_job_create_run_and_wait_to_success(backend: Backend) -> None:
    client = backend.client
    project = client.projects.create(backend.name_for("jobs"))
    client.projects.upload_file(project.id, "hello.py", HELLO)
    assert "hello.py" in {f.path.rsplit("/", 1)[-1] for f in client.projects.list_files(project.id)}
    job = client.jobs.create(
        project.id, name="hello", script="hello.py", runtime_identifier=_runtime(backend)
    )
    assert client.jobs.find(project.id, "hello").id == job.id
    assert client.jobs.find(project.id, "hell") is None
    run = client.jobs.start_run(project.id, job.id)
    assert run.job_id == job.id
    done = client.jobs.wait_run(project.id, job.id, run.id, timeout=60)
    assert done.status in RUN_SUCCESS
    assert [r.id for r in client.jobs.list_runs(project.id, job.id)] == [run.id]


def test_stopping_a_run_ends_it_as_stopped(backend: Backend) -> None:
    client = backend.client
    project = client.projects.create(backend.name_for("stop"))
    client.projects.upload_file(project.id, "sleep.py", SLEEPER)
    job = client.jobs.create(
        project.id, name="sleep", script="sleep.py", runtime_identifier=_runtime(backend)
    )
    run = client.jobs.start_run(project.id, job.id)
    client.jobs.stop_run(project.id, job.id, run.id)
    with pytest.raises(JobRunFailed) as err:
        client.jobs.wait_run(project.id, job.id, run.id, timeout=60)
    assert err.value.status == "ENGINE_STOPPED"
    assert client.jobs.get_run(project.id, job.id, run.id).status == "ENGINE_STOPPED"


def test_unknown_ids_are_not_found_naming_the_path(backend: Backend) -> None:
    client = backend.client
    with pytest.raises(NotFound) as err:
        client.projects.get("no-such-project")
    assert "/api/v2/projects/no-such-project" in str(err.value)
    project = client.projects.create(backend.name_for("nf"))
    with pytest.raises(NotFound) as err:
        client.jobs.get(project.id, "no-such-job")
    assert f"/api/v2/projects/{project.id}/jobs/no-such-job" in str(err.value)


def test_a_wrong_key_is_unauthenticated(backend: Backend) -> None:
    stranger = backend.with_key("not-the-right-key-0123456789")
    with pytest.raises(Unauthenticated) as err:
        list(stranger.projects.list())
    assert err.value.exit_code == EXIT_AUTH == 4
    assert err.value.status == 401
    assert "not-the-right-key-0123456789" not in str(err.value)
