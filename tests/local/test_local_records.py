"""Typed records over the store's documents: the on-disk format is unchanged, old state folders load.

The documents below are written the way the workspace wrote them before the records existed (the
same keys, the same bookkeeping: ``schedule_set_at``, ``last_fired_at``, ``worker_pid``...), plus
"older" ones that lack keys a later version added. A record reads each, writes it back identical,
and a server started on a state folder holding them shows them through the API as before.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import requests
from local_support import Api

from automation.local import control
from automation.local.state import records
from automation.local.state.paths import StatePaths
from automation.local.state.records import (
    Application,
    Build,
    Deployment,
    Job,
    JobRun,
    Model,
    Project,
    Record,
)
from automation.local.state.store import Store

T0 = 1_700_000_000.0
RUNTIME = "docker.repository.cloudera.com/cloudera/cdsw/ml-runtime-workbench-python3.11-standard:2025.01.1-b1"
PROJECT = {
    "id": "p1p1-p1p1-p1p1-p1p1",
    "name": "Old Project",
    "slug": "old-project",
    "description": "from before the records",
    "visibility": "private",
    "default_engine_type": "ml_runtime",
    "created_at": T0,
    "updated_at": T0,
    "creation_status": "success",
    "shared_memory_limit": 0,
    "environment": {"STAGE": "dev"},
    "git_url": "",
    "git_ref": "",
    "ephemeral_storage_request": 0,
    "ephemeral_storage_limit": 0,
}
JOB = {
    "id": "j1j1-j1j1-j1j1-j1j1",
    "project_id": PROJECT["id"],
    "cpu": 2.0,
    "memory": 4.0,
    "nvidia_gpu": 0,
    "arguments": "--fast",
    "kernel": "python3",
    "schedule": "0 3 * * *",
    "timezone": "Europe/Berlin",
    "timeout": 600,
    "kill_on_timeout": False,
    "paused": True,
    "parent_id": "",
    "environment": {"A": "1"},
    "runtime_addon_identifiers": [],
    "attachments": [],
    "run_as": 0,
    "created_at": T0,
    "updated_at": T0 + 5,
    "name": "nightly",
    "script": "train.py",
    "runtime_identifier": RUNTIME,
    "schedule_set_at": T0 + 5,
    "type": "cron",
    "last_fired_at": T0 + 60,
}
OLDER_JOB = {  # the fields an early version wrote: everything else reads as the API always showed it
    "id": "j2j2-j2j2-j2j2-j2j2",
    "project_id": PROJECT["id"],
    "name": "bare",
    "script": "bare.py",
    "created_at": T0,
    "updated_at": T0,
}
RUN = {
    "id": "r1r1-r1r1-r1r1-r1r1",
    "project_id": PROJECT["id"],
    "job_id": JOB["id"],
    "status": "ENGINE_SUCCEEDED",
    "created_at": T0 + 10,
    "scheduling_at": T0 + 10,
    "starting_at": T0 + 11,
    "running_at": T0 + 12,
    "finished_at": T0 + 20,
    "kernel": "python3",
    "cpu": 2.0,
    "memory": 4.0,
    "nvidia_gpu": 0,
    "arguments": "--fast",
    "environment": {},
    "runtime_identifier": RUNTIME,
    "engine_id": "abcdefghijklmnop",
    "pid": None,
    "cmd": ["python", "-m", "runner"],
    "exit_code": 0,
}
MODEL = {
    "id": "00000000-0000-4000-8000-000000000001",
    "project_id": PROJECT["id"],
    "name": "wine",
    "description": "",
    "access_key": "a" * 32,
    "auth_enabled": False,
    "registered_model_id": "",
    "visibility": "private",
    "run_as": 0,
    "default_resources": {"cpu_millicores": 500, "memory_mb": 1024, "nvidia_gpus": 0},
    "default_replication_policy": {"num_replicas": 2, "type": "fixed"},
    "created_at": T0,
    "updated_at": T0,
}
BUILD = {
    "id": "00000000-0000-4000-8000-000000000002",
    "model_id": MODEL["id"],
    "project_id": PROJECT["id"],
    "status": "build failed",
    "created_at": T0 + 30,
    "updated_at": T0 + 40,
    "built_at": None,
    "model_uri": "",
    "failure_reason": "predict is not defined",
    "attempts": 1,
    "worker_pid": None,
    "comment": "first try",
    "file_path": "predict.py",
    "function_name": "predict",
    "kernel": "",
    "runtime_identifier": RUNTIME,
    "runtime_addon_identifiers": [],
    "registered_model_version_id": "",
    "model_root_dir": "",
    "build_script_path": "",
    "auto_deploy_model": False,
    "auto_deployment_config": {
        "cpu": None,
        "memory": None,
        "nvidia_gpus": None,
        "replicas": None,
        "environment": {},
    },
}
DEPLOYMENT = {
    "id": "00000000-0000-4000-8000-000000000003",
    "project_id": PROJECT["id"],
    "model_id": MODEL["id"],
    "build_id": BUILD["id"],
    "status": "stopped",
    "created_at": T0 + 50,
    "updated_at": T0 + 70,
    "stopped_at": T0 + 70,
    "cpu": 1.0,
    "memory": 2.0,
    "nvidia_gpu": 0,
    "replicas": 1,
    "environment": {"B": "2"},
    "generation": 3,
    "port": None,
    "pid": None,
    "failure_reason": "",
}
APPLICATION = {
    "description": "",
    "cpu": 1.0,
    "memory": 1.0,
    "nvidia_gpu": 0,
    "environment": {},
    "kernel": "",
    "bypass_authentication": True,
    "runtime_identifier": "",
    "runtime_addon_identifiers": [],
    "run_as": 0,
    "cdv_app": False,
    "name": "dash",
    "subdomain": "old-dash",
    "script": "app.py",
    "id": "a1a1-a1a1-a1a1-a1a1",
    "project_id": PROJECT["id"],
    "status": "APPLICATION_STOPPED",
    "created_at": T0,
    "updated_at": T0 + 9,
    "starting_at": T0 + 1,
    "running_at": T0 + 2,
    "stopped_at": T0 + 9,
    "generation": 1,
    "pid": None,
    "port": None,
    "cmd": [],
}
STORED: list[tuple[type[Record], dict[str, Any]]] = [
    (Project, PROJECT),
    (Job, JOB),
    (Job, OLDER_JOB),
    (JobRun, RUN),
    (Model, MODEL),
    (Build, BUILD),
    (Deployment, DEPLOYMENT),
    (Application, APPLICATION),
]


@pytest.mark.parametrize(("cls", "doc"), STORED[:2] + STORED[3:], ids=lambda v: getattr(v, "__name__", ""))
def test_a_stored_document_round_trips_exactly(cls: type[Record], doc: dict[str, Any]) -> None:
    record = cls.from_doc(doc)
    assert record.to_doc() == doc
    assert json.loads(json.dumps(record.to_doc())) == doc  # what the store writes is the same JSON
    assert set(record.extra) == set(doc) - set(cls.declared())  # bookkeeping rides along untouched


def test_records_are_frozen_and_changes_make_copies() -> None:
    job = Job.from_doc(JOB)
    with pytest.raises(dataclasses.FrozenInstanceError):
        job.name = "other"  # type: ignore[misc]
    renamed = job.with_(name="renamed", schedule_set_at=T0 + 99)
    assert (job.name, job.extra["schedule_set_at"]) == ("nightly", T0 + 5)
    assert (renamed.name, renamed.extra["schedule_set_at"], renamed.extra["last_fired_at"]) == (
        "renamed",
        T0 + 99,
        T0 + 60,
    )
    doc = job.to_doc()
    doc["environment"]["A"] = "changed"  # a written document never aliases the record's maps
    assert job.environment == {"A": "1"}


def test_bookkeeping_reads_as_properties_and_patches_are_atomic_merges(tmp_path: Path) -> None:
    """What the workloads keep beside the declared fields (pid, generation...) is read as a property
    over ``extra`` and written by ``patch``/``change``, which merge into the stored document."""
    store = Store(tmp_path / "workspace.db")
    try:
        records.insert(store, Job.from_doc(JOB))
        job = records.load(store, Job, JOB["id"])
        assert job is not None
        assert (job.schedule_set_at, job.last_fired_at) == (T0 + 5, T0 + 60)
        assert Job.from_doc(OLDER_JOB).last_fired_at is None  # a key never written: no value
        store.update(Job.KIND, JOB["id"], {"arguments": "--other"})  # another writer, after the load
        fired = records.patch(store, Job, JOB["id"], last_fired_at=T0 + 120)  # does not undo it
        assert fired is not None and (fired.last_fired_at, fired.arguments) == (T0 + 120, "--other")
        assert store.get(Job.KIND, JOB["id"]) == {**JOB, "arguments": "--other", "last_fired_at": T0 + 120}
        bumped = records.change(store, Job, JOB["id"], lambda j: j.with_(timeout=j.timeout + 1))
        assert bumped is not None and bumped.timeout == JOB["timeout"] + 1
        assert records.remove(store, Job, JOB["id"]) is True
        assert records.patch(store, Job, JOB["id"], paused=False) is None  # gone: nothing written
        assert records.load(store, Job, JOB["id"]) is None
    finally:
        store.close()


def test_an_older_document_reads_with_the_defaults_the_api_always_showed() -> None:
    job = Job.from_doc(OLDER_JOB)
    assert (job.timezone, job.type, job.kill_on_timeout, job.cpu, job.environment) == (
        "America/Los_Angeles",
        "manual",
        True,
        1.0,
        {},
    )
    doc = job.to_doc()
    assert {k: doc[k] for k in OLDER_JOB} == OLDER_JOB  # what was there stays as it was
    assert Job.from_doc(doc) == job


def _write_old_state(state: Path) -> StatePaths:
    paths = StatePaths.of(state)
    paths.ensure()
    store = Store(paths.db)
    try:
        for cls, doc in STORED:
            parent = doc.get(cls.PARENT, "") if cls.PARENT else ""
            store.insert(cls.KIND, doc["id"], doc, parent=parent)
    finally:
        store.close()
    paths.project_dir(PROJECT["id"]).mkdir(parents=True, exist_ok=True)
    return paths


def _raw(paths: StatePaths, kind: str, ident: str) -> dict[str, Any]:
    with sqlite3.connect(paths.db) as conn:
        row = conn.execute("SELECT doc FROM objects WHERE kind = ? AND id = ?", (kind, ident)).fetchone()
    return json.loads(row[0])


def test_a_state_folder_written_before_the_records_loads_and_keeps_its_documents(tmp_path: Path) -> None:
    state = tmp_path / ".cmlops"
    paths = _write_old_state(state)
    ws = control.start(state, wait=60)
    session = requests.Session()
    session.trust_env = False
    api = Api(ws.url, ws.api_key, session)
    try:

        def get(path: str) -> Any:
            return api.ok("GET", "/api/v2" + path)

        pid = PROJECT["id"]
        project = get(f"/projects/{pid}")
        assert (project["name"], project["slug"], project["environment"]) == (
            "Old Project",
            "old-project",
            '{"STAGE": "dev"}',
        )
        jobs = {j["id"]: j for j in get(f"/projects/{pid}/jobs")["jobs"]}
        assert (jobs[JOB["id"]]["type"], jobs[JOB["id"]]["timezone"], jobs[JOB["id"]]["timeout"]) == (
            "cron",
            "Europe/Berlin",
            "600",
        )
        bare = jobs[OLDER_JOB["id"]]
        assert (bare["type"], bare["timezone"], bare["kill_on_timeout"], bare["environment"]) == (
            "manual",
            "America/Los_Angeles",
            True,
            "{}",
        )
        assert bare["project"] == {
            "public_identifier": pid,
            "name": "Old Project",
            "default_project_engine": "ml_runtime",
            "slug": "old-project",
        }
        runs = get(
            f"/projects/{pid}/jobs/{JOB['id']}/runs?search_filter=" + json.dumps({"status": "succeeded"})
        )
        assert [r["id"] for r in runs["job_runs"]] == [RUN["id"]]
        model = get(f"/projects/{pid}/models/{MODEL['id']}")
        assert (model["auth_enabled"], model["default_resources"]["cpu_millicores"]) == (False, "500")
        assert model["default_replication_policy"] == {"num_replicas": "2", "type": "fixed"}
        build = get(f"/projects/{pid}/models/{MODEL['id']}/builds/{BUILD['id']}")
        assert build["comment"] == "first try [build failed: predict is not defined]"
        dep = get(f"/projects/{pid}/models/{MODEL['id']}/builds/{BUILD['id']}/deployments/{DEPLOYMENT['id']}")
        assert (dep["status"], dep["environment"], dep["stopped_at"]) == (
            "stopped",
            '{"B": "2"}',
            dep["updated_at"],
        )
        app = get(f"/projects/{pid}/applications/{APPLICATION['id']}")
        assert (app["status"], app["subdomain"], app["bypass_authentication"]) == (
            "APPLICATION_STOPPED",
            "old-dash",
            True,
        )
        for cls, doc in STORED:  # reading changed nothing on disk
            assert _raw(paths, cls.KIND, doc["id"]) == doc, cls.KIND

        api.ok("PATCH", f"/api/v2/projects/{pid}/jobs/{JOB['id']}", json={"name": "renamed"})
        after = _raw(paths, "job", JOB["id"])
        assert after["name"] == "renamed" and after["updated_at"] > JOB["updated_at"]
        assert {k: v for k, v in after.items() if k not in ("name", "updated_at")} == {
            k: v for k, v in JOB.items() if k not in ("name", "updated_at")
        }  # the scheduler's bookkeeping (last_fired_at, schedule_set_at) survives an update

        api.ok("PATCH", f"/api/v2/projects/{pid}/jobs/{OLDER_JOB['id']}", json={"arguments": "-v"})
        older = _raw(paths, "job", OLDER_JOB["id"])
        assert {k: older[k] for k in ("id", "project_id", "name", "script", "created_at")} == {
            k: OLDER_JOB[k] for k in ("id", "project_id", "name", "script", "created_at")
        }
        assert (older["arguments"], older["timezone"], older["type"]) == (
            "-v",
            "America/Los_Angeles",
            "manual",
        )
    finally:
        assert control.stop(state) is True


RECORDS = {cls.KIND: cls for cls in (Project, Job, JobRun, Application, Model, Build, Deployment)}


def test_every_document_the_workspace_writes_round_trips(api: Api, local: Any, runtime: str) -> None:
    """Whatever the live server stored (with the workloads' bookkeeping) reads and writes back unchanged."""
    project = api.project("records-round-trip")
    api.upload(project["id"], "hello.py", "print('hello')\n")
    job = api.job(project["id"], "hello.py", runtime, schedule="*/5 * * * *", paused=True)
    assert api.wait_run(api.run(project["id"], job["id"]))["status"] == "ENGINE_SUCCEEDED"
    with sqlite3.connect(StatePaths.of(local.state_dir).db) as conn:
        rows = conn.execute("SELECT kind, doc FROM objects").fetchall()
    seen: dict[str, int] = {}
    for kind, text in rows:
        if kind in RECORDS:
            doc = json.loads(text)
            assert RECORDS[kind].from_doc(doc).to_doc() == doc, (kind, doc.get("id"))
            seen[kind] = seen.get(kind, 0) + 1
    assert {"project", "job", "job_run"} <= set(seen), seen
