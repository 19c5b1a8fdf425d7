"""The cmlops spec: one YAML file describing the DEV/PRD projects, training job, model, gates and endpoint.

Public entry points::

    spec = load_spec("specs/wine-quality.yaml")           # SpecError (file:line:column) on any problem
    uploaded = check_files(spec)                           # the files it names exist in the repo
    spec.target("local"); spec.target("cml").require_url()
    spec.model_dump_public()                               # safe to print: secrets masked
    spec_json_schema()                                     # for `cmlops schema`
"""

from automation.spec.files import check_files, source_files
from automation.spec.loader import load_spec, parse_spec
from automation.spec.models import (
    MASK,
    CmlTarget,
    Deployment,
    Gates,
    Job,
    LocalTarget,
    ModelSpec,
    NoWorseThanPrd,
    Project,
    Projects,
    Runtime,
    Select,
    Smoke,
    SmokeExpect,
    Source,
    Spec,
    Target,
    Threshold,
    Timeouts,
    Training,
)
from automation.spec.paths import find_repo_root
from automation.spec.schema import spec_json_schema

__all__ = [
    "MASK",
    "CmlTarget",
    "Deployment",
    "Gates",
    "Job",
    "LocalTarget",
    "ModelSpec",
    "NoWorseThanPrd",
    "Project",
    "Projects",
    "Runtime",
    "Select",
    "Smoke",
    "SmokeExpect",
    "Source",
    "Spec",
    "Target",
    "Threshold",
    "Timeouts",
    "Training",
    "check_files",
    "find_repo_root",
    "load_spec",
    "parse_spec",
    "source_files",
    "spec_json_schema",
]
