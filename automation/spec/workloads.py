"""Spec v2 workloads: CML jobs (manual, after a parent, or on a cron schedule) and applications.

Cron expressions are checked with croniter (the library the local workspace fires schedules with),
time zones with the standard library's zoneinfo database.
"""

from __future__ import annotations

import re
import zoneinfo
from typing import Annotated, Literal

from pydantic import BeforeValidator, ConfigDict, Field, field_validator, model_validator

from automation.spec.fields import (
    Cpu,
    Environment,
    Gpus,
    MemoryGb,
    Name,
    Seconds,
    SpecModel,
    empty_to_none,
    rel_path,
)
from automation.spec.runtime import Runtime

_SUBDOMAIN = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")


class Schedule(SpecModel):
    """A recurring job: CML starts a run at every time the cron expression names."""

    cron: str = Field(
        description="Five-field cron expression (minute hour day month weekday), e.g. '0 6 * * 1'.",
        json_schema_extra={"pattern": r"^\s*\S+(\s+\S+){4}\s*$"},
    )
    timezone: str = Field(default="UTC", description="IANA time zone the cron times are read in, e.g. UTC.")

    @field_validator("cron")
    @classmethod
    def _check_cron(cls, value: str) -> str:
        from croniter import croniter  # imported when a schedule is read: `cmlops --help` stays light

        fields = value.split()
        if len(fields) != 5 or not croniter.is_valid(value):
            raise ValueError(
                "not a five-field cron expression (minute hour day-of-month month day-of-week), e.g. '0 6 * * 1'"
            )
        return " ".join(fields)

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError("unknown time zone; use an IANA name such as UTC or Europe/Paris") from None
        return value


class Resources(SpecModel):
    """vCPUs, memory and GPUs of a workload, and its environment variables."""

    cpu: Cpu = Field(default=1.0, description="vCPUs (> 0).")
    memory: MemoryGb = Field(default=2.0, description="Memory in GB (> 0).")
    gpus: Gpus = Field(default=0, description="NVIDIA GPUs (>= 0).")
    environment: Environment = Field(
        default_factory=dict, description="Environment variables (name -> value); numbers become strings."
    )


class JobSpec(Resources):
    """A CML job in the DEV project (its key under ``jobs:`` is its name in CML)."""

    model_config = ConfigDict(json_schema_extra={"not": {"required": ["after", "schedule"]}})

    script: Annotated[str, rel_path("script")] = Field(
        description="Script the job runs, relative to the repo (= project) root."
    )
    arguments: str = Field(default="", max_length=4000, description="Command-line arguments, one string.")
    timeout: Seconds = Field(
        default=1800,
        description="Seconds before CML stops a run (the job's kill timeout). cmlops waits for a training "
        "chain max(the chain's timeouts summed, timeouts.job_run) seconds.",
    )
    after: Annotated[Name | None, BeforeValidator(empty_to_none)] = Field(
        default=None,
        description="The job this one follows (CML parent_id): it runs when that job's run succeeds.",
    )
    schedule: Schedule | None = Field(
        default=None, description="Run on a cron schedule. Neither after nor schedule: the job runs manually."
    )
    runtime: Runtime | None = Field(
        default=None,
        description="This job's ML Runtime; null uses the spec's. A model this job trains is built in it.",
    )

    @model_validator(mode="after")
    def _after_or_schedule(self) -> JobSpec:
        if self.after is not None and self.schedule is not None:
            raise ValueError(
                "a job has either after (it follows a parent job) or schedule, not both: CML refuses a "
                "schedule on a dependent job"
            )
        return self


class ApplicationSpec(Resources):
    """A CML application (a long-running web app) kept running in the DEV or PRD project."""

    script: Annotated[str, rel_path("script")] = Field(
        description="Script that starts the app (it listens on CDSW_APP_PORT), relative to the repo root."
    )
    subdomain: str = Field(
        description="Served at https://<subdomain>.<workspace domain>; lowercase letters, digits and '-'."
    )
    description: str = Field(default="", max_length=2000, description="Application description.")
    project: Literal["dev", "prd"] = Field(default="dev", description="The project the application runs in.")
    bypass_authentication: bool = Field(
        default=False, description="Let anyone reach the app without logging into the workspace. Keep false."
    )
    runtime: Runtime | None = Field(default=None, description="This app's ML Runtime; null uses the spec's.")

    @field_validator("subdomain")
    @classmethod
    def _check_subdomain(cls, value: str) -> str:
        if not _SUBDOMAIN.fullmatch(value):
            raise ValueError(
                "a subdomain is 1-63 lowercase letters, digits and '-' (not at the start or end)"
            )
        return value


__all__ = ["ApplicationSpec", "JobSpec", "Resources", "Schedule"]
