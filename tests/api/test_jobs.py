"""Jobs and job runs."""

from __future__ import annotations

import pytest

from automation.api import CMLClient

from .wire import Wire, job, job_run, search

JOBS = "/api/v2/projects/p1/jobs"


def test_list_and_find_exact_name(client: CMLClient, wire: Wire) -> None:
    q = {"search_filter": search(name="train")}
    wire.page(JOBS, "jobs", [job("j-x", "train-old")], token=None, next_token="2", query=q)
    wire.page(JOBS, "jobs", [job("j-1", "train")], token="2", query=q)

    found = client.jobs.find("p1", "train")

    assert found is not None and found.id == "j-1"


def test_get_parses_int64_strings_and_environment(client: CMLClient, wire: Wire) -> None:
    wire.expect("GET", f"{JOBS}/j-1", reply=job("j-1", timeout="7200", cpu="1.5", nvidia_gpu=""))

    got = client.jobs.get("p1", "j-1")

    assert (got.timeout, got.cpu, got.nvidia_gpu, got.memory) == (7200, 1.5, 0, 4.0)
    assert got.environment == {"ALPHA": "0.5"}
    assert got.model_extra["engine_image_id"] == "0"


def test_create_sends_the_create_job_request(client: CMLClient, wire: Wire) -> None:
    body = {
        "project_id": "p1",
        "name": "train",
        "script": "code/train.py",
        "runtime_identifier": "rt:2025.01.1-b1",
        "cpu": 2,
        "memory": 4,
        "nvidia_gpu": 0,
        "arguments": "--alpha 0.5",
        "environment": {"ALPHA": "0.5"},
        "kill_on_timeout": True,
        "timeout": 3600,
        "parent_id": "j-0",
    }
    wire.expect("POST", JOBS, body=body, reply=job("j-1"))

    got = client.jobs.create(
        "p1",
        name="train",
        script="code/train.py",
        runtime_identifier="rt:2025.01.1-b1",
        cpu=2,
        memory=4,
        arguments="--alpha 0.5",
        environment={"ALPHA": "0.5"},
        timeout=3600,
        parent_id="j-0",
    )

    assert got.id == "j-1"


def test_create_minimal_body(client: CMLClient, wire: Wire) -> None:
    body = {
        "project_id": "p1",
        "name": "train",
        "script": "train.py",
        "runtime_identifier": "rt",
        "cpu": 1,
        "memory": 1,
        "nvidia_gpu": 0,
        "arguments": "",
        "environment": {},
        "kill_on_timeout": True,
    }
    wire.expect("POST", JOBS, body=body, reply=job("j-2"))

    assert client.jobs.create("p1", name="train", script="train.py", runtime_identifier="rt").id == "j-2"


def test_update_patches_fields(client: CMLClient, wire: Wire) -> None:
    # the PATCH body is the Job message: environment a JSON string, timeout an int64 string
    body = {"cpu": 4, "environment": '{"A": "1"}', "timeout": "60"}
    wire.expect("PATCH", f"{JOBS}/j-1", body=body, reply=job("j-1", cpu=4))

    assert client.jobs.update("p1", "j-1", cpu=4, environment={"A": "1"}, timeout=60).cpu == 4


def test_delete(client: CMLClient, wire: Wire) -> None:
    wire.expect("DELETE", f"{JOBS}/j-1")

    assert client.jobs.delete("p1", "j-1") is None


def test_list_runs_newest_first_with_limit(client: CMLClient, wire: Wire) -> None:
    wire.page(
        f"{JOBS}/j-1/runs",
        "job_runs",
        [job_run("r9")],
        token=None,
        next_token="more",
        page_size=1,
        query={"sort": "-created_at"},
    )

    got = list(client.jobs.list_runs("p1", "j-1", limit=1))

    assert [r.id for r in got] == ["r9"]  # the limit stops before fetching the next page


def test_list_runs_over_pages(client: CMLClient, wire: Wire) -> None:
    path = f"{JOBS}/j-1/runs"
    wire.page(
        path,
        "job_runs",
        [job_run("r3"), job_run("r2")],
        token=None,
        next_token="a",
        query={"sort": "-created_at"},
    )
    wire.page(path, "job_runs", [job_run("r1")], token="a", query={"sort": "-created_at"})

    assert [r.id for r in client.jobs.list_runs("p1", "j-1")] == ["r3", "r2", "r1"]


def test_start_run_with_overrides(client: CMLClient, wire: Wire) -> None:
    body = {"project_id": "p1", "job_id": "j-1", "environment": {"SEED": "7"}, "arguments": "--fast"}
    wire.expect("POST", f"{JOBS}/j-1/runs", body=body, reply=job_run("r1"))

    run = client.jobs.start_run("p1", "j-1", environment={"SEED": "7"}, arguments="--fast")

    assert (run.id, run.status) == ("r1", "ENGINE_SCHEDULING")


def test_start_run_plain(client: CMLClient, wire: Wire) -> None:
    wire.expect("POST", f"{JOBS}/j-1/runs", body={"project_id": "p1", "job_id": "j-1"}, reply=job_run("r1"))

    assert client.jobs.start_run("p1", "j-1").id == "r1"


def test_get_run(client: CMLClient, wire: Wire) -> None:
    wire.expect(
        "GET", f"{JOBS}/j-1/runs/r1", reply=job_run("r1", "ENGINE_RUNNING", environment='{"SEED":"7"}')
    )

    run = client.jobs.get_run("p1", "j-1", "r1")

    assert (run.status, run.environment) == ("ENGINE_RUNNING", {"SEED": "7"})


def test_stop_run_uses_the_colon_action_path(client: CMLClient, wire: Wire) -> None:
    wire.expect("POST", f"{JOBS}/j-1/runs/r1:stop", reply=job_run("r1", "ENGINE_STOPPING"))

    assert client.jobs.stop_run("p1", "j-1", "r1").status == "ENGINE_STOPPING"


def test_stop_run_is_retried_after_a_500(client: CMLClient, wire: Wire) -> None:
    # stopping twice is harmless, so the action is marked idempotent
    wire.expect("POST", f"{JOBS}/j-1/runs/r1:stop", status=500, reply={"code": 13, "message": "x"})
    wire.expect("POST", f"{JOBS}/j-1/runs/r1:stop", reply=job_run("r1", "ENGINE_STOPPED"))

    assert client.jobs.stop_run("p1", "j-1", "r1").status == "ENGINE_STOPPED"


@pytest.mark.parametrize("status", ["ENGINE_SUCCEEDED", "SOMETHING_NEW_IN_2027", ""])
def test_run_status_strings_parse(client: CMLClient, wire: Wire, status: str) -> None:
    wire.expect("GET", f"{JOBS}/j-1/runs/r1", reply=job_run("r1", status))

    assert client.jobs.get_run("p1", "j-1", "r1").status == status
