"""Per-target overrides: one spec, several workspaces with other resources, environments or project names.

Only resources (cpu, memory, gpus, replicas, timeout), environment variables and project names can be
overridden; anything else is an unknown key. Environment maps are merged key by key, every other
field is replaced. ``apply_override`` is the one merge used for every section.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import Field

from automation.spec.fields import Cpu, Environment, Gpus, MemoryGb, Name, Replicas, Seconds, SpecModel

M = TypeVar("M", bound=SpecModel)


class _ResourcesOverride(SpecModel):
    cpu: Cpu | None = Field(default=None, description="vCPUs (> 0).")
    memory: MemoryGb | None = Field(default=None, description="Memory in GB (> 0).")
    gpus: Gpus | None = Field(default=None, description="NVIDIA GPUs (>= 0).")
    environment: Environment | None = Field(
        default=None, description="Environment variables merged over the spec's (same name: this value wins)."
    )


class ProjectOverride(SpecModel):
    """A project's name and environment on this target."""

    name: Name | None = Field(default=None, description="The project's name in this workspace.")
    environment: Environment | None = Field(
        default=None, description="Project environment variables merged over the spec's."
    )


class ProjectsOverride(SpecModel):
    """Overrides of the DEV and PRD projects."""

    dev: ProjectOverride | None = Field(default=None, description="The DEV project on this target.")
    prd: ProjectOverride | None = Field(default=None, description="The PRD project on this target.")


class JobOverride(_ResourcesOverride):
    """A job's resources, environment and timeout on this target."""

    timeout: Seconds | None = Field(default=None, description="Seconds before CML stops a run.")


class ApplicationOverride(_ResourcesOverride):
    """An application's resources and environment on this target."""


class EndpointOverride(_ResourcesOverride):
    """A model endpoint's resources, replicas and environment on this target."""

    replicas: Replicas | None = Field(default=None, description="Replicas serving the endpoint (1..9).")


class ModelOverride(SpecModel):
    """A registered model's PRD endpoint on this target."""

    endpoint: EndpointOverride | None = Field(default=None, description="The endpoint's overrides.")


class Overrides(SpecModel):
    """What changes when the spec is applied to this target (resources, environment, project names)."""

    projects: ProjectsOverride = Field(default_factory=ProjectsOverride, description="DEV/PRD projects.")
    jobs: dict[Name, JobOverride] = Field(default_factory=dict, description="Jobs, by name.")
    applications: dict[Name, ApplicationOverride] = Field(
        default_factory=dict, description="Applications, by name."
    )
    models: dict[Name, ModelOverride] = Field(default_factory=dict, description="Models, by registered name.")

    @property
    def empty(self) -> bool:
        return not (self.jobs or self.applications or self.models or self.projects.model_fields_set)


def apply_override(model: M, override: SpecModel | None) -> M:
    """``model`` with every field ``override`` sets: environments merged, nested sections recursed,
    the rest replaced. Private attributes (positions, masks) are carried over by ``model_copy``."""
    if override is None:
        return model
    update: dict[str, Any] = {}
    for name in override.model_fields_set:
        value = getattr(override, name)
        if value is None:
            continue
        current = getattr(model, name)
        if name == "environment":
            update[name] = {**current, **value}
        elif isinstance(value, SpecModel):  # every overridable section exists in the spec it overrides
            update[name] = apply_override(current, value)
        else:
            update[name] = value
    return model.model_copy(update=update) if update else model
