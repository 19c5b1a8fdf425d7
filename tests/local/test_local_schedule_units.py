"""The scheduler's decisions with an injected clock: when a job fires, how often, and what never fires."""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from automation.local.state.records import Job
from automation.local.workloads.schedules import (
    Scheduler,
    clock_from_env,
    next_fire,
    schedule_problem,
    tick_from_env,
    upcoming,
)

MONDAY_NOON_LA = datetime(2026, 11, 30, 12, 0, tzinfo=ZoneInfo("America/Los_Angeles")).timestamp()


class Board:
    """Jobs in memory, the runs the scheduler started, and a clock that moves only when told."""

    def __init__(self, *jobs: dict) -> None:
        self.jobs = {
            j["id"]: {"project_id": "p", "name": j["id"], "created_at": MONDAY_NOON_LA, **j} for j in jobs
        }
        self.fired: list[str] = []
        self.now = MONDAY_NOON_LA
        self.refuse: set[str] = set()
        self.scheduler = Scheduler(
            jobs=lambda: [Job.from_doc(j) for j in self.jobs.values()],
            mark_fired=self._mark,
            fire=self._fire,
            log=logging.getLogger("test"),
            clock=lambda: self.now,
        )

    def _mark(self, job_id: str, at: float) -> None:
        self.jobs[job_id]["last_fired_at"] = at

    def _fire(self, job: Job) -> str:
        if job.id in self.refuse:
            raise RuntimeError("already active")
        self.fired.append(job.id)
        return f"run-{len(self.fired)}"


def test_next_fire_is_in_the_jobs_timezone_with_cmls_default():
    # 13:00 on Mondays in Los Angeles (CML's default zone) is 21:00 UTC in winter
    after = MONDAY_NOON_LA
    assert next_fire("0 13 * * 1", None, after) == after + 3600
    # Monday noon in Los Angeles is 20:00 UTC; 13:00 UTC next comes the following Monday, 161 hours on
    assert next_fire("0 13 * * 1", "UTC", after) == after + 161 * 3600


def test_fires_at_its_time_not_before_and_once():
    board = Board({"id": "a", "schedule": "0 13 * * *"})
    board.now = MONDAY_NOON_LA + 3599
    assert board.scheduler.tick() == [] and board.fired == []
    board.now = MONDAY_NOON_LA + 3600
    assert board.scheduler.tick() == ["run-1"]
    board.now += 600
    assert board.scheduler.tick() == []
    board.now = MONDAY_NOON_LA + 3600 + 86400
    assert board.scheduler.tick() == ["run-2"] and board.fired == ["a", "a"]


def test_a_long_outage_fires_once_not_once_per_missed_time():
    board = Board({"id": "a", "schedule": "*/5 * * * *"})
    board.now = MONDAY_NOON_LA + 3 * 3600
    assert board.scheduler.tick() == ["run-1"]
    assert board.scheduler.tick() == []


def test_paused_dependent_and_plain_jobs_never_fire():
    board = Board(
        {"id": "paused", "schedule": "* * * * *", "paused": True},
        {"id": "child", "schedule": "* * * * *", "parent_id": "x"},
        {"id": "manual"},
        {"id": "broken", "schedule": "not cron"},
    )
    board.now = MONDAY_NOON_LA + 86400
    assert board.scheduler.tick() == [] and board.fired == []


def test_a_changed_schedule_counts_from_its_change():
    board = Board({"id": "a", "schedule": "0 13 * * *", "schedule_set_at": MONDAY_NOON_LA + 7200})
    board.now = MONDAY_NOON_LA + 7200 + 60  # 14:01: today's 13:00 was before the change
    assert board.scheduler.tick() == []


def test_one_refused_job_does_not_stop_the_others():
    board = Board({"id": "a", "schedule": "0 13 * * *"}, {"id": "b", "schedule": "0 13 * * *"})
    board.refuse.add("a")
    board.now = MONDAY_NOON_LA + 3600
    assert board.scheduler.tick() == ["run-1"] and board.fired == ["b"]
    assert board.jobs["a"]["last_fired_at"] == board.now  # a refused firing is not retried every tick


def test_upcoming_lists_soonest_first_and_skips_what_never_fires():
    jobs = [
        {"id": "late", "schedule": "0 20 * * *", "created_at": MONDAY_NOON_LA},
        {"id": "soon", "schedule": "30 12 * * *", "created_at": MONDAY_NOON_LA},
        {"id": "paused", "schedule": "* * * * *", "paused": True, "created_at": MONDAY_NOON_LA},
    ]
    found = upcoming(Job.from_doc(j) for j in jobs)
    assert [u.job_id for u in found] == ["soon", "late"]
    assert found[0].at == MONDAY_NOON_LA + 1800 and found[0].timezone == "America/Los_Angeles"


@pytest.mark.parametrize(
    ("schedule", "zone", "ok"),
    [
        ("0 13 * * 1", None, True),
        ("*/15 9-17 * * 1-5", "Europe/Berlin", True),
        ("0 13 * * 1", "Nowhere/City", False),
        ("0 0 13 * * 1", None, False),
        ("@daily", None, False),
        ("", None, False),
    ],
)
def test_schedule_problem(schedule, zone, ok):
    assert (schedule_problem(schedule, zone) is None) is ok


def test_clock_and_tick_from_the_environment(tmp_path):
    clock_file = tmp_path / "clock"
    clock_file.write_text("12345.5")
    assert clock_from_env({"CMLOPS_LOCAL_CLOCK_FILE": str(clock_file)})() == 12345.5
    clock_file.write_text("")
    assert clock_from_env({"CMLOPS_LOCAL_CLOCK_FILE": str(clock_file)})() > 1.7e9  # empty: the wall clock
    assert tick_from_env({"CMLOPS_LOCAL_SCHEDULER_TICK": "0.5"}) == 0.5
    assert tick_from_env({"CMLOPS_LOCAL_SCHEDULER_TICK": "soon"}) == 15.0
    assert tick_from_env({}) == 15.0
