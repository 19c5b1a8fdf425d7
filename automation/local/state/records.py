"""Typed records of the store's documents: projects, jobs, job runs, applications, models, builds, deployments.

Each record is a frozen dataclass over one JSON document of ``workspace.db``. ``from_doc`` reads a
document as any version of the workspace wrote it (a key an older version never wrote takes the
default the API always showed for it); ``to_doc`` writes it back in the same on-disk format. Keys a
record does not declare (bookkeeping such as ``last_fired_at``, ``schedule_set_at``,
``worker_pid``) ride along untouched in ``extra``, so ``Job.from_doc(doc).to_doc() == doc`` for
every document the workspace writes, and a state folder from before the records keeps working.

``load``/``load_all``/``insert``/``save``/``change``/``patch``/``remove`` are the typed face of
:class:`~automation.local.state.store.Store` (``change`` and ``patch`` edit a record under the store's
lock, so a status write never undoes another writer's change). Bookkeeping keys the workloads use
(``pid``, ``generation``, ``engine_id``...) read as properties over ``extra`` and are written with
``with_``/``patch`` like declared fields.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from automation.local.core.timefmt import DEFAULT_TIMEZONE
from automation.local.state.store import Doc, Store

R = TypeVar("R", bound="Record")


def _empty_map() -> dict[str, Any]:
    return {}


def _empty_list() -> list[Any]:
    return []


def _kept(name: str, default: Any = None) -> Any:
    """A read-only view of one bookkeeping key kept in ``extra`` (written with ``with_(name=...)``)."""
    return property(lambda self: self.extra.get(name, default), doc=f"``extra[{name!r}]``")


@dataclass(frozen=True, kw_only=True)
class Record:
    """One stored document: declared fields plus the undeclared keys in ``extra``."""

    KIND: ClassVar[str] = ""
    PARENT: ClassVar[str] = ""  # the field whose value is the store's parent id ("" for none)

    id: str
    extra: Mapping[str, Any] = field(default_factory=_empty_map, repr=False, compare=False)

    @classmethod
    def declared(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls) if f.name != "extra")

    @classmethod
    def from_doc(cls: type[R], doc: Mapping[str, Any]) -> R:
        names = set(cls.declared())
        known = {k: copy.deepcopy(v) for k, v in doc.items() if k in names}
        extra = {k: copy.deepcopy(v) for k, v in doc.items() if k not in names}
        return cls(**known, extra=extra)

    def to_doc(self) -> Doc:
        doc = {name: copy.deepcopy(getattr(self, name)) for name in self.declared()}
        doc.update(copy.deepcopy(dict(self.extra)))
        return doc

    def with_(self: R, **changes: Any) -> R:
        """A copy with some declared fields changed (undeclared keys go to ``extra``)."""
        names = set(self.declared())
        extra = {k: v for k, v in changes.items() if k not in names}
        known = {k: v for k, v in changes.items() if k in names}
        if extra:
            known["extra"] = {**self.extra, **extra}
        return dataclasses.replace(self, **known)

    @property
    def parent(self) -> str:
        return str(getattr(self, self.PARENT)) if self.PARENT else ""


@dataclass(frozen=True, kw_only=True)
class Stamped(Record):
    """A document with creation and update times (epoch seconds)."""

    created_at: float = 0.0
    updated_at: float = 0.0


@dataclass(frozen=True, kw_only=True)
class Project(Stamped):
    KIND: ClassVar[str] = "project"
    name: str = ""
    slug: str = ""
    description: str = ""
    visibility: str = "private"
    default_engine_type: str = "ml_runtime"
    creation_status: str = "success"
    shared_memory_limit: int = 0
    environment: dict[str, str] = field(default_factory=_empty_map)
    git_url: str = ""
    git_ref: str = ""
    ephemeral_storage_request: int = 0
    ephemeral_storage_limit: int = 0

    @property
    def ready(self) -> bool:
        return self.creation_status == "success"


@dataclass(frozen=True, kw_only=True)
class Engine(Record):
    """What a process of a project runs with: its runtime, kernel, resources and variables."""

    PARENT: ClassVar[str] = "project_id"
    project_id: str = ""
    kernel: str = ""
    cpu: float = 1.0
    memory: float = 1.0
    nvidia_gpu: int = 0
    environment: dict[str, str] = field(default_factory=_empty_map)
    runtime_identifier: str = ""


@dataclass(frozen=True, kw_only=True)
class Workload(Engine, Stamped):
    """A named script of a project that starts engines: a job or an application."""

    name: str = ""
    script: str = ""
    runtime_addon_identifiers: list[str] = field(default_factory=_empty_list)
    run_as: int = 0


@dataclass(frozen=True, kw_only=True)
class Job(Workload):
    KIND: ClassVar[str] = "job"
    arguments: str = ""
    schedule: str = ""
    timezone: str = DEFAULT_TIMEZONE
    timeout: int = 0
    kill_on_timeout: bool = True
    paused: bool = False
    parent_id: str = ""
    attachments: list[str] = field(default_factory=_empty_list)
    type: str = "manual"
    schedule_set_at = _kept("schedule_set_at")
    last_fired_at = _kept("last_fired_at")


@dataclass(frozen=True, kw_only=True)
class JobRun(Engine):
    KIND: ClassVar[str] = "job_run"
    PARENT: ClassVar[str] = "job_id"
    job_id: str = ""
    status: str = ""
    created_at: float = 0.0
    scheduling_at: float | None = None
    starting_at: float | None = None
    running_at: float | None = None
    finished_at: float | None = None
    arguments: str = ""
    engine_id = _kept("engine_id", "")
    pid = _kept("pid")
    needle = _kept("needle", "")
    exit_code = _kept("exit_code")


@dataclass(frozen=True, kw_only=True)
class Application(Workload):
    KIND: ClassVar[str] = "application"
    subdomain: str = ""
    description: str = ""
    status: str = ""
    bypass_authentication: bool = False
    cdv_app: bool = False
    starting_at: float | None = None
    running_at: float | None = None
    stopped_at: float | None = None
    generation = _kept("generation", 0)
    pid = _kept("pid")
    port = _kept("port")
    needle = _kept("needle", "")


@dataclass(frozen=True, kw_only=True)
class Model(Stamped):
    KIND: ClassVar[str] = "model"
    PARENT: ClassVar[str] = "project_id"
    project_id: str = ""
    name: str = ""
    description: str = ""
    access_key: str = ""
    auth_enabled: bool = True
    registered_model_id: str = ""
    visibility: str = "private"
    run_as: int = 0
    default_resources: dict[str, int] = field(
        default_factory=lambda: {"cpu_millicores": 1000, "memory_mb": 2048, "nvidia_gpus": 0}
    )
    default_replication_policy: dict[str, Any] = field(
        default_factory=lambda: {"num_replicas": 1, "type": "fixed"}
    )


@dataclass(frozen=True, kw_only=True)
class Build(Stamped):
    KIND: ClassVar[str] = "build"
    PARENT: ClassVar[str] = "model_id"
    model_id: str = ""
    project_id: str = ""
    status: str = ""
    built_at: float | None = None
    failure_reason: str = ""
    comment: str = ""
    file_path: str = ""
    function_name: str = ""
    kernel: str = ""
    runtime_identifier: str = ""
    runtime_addon_identifiers: list[str] = field(default_factory=_empty_list)
    registered_model_version_id: str = ""
    model_root_dir: str = ""
    build_script_path: str = ""
    model_uri = _kept("model_uri", "")
    attempts = _kept("attempts", 0)
    worker_pid = _kept("worker_pid")
    model_dir = _kept("model_dir", "")
    python = _kept("python", "")
    auto_deploy_model = _kept("auto_deploy_model", False)
    auto_deployment_config = _kept("auto_deployment_config")
    python_executable = _kept("python_executable", "")
    path_entries = _kept("path_entries")

    @property
    def built(self) -> bool:
        return self.status == "built"


@dataclass(frozen=True, kw_only=True)
class Deployment(Stamped):
    KIND: ClassVar[str] = "deployment"
    PARENT: ClassVar[str] = "build_id"
    project_id: str = ""
    model_id: str = ""
    build_id: str = ""
    status: str = ""
    stopped_at: float | None = None
    cpu: float = 1.0
    memory: float = 2.0
    nvidia_gpu: int = 0
    replicas: int = 1
    environment: dict[str, str] = field(default_factory=_empty_map)
    generation = _kept("generation", 0)
    pid = _kept("pid")
    port = _kept("port")
    needle = _kept("needle", "")
    failure_reason = _kept("failure_reason", "")


# --- the typed face of the store ---------------------------------------------------------------


def load(store: Store, cls: type[R], ident: str) -> R | None:
    doc = store.get(cls.KIND, ident)
    return None if doc is None else cls.from_doc(doc)


def load_all(store: Store, cls: type[R], parent: str | None = None) -> list[R]:
    """Every record of a kind (optionally under one parent id), in creation order."""
    return [cls.from_doc(d) for d in store.list(cls.KIND, parent=parent)]


def insert(store: Store, record: R) -> R:
    store.insert(record.KIND, record.id, record.to_doc(), parent=record.parent)
    return record


def save(store: Store, record: R) -> R | None:
    """Write a changed record over its document; ``None`` if it was deleted meanwhile."""
    doc = store.update(record.KIND, record.id, record.to_doc())
    return None if doc is None else type(record).from_doc(doc)


def change(store: Store, cls: type[R], ident: str, edit: Callable[[R], R]) -> R | None:
    """Apply ``edit`` to the stored record atomically (under the store's lock); ``None`` if it is gone."""
    doc = store.update(cls.KIND, ident, lambda d: edit(cls.from_doc(d)).to_doc())
    return None if doc is None else cls.from_doc(doc)


def patch(store: Store, cls: type[R], ident: str, **changes: Any) -> R | None:
    """Set some fields of the stored record atomically (undeclared ones land in ``extra``)."""
    return change(store, cls, ident, lambda record: record.with_(**changes))


def remove(store: Store, cls: type[Record], ident: str) -> bool:
    return store.delete(cls.KIND, ident)
