"""The ML Runtime a workload runs in (the spec's default, or a job's or application's own)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Field, model_validator

from automation.spec.fields import Name, SpecModel, empty_to_none


class Runtime(SpecModel):
    """The ML Runtime a job or application runs in (a model is built in its training job's): an exact
    image identifier, or editor/kernel/edition (cmlops then picks the newest enabled runtime matching
    all three)."""

    editor: Name = Field(default="Workbench", description="Runtime editor, e.g. Workbench, JupyterLab.")
    kernel: Name = Field(default="Python 3.10", description="Runtime kernel, e.g. Python 3.10.")
    edition: Name = Field(default="Standard", description="Runtime edition, e.g. Standard.")
    identifier: Annotated[str | None, BeforeValidator(empty_to_none)] = Field(
        default=None,
        description="Exact runtime image identifier (docker.repository.cloudera.com/...); when set, "
        "editor/kernel/edition must not be given.",
    )
    addons: list[Name] = Field(
        default_factory=list,
        description="Runtime add-ons the training job needs (Spark), by identifier or display name as "
        "GET /api/v2/runtimeaddons lists them, e.g. 'Spark 3.5.1 - CDE 1.24.1 - HOTFIX-1'. The local "
        "workspace has none.",
    )

    @model_validator(mode="after")
    def _identifier_alone(self) -> Runtime:
        given = self.model_fields_set & {"editor", "kernel", "edition"}
        if self.identifier is not None and given:
            raise ValueError(f"give either identifier or {'/'.join(sorted(given))}, not both")
        return self
