"""Scheduled jobs fire on the live local workspace, driven by the injected scheduler clock (no sleeping
until a minute boundary): the server reads "now" from the session's clock file."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest
from local_support import wait_for

from automation.local import control
from automation.local.workloads.schedules import next_fire


@pytest.fixture(scope="module")
def project(api):
    proj = api.project("schedules-proj")
    api.upload(proj["id"], "tick.py", "print('scheduled run', flush=True)\n")
    return proj


@pytest.fixture
def clock(local):
    yield local.clock_file
    local.clock_file.write_text("")  # back to the wall clock for every other test


def _let_ticks_pass() -> None:
    """Absence needs a wait: five of the server's 0.2 s ticks (the clock itself is never waited on)."""
    time.sleep(1.0)


def _runs(api, project, job):
    return api.ok("GET", f"/api/v2/projects/{project['id']}/jobs/{job['id']}/runs")["job_runs"]


def _epoch(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()


def test_a_scheduled_job_fires_when_its_time_comes_and_once_per_time(api, local, project, runtime, clock):
    job = api.job(project["id"], "tick.py", runtime, name="hourly", schedule="5 * * * *", timezone="UTC")
    assert job["type"] == "cron" and job["schedule"] == "5 * * * *"
    due = next_fire("5 * * * *", "UTC", _epoch(job["created_at"]))
    listed = control.status(local.state_dir)["next_scheduled_runs"]
    assert any(r["job_id"] == job["id"] and abs(_epoch(r["at"]) - due) < 1 for r in listed), listed

    clock.write_text(str(due - 30))  # not yet: nothing may start
    _let_ticks_pass()
    assert _runs(api, project, job) == []

    clock.write_text(str(due + 1))
    runs = wait_for(lambda: _runs(api, project, job), lambda rs: rs and rs[0]["status"] == "ENGINE_SUCCEEDED")
    assert len(runs) == 1
    assert "scheduled run" in control.read_log(local.state_dir, runs[0]["id"])

    clock.write_text(str(due + 50))  # the same hour again: still one run
    _let_ticks_pass()
    later = control.status(local.state_dir)["next_scheduled_runs"]
    assert any(
        r["job_id"] == job["id"] and _epoch(r["at"]) == pytest.approx(due + 3600, abs=1) for r in later
    )
    assert len(_runs(api, project, job)) == 1


def test_a_paused_scheduled_job_does_not_fire(api, project, runtime, clock):
    job = api.job(project["id"], "tick.py", runtime, name="paused", schedule="0 0 * * *", paused=True)
    assert job["paused"] is True
    clock.write_text(str(_epoch(job["created_at"]) + 3 * 86400))
    other = api.job(project["id"], "tick.py", runtime, name="witness", schedule="0 0 * * *")
    # the witness was created "before" the clock's day: it fires, which proves the scheduler looked
    wait_for(lambda: _runs(api, project, other), lambda rs: bool(rs))
    assert _runs(api, project, job) == []


@pytest.mark.parametrize(
    ("schedule", "zone", "named"),
    [
        ("every day", None, "five-field cron"),
        ("0 0 13 * * 1", None, "five-field cron"),  # six fields (seconds): not CML's cron
        ("61 * * * *", None, "five-field cron"),
        ("0 13 * * 1", "Mars/Olympus", "IANA time zone"),
    ],
)
def test_a_bad_schedule_or_timezone_is_refused(api, project, runtime, schedule, zone, named):
    body = {"name": "bad-cron", "script": "tick.py", "runtime_identifier": runtime, "schedule": schedule}
    if zone:
        body["timezone"] = zone
    resp = api.post(f"/api/v2/projects/{project['id']}/jobs", json=body)
    assert resp.status_code == 400 and named in resp.json()["message"], resp.text
    assert not [
        j for j in api.ok("GET", f"/api/v2/projects/{project['id']}/jobs")["jobs"] if j["name"] == "bad-cron"
    ]
