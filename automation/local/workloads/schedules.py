"""Scheduled jobs fire as CML fires them: five-field cron in the job's timezone.

A job with a ``schedule`` (CML's job ``type`` ``cron``) and not ``paused`` gets a run when the
schedule's next time after its anchor has come. The anchor is the latest of: the job's creation,
the last change of its schedule, timezone or pause, and its last firing. A schedule missed while the
server was down fires once when the server is back, not once per missed time (no backlog); a firing
that finds the job's previous run still active starts nothing and is noted in the server log (CML
keeps one active run per job). Parsing and the next-time arithmetic are croniter's.

The clock is injected: the scheduler asks ``clock()`` for epoch seconds. The server uses the wall
clock; ``CMLOPS_LOCAL_CLOCK_FILE`` (tests only) names a file holding the epoch to use instead, so
a test moves time forward instead of sleeping until a minute boundary; ``CMLOPS_LOCAL_SCHEDULER_TICK``
sets how often (seconds) the scheduler looks.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from automation.local.core.timefmt import DEFAULT_TIMEZONE
from automation.local.state.records import Job

CLOCK_FILE_VARIABLE = "CMLOPS_LOCAL_CLOCK_FILE"
TICK_VARIABLE = "CMLOPS_LOCAL_SCHEDULER_TICK"
TICK_SECONDS = 15.0  # cron's granularity is a minute; a quarter of it is soon enough

Clock = Callable[[], float]


def schedule_problem(schedule: str, timezone: str | None) -> str | None:
    """Why CML would refuse this schedule, or None when it is a valid five-field cron in a known zone."""
    fields = schedule.split()
    if len(fields) != 5 or not croniter.is_valid(schedule):
        return (
            f"schedule {schedule!r} is not a five-field cron expression "
            "(minute hour day-of-month month day-of-week, e.g. '0 13 * * 1')"
        )
    if timezone:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            return f"timezone {timezone!r} is not an IANA time zone name (e.g. 'America/Los_Angeles', 'UTC')"
    return None


def next_fire(schedule: str, timezone: str | None, after: float) -> float:
    """The first time strictly after ``after`` (epoch seconds) that the schedule names."""
    zone = ZoneInfo(timezone or DEFAULT_TIMEZONE)
    start = datetime.fromtimestamp(after, zone)
    return float(croniter(schedule, start).get_next(datetime).timestamp())


def is_scheduled(job: Job) -> bool:
    return bool(job.schedule) and not job.paused and not job.parent_id


def anchor_of(job: Job) -> float:
    """The latest of the job's creation, its last schedule change and its last firing."""
    return max(float(at or 0.0) for at in (job.created_at, job.schedule_set_at, job.last_fired_at))


@dataclass(frozen=True)
class Upcoming:
    job_id: str
    project_id: str
    name: str
    schedule: str
    timezone: str
    at: float


def upcoming(jobs: Iterable[Job]) -> list[Upcoming]:
    """The next firing of every scheduled, unpaused job, soonest first."""
    found = [
        Upcoming(
            job_id=job.id,
            project_id=job.project_id,
            name=job.name,
            schedule=job.schedule,
            timezone=job.timezone or DEFAULT_TIMEZONE,
            at=next_fire(job.schedule, job.timezone, anchor_of(job)),
        )
        for job in jobs
        if is_scheduled(job) and schedule_problem(job.schedule, job.timezone) is None
    ]
    return sorted(found, key=lambda u: u.at)


def clock_from_env(environ: Mapping[str, str]) -> Clock:
    """The wall clock, or (tests) the epoch written in the file ``CMLOPS_LOCAL_CLOCK_FILE`` names."""
    name = environ.get(CLOCK_FILE_VARIABLE)
    if not name:
        return time.time
    path = Path(name)

    def from_file() -> float:
        try:
            return float(path.read_text().strip())
        except (OSError, ValueError):
            return time.time()

    return from_file


def tick_from_env(environ: Mapping[str, str]) -> float:
    try:
        seconds = float(environ.get(TICK_VARIABLE) or TICK_SECONDS)
    except ValueError:
        return TICK_SECONDS
    return seconds if seconds > 0 else TICK_SECONDS


Fire = Callable[[Job], str]  # starts a run of the job, returns its id; raises to refuse


class Scheduler:
    """Fires due scheduled jobs; ``tick`` is the whole decision, the thread only calls it."""

    def __init__(
        self,
        jobs: Callable[[], list[Job]],
        mark_fired: Callable[[str, float], None],
        fire: Fire,
        log: logging.Logger,
        clock: Clock = time.time,
        interval: float = TICK_SECONDS,
    ) -> None:
        self._jobs = jobs
        self._mark_fired = mark_fired
        self._fire = fire
        self.log = log
        self.clock = clock
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> list[str]:
        """Start a run of every job whose next scheduled time has come; the ids of runs started."""
        moment = self.clock()
        started: list[str] = []
        for job in self._jobs():
            if not is_scheduled(job) or schedule_problem(job.schedule, job.timezone):
                continue
            due = next_fire(job.schedule, job.timezone, anchor_of(job))
            if moment < due:
                continue
            self._mark_fired(job.id, moment)
            try:
                started.append(self._fire(job))
            except Exception as exc:  # one job's refusal must not stop the others
                self.log.warning("scheduled job %s (%s) did not start: %s", job.id, job.name, exc)
        return started

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.tick()
            except Exception:
                self.log.exception("scheduler tick failed")
