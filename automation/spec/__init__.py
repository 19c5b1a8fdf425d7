"""The cmlops spec: one YAML file describing a whole CML project — DEV/PRD projects, jobs, applications,
registered models with their gates and PRD endpoints — and the workspaces (targets) it is applied to.

Public entry points::

    spec = load_spec("specs/wine-quality.yaml")           # SpecError (file:line:column) on any problem
    uploaded = check_files(spec)                           # the files it names exist in the repo
    spec.target("local"); spec.target("cml").require_url()
    spec.for_target("cml")                                 # the target's overrides merged in
    spec.model_named(None); spec.ancestors("train"); spec.job_timeout("train")
    spec.model_dump_public()                               # safe to print: secrets masked
    spec_json_schema()                                     # for `cmlops schema`
"""

from automation.spec.files import check_files, source_files
from automation.spec.loader import load_spec, parse_spec
from automation.spec.models import (
    MASK,
    CmlTarget,
    Endpoint,
    Gates,
    LocalTarget,
    ModelSpec,
    NoWorseThanPrd,
    Project,
    Projects,
    Select,
    Smoke,
    SmokeExpect,
    Source,
    Spec,
    Target,
    Threshold,
    Timeouts,
)
from automation.spec.overrides import Overrides
from automation.spec.paths import find_repo_root
from automation.spec.runtime import Runtime
from automation.spec.schema import spec_json_schema
from automation.spec.workloads import ApplicationSpec, JobSpec, Schedule

__all__ = [
    "MASK",
    "ApplicationSpec",
    "CmlTarget",
    "Endpoint",
    "Gates",
    "JobSpec",
    "LocalTarget",
    "ModelSpec",
    "NoWorseThanPrd",
    "Overrides",
    "Project",
    "Projects",
    "Runtime",
    "Schedule",
    "Select",
    "Smoke",
    "SmokeExpect",
    "Source",
    "Spec",
    "Target",
    "Threshold",
    "Timeouts",
    "check_files",
    "find_repo_root",
    "load_spec",
    "parse_spec",
    "source_files",
    "spec_json_schema",
]
