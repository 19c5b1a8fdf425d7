"""The plan's vocabulary: resource types, action kinds, one Action per resource, the Plan.

An action names its resource by key (``<type>.<name>``: ``project.dev``, ``job.train``,
``deployment.wine-quality``), says what apply would do (its kind) and why, carries the fields
apply sends (``desired``; kept out of the JSON form, which shows only ``changes``, masked) and the
resource keys it depends on (``depends_on``: apply runs actions in plan order, which respects them).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

if sys.version_info >= (3, 11):
    from enum import StrEnum
else:  # Python 3.10 (cmlops runs inside CML's 3.10 runtimes, e.g. the AMP's deploy step)

    class StrEnum(str, Enum):
        """enum.StrEnum of Python 3.11: members are their string values (str(), format, JSON)."""

        def __str__(self) -> str:
            return str(self.value)

        def __format__(self, spec: str) -> str:
            return format(str(self.value), spec)


class Kind(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    UPLOAD = "upload"
    RUN = "run"
    WAIT = "wait"
    REGISTER = "register"
    BUILD = "build"
    DEPLOY = "deploy"
    RESTART = "restart"
    NOOP = "noop"


CHANGE_KINDS = frozenset(k for k in Kind if k is not Kind.NOOP)


class Res(StrEnum):
    PROJECT = "project"
    FILES = "files"
    JOB = "job"
    JOB_RUN = "job_run"
    APPLICATION = "application"
    MODEL_VERSION = "model_version"
    ENDPOINT = "endpoint"
    BUILD = "build"
    DEPLOYMENT = "deployment"
    OLD_DEPLOYMENTS = "old_deployments"


def resource_key(type_: Res, key: str) -> str:
    """``<type>.<key>``, e.g. ``job.train`` or ``deployment.wine-quality``."""
    return f"{type_}.{key}"


@dataclass
class Action:
    type: Res
    key: str  # "dev" | "prd" for projects and files, the job/application name, the registered model name
    kind: Kind
    name: str  # the resource's name in the workspace
    reason: str = ""
    changes: dict[str, list[Any]] = field(default_factory=dict)  # field -> [current, desired] (masked)
    id: str | None = None
    destroys: str = ""  # what it deletes or stops that is not brought back first ("" if nothing)
    desired: dict[str, Any] = field(default_factory=dict, repr=False)  # what apply sends (unmasked)
    depends_on: list[str] = field(default_factory=list)  # resource keys

    def __post_init__(self) -> None:
        self.type, self.kind = Res(self.type), Kind(self.kind)

    @property
    def resource(self) -> str:
        return resource_key(self.type, self.key)

    @property
    def is_change(self) -> bool:
        return self.kind in CHANGE_KINDS

    def to_dict(self) -> dict[str, Any]:
        return {
            "resource": self.resource,
            "type": str(self.type),
            "kind": str(self.kind),
            "name": self.name,
            "reason": self.reason,
            "changes": self.changes,
            "id": self.id,
            "destroys": self.destroys,
            "depends_on": list(self.depends_on),
        }


@dataclass
class Plan:
    actions: list[Action]
    runtime_identifier: str | None = None
    reads: int = 0

    @property
    def changes(self) -> list[Action]:
        return [a for a in self.actions if a.is_change]

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    @property
    def destructive(self) -> list[Action]:
        """The actions that delete or stop something (apply asks before them)."""
        return [a for a in self.actions if a.is_change and a.destroys]

    def get(self, resource: str) -> Action:
        """The action of a resource key, e.g. ``job.train``."""
        return next(a for a in self.actions if a.resource == resource)

    def of_type(self, type_: Res) -> list[Action]:
        return [a for a in self.actions if a.type is Res(type_)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "has_changes": self.has_changes,
            "runtime_identifier": self.runtime_identifier,
            "reads": self.reads,
            "destructive": [a.destroys for a in self.destructive],
            "actions": [a.to_dict() for a in self.actions],
        }
