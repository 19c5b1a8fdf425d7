"""Checks that need the whole AMP file (and the repository): what CML only finds out mid-launch.

After the file type-checks (``loader``), this module checks that tasks run in an order that can work
(every ``run_job`` names a job an earlier ``create_job`` made; every ``build_model``/``deploy_model``
a model an earlier ``create_model`` made; a deployment follows a build), that names the launcher
finds objects by are unique, and that every script a task names exists in the repository. It also
warns about things CML accepts but that break launches in practice (reference section 7: pinned
runtime versions, legacy keys).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from automation.amp.launchable import refusals
from automation.amp.loader import LoadedAmp, bare_message, first_error, read_amp
from automation.amp.model import (
    KNOWN_FEATURES,
    SPEC_VERSIONS,
    BuildModel,
    CreateJob,
    CreateModel,
    DeployModel,
    RunJob,
    RunSession,
    StartApplication,
)
from automation.errors import SpecError
from automation.spec.diagnostics import did_you_mean
from automation.spec.paths import check_relative_path
from automation.spec.yamlload import FieldPath, dotted

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_SUBDOMAIN = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")


@dataclass
class Notice:
    """A warning: the file is usable, but something is likely to go wrong or is ignored."""

    message: str
    file: str
    line: int
    column: int
    field: str | None = None

    def __str__(self) -> str:
        what = f"{self.field}: " if self.field else ""
        return f"{self.file}:{self.line}:{self.column}: {what}{self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "field": self.field,
        }


@dataclass
class AmpReport:
    """The outcome of validating one AMP file."""

    file: str
    root: Path
    loaded: LoadedAmp | None = None
    errors: list[SpecError] = field(default_factory=list)
    warnings: list[Notice] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def raise_first(self) -> None:
        """Raise the first error (file order) as a located SpecError; no-op when valid."""
        if self.errors:
            raise first_error(list(self.errors))

    def to_dict(self) -> dict[str, Any]:
        amp = self.loaded.amp if self.loaded else None
        return {
            "ok": self.ok,
            "file": self.file,
            "name": amp.name if amp else None,
            "tasks": [t.type for t in amp.tasks] if amp else [],
            "errors": [e.to_dict() for e in self.errors],
            "warnings": [w.to_dict() for w in self.warnings],
        }


class _Checker:
    def __init__(self, loaded: LoadedAmp, check_files: bool, pending: frozenset[str] = frozenset()) -> None:
        self.loaded = loaded
        self.amp = loaded.amp
        self.check_files = check_files
        self.pending = pending
        self.errors: list[tuple[tuple[int, int], SpecError]] = []
        self.warnings: list[Notice] = []

    def error(self, path: FieldPath, message: str, hint: str | None = None, *, key: bool = False) -> None:
        err = self.loaded.error(path, message, hint=hint, key=key)
        self.errors.append(((err.line or 0, err.column or 0), err))

    def warn(self, path: FieldPath, message: str, *, key: bool = False) -> None:
        line, column = self.loaded.locate(path, key=key)
        self.warnings.append(Notice(message, self.loaded.file, line, column, dotted(path) or None))

    # -- checks -------------------------------------------------------------------------------------

    def run(self) -> None:
        self.header()
        self.environment()
        self.runtimes()
        self.tasks()
        for refusal in refusals(self.amp):
            self.error(refusal.path, refusal.message, refusal.hint, key=True)

    def header(self) -> None:
        amp = self.amp
        if amp.specification_version not in SPEC_VERSIONS:
            self.warn(
                ("specification_version",),
                f"specification_version {amp.specification_version!r}: every known AMP uses '1.0'",
            )
        if amp.date is not None and not _DATE.fullmatch(amp.date):
            self.warn(("date",), f"date {amp.date!r} is not written YYYY-MM-DD (CML shows it as is)")
        if amp.api_version is not None:
            self.warn(("api_version",), "api_version is a legacy key (2020-2021); it is ignored", key=True)
        for i, feature in enumerate(amp.feature_dependencies):
            if feature not in KNOWN_FEATURES:
                self.warn(
                    ("feature_dependencies", i),
                    f"unknown workspace feature {feature!r} (known: {', '.join(KNOWN_FEATURES)}); "
                    "CML refuses to create the AMP where a dependency is missing",
                )

    def environment(self) -> None:
        for name, var in self.amp.environment_variables.items():
            path: FieldPath = ("environment_variables", name)
            if var.prompt_user is not None:
                self.warn((*path, "prompt_user"), "prompt_user is a legacy key; it is ignored", key=True)

    def runtimes(self) -> None:
        amp = self.amp
        if amp.engine_images:
            self.warn(
                ("engine_images",),
                "engine_images are legacy engines; cmlops launches with runtimes",
                key=True,
            )
        if not amp.runtimes:
            self.warn(
                ("name",),
                "no runtimes declared: cmlops launches with Workbench / Python 3.10 / Standard "
                "(declare one: runtimes: [{editor, kernel, edition}])",
                key=True,
            )
        if len(amp.runtimes) > 1:
            self.warn(("runtimes", 1), "more than one runtime: the first one is used")
        for i, runtime in enumerate(amp.runtimes):
            if runtime.version:
                self.warn(
                    ("runtimes", i, "version"),
                    "a pinned runtime version breaks the launch once that runtime is retired; omit it",
                )

    def tasks(self) -> None:
        jobs: dict[str, int] = {}
        models: dict[str, int] = {}
        built: set[str] = set()
        names: dict[tuple[str, str], int] = {}
        subdomains: dict[str, int] = {}
        all_job_labels = {t.entity_label: i for i, t in enumerate(self.amp.tasks) if isinstance(t, CreateJob)}
        all_model_labels = {
            t.entity_label: i for i, t in enumerate(self.amp.tasks) if isinstance(t, CreateModel)
        }
        for i, task in enumerate(self.amp.tasks):
            at: FieldPath = ("tasks", i)
            where = f"task {i} ({task.type})"
            if isinstance(task, CreateJob):
                self.unique(jobs, task.entity_label, i, (*at, "entity_label"), "create_job entity_label")
                self.unique(names, ("job", task.name), i, (*at, "name"), "job name")
                self.script((*at, "script"), task.script, where)
            elif isinstance(task, RunJob):
                self.refers(jobs, all_job_labels, task.entity_label, i, at, "create_job")
                if task.cpu is not None or task.memory is not None or task.gpu is not None:
                    self.warn(
                        (*at, "cpu" if task.cpu is not None else "memory"),
                        "resources on run_job are not applied by API v2; set them on the create_job",
                    )
            elif isinstance(task, RunSession):
                if task.script:
                    self.script((*at, "script"), task.script, where)
            elif isinstance(task, CreateModel):
                self.unique(models, task.entity_label, i, (*at, "entity_label"), "create_model entity_label")
                self.unique(names, ("model", task.name), i, (*at, "name"), "model name")
                if task.auth_enabled is not None:
                    self.warn((*at, "auth_enabled"), "auth_enabled is a legacy key (2020 drafts)", key=True)
            elif isinstance(task, BuildModel):
                if self.refers(models, all_model_labels, task.entity_label, i, at, "create_model"):
                    built.add(task.entity_label)
                self.script((*at, "target_file_path"), task.target_file_path, where)
            elif isinstance(task, DeployModel):
                if self.refers(models, all_model_labels, task.entity_label, i, at, "create_model") and (
                    task.entity_label not in built
                ):
                    self.error(
                        (*at, "entity_label"),
                        f"{where} deploys model '{task.entity_label}' before any build_model built it",
                        hint="put a build_model task with the same entity_label before this deploy_model",
                    )
                if (
                    task.cpu_millicores is not None
                    or task.nvidia_gpus is not None
                    or task.memory_mb is not None
                ):
                    self.warn(
                        at,
                        "cpu_millicores / memory_mb / nvidia_gpus are the pre-1.0 form; use cpu, memory, gpu",
                    )
            elif isinstance(task, StartApplication):
                self.unique(names, ("application", task.name), i, (*at, "name"), "application name")
                self.unique(subdomains, task.subdomain, i, (*at, "subdomain"), "application subdomain")
                if not _SUBDOMAIN.fullmatch(task.subdomain):
                    self.error(
                        (*at, "subdomain"),
                        f"subdomain {task.subdomain!r} is not a DNS label (lowercase letters, digits, '-')",
                    )
                self.script((*at, "script"), task.script, where)
                if task.environment and task.environment_variables:
                    self.warn(
                        (*at, "environment"), "both environment and environment_variables: they are merged"
                    )

    def unique(self, seen: dict[Any, int], key: Any, index: int, path: FieldPath, what: str) -> None:
        shown = key[1] if isinstance(key, tuple) else key
        if key in seen:
            self.error(
                path,
                f"{what} {shown!r} is used again in task {index} (first in task {seen[key]})",
                hint="cmlops finds jobs, models and applications by name on a re-launch; make them unique",
            )
        else:
            seen[key] = index

    def refers(
        self,
        defined: dict[str, int],
        everywhere: dict[str, int],
        label: str,
        index: int,
        at: FieldPath,
        maker: str,
    ) -> bool:
        if label in defined:
            return True
        task_type = self.amp.tasks[index].type
        if label in everywhere:
            self.error(
                (*at, "entity_label"),
                f"task {index} ({task_type}) uses entity_label '{label}' before task {everywhere[label]} "
                f"({maker}) creates it",
                hint="tasks run in file order: move the task after the one that creates the label",
            )
            return False
        close = did_you_mean(label, list(everywhere))
        known = ", ".join(sorted(everywhere)) or "none"
        self.error(
            (*at, "entity_label"),
            f"task {index} ({task_type}) refers to entity_label '{label}', which no {maker} task creates",
            hint=(f"did you mean '{close}'? " if close else "") + f"labels of {maker} tasks: {known}",
        )
        return False

    def script(self, path: FieldPath, value: str, where: str) -> None:
        try:
            rel = check_relative_path(value, what="script path")
        except ValueError as exc:
            self.error(path, f"{where}: {exc}", hint="scripts are relative to the project (repository) root")
            return
        if not self.check_files or rel in self.pending:
            return
        root = self.loaded.root
        target = root / rel
        if not target.is_file():
            self.error(
                path,
                f"{where}: the script {value!r} does not exist in {root}",
                hint="paths are relative to the folder holding .project-metadata.yaml (the project root)",
            )
            return
        try:
            target.resolve().relative_to(root.resolve())
        except ValueError:
            self.error(path, f"{where}: the script {value!r} leads outside the repository (symlink)")


def _unknown_keys(report: AmpReport, unknown: list[SpecError], strict: bool) -> None:
    """Unknown keys: warnings (CML ignores them), errors under ``--strict``; file order either way."""
    if strict:
        for err in unknown:
            err.hint = f"{err.hint}; (an error under --strict)" if err.hint else "an error under --strict"
        report.errors = sorted([*report.errors, *unknown], key=lambda e: (e.line or 0, e.column or 0))
        return
    notices = [
        Notice(
            f"{bare_message(e)}; {e.hint}" if e.hint else bare_message(e),
            e.file or report.file,
            e.line or 1,
            e.column or 1,
            e.field,
        )
        for e in unknown
    ]
    report.warnings = sorted([*report.warnings, *notices], key=lambda n: (n.line, n.column))


def validate_loaded(
    loaded: LoadedAmp,
    *,
    check_files: bool = True,
    strict: bool = False,
    pending: frozenset[str] = frozenset(),
) -> AmpReport:
    """Cross-task and file checks for an AMP that type-checked (``pending``: files about to be written)."""
    checker = _Checker(loaded, check_files, pending)
    checker.run()
    checker.errors.sort(key=lambda item: item[0])
    report = AmpReport(
        file=loaded.file,
        root=loaded.root,
        loaded=loaded,
        errors=[e for _, e in checker.errors],
        warnings=sorted(checker.warnings, key=lambda n: (n.line, n.column)),
    )
    _unknown_keys(report, list(loaded.unknown), strict)
    return report


def validate_amp(path: str | Path, *, check_files: bool = True, strict: bool = False) -> AmpReport:
    """Validate the AMP file at ``path`` (a file, or a folder holding ``.project-metadata.yaml``).

    Never raises for problems in the file: they are in ``report.errors`` (located SpecErrors, file
    order) and ``report.warnings``. ``check_files=False`` skips the "script exists" checks; unknown
    keys are warnings unless ``strict``.
    """
    result = read_amp(path)
    if result.loaded is None:
        report = AmpReport(file=result.file, root=result.root, errors=list(result.errors))
        _unknown_keys(report, result.unknown, strict)
        return report
    return validate_loaded(result.loaded, check_files=check_files, strict=strict)


def load_valid_amp(
    path: str | Path, *, check_files: bool = True, strict: bool = False
) -> tuple[LoadedAmp, list[Notice]]:
    """The AMP at ``path`` when it is valid (with its warnings); raises its first error otherwise."""
    report = validate_amp(path, check_files=check_files, strict=strict)
    report.raise_first()
    assert report.loaded is not None
    return report.loaded, report.warnings
