"""destroy: remove what a spec created, DEV by default, PRD and the registry only when asked.

Only what carries the spec's ownership mark (see ``reconcile/ownership.py``) is deleted. A project
is deleted only when the spec created it and it holds nothing else: another job, model (endpoint),
application or file keeps it, and the plan says what was left and why. ``force`` deletes the
spec's projects (and registered model) whatever they hold, listing what goes with them.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import PurePosixPath
from typing import Any

from automation.api import CMLClient
from automation.api.models import DEPLOY_ACTIVE
from automation.api.types import Project
from automation.errors import NotFound, RegistryUnavailable
from automation.reconcile.ownership import REGISTRY_TAG, description_owner, environment_owner


@dataclass
class Doomed:
    kind: str  # deployment | model | project | job | registered_model
    name: str
    id: str
    project_id: str | None = None
    extra: dict[str, str] | None = None
    contents: list[str] = field(default_factory=list)  # what goes with a forced project or registry

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        text = f"{self.kind} {self.name} ({self.id})"
        return text + (f", with: {', '.join(self.contents)}" if self.contents else "")


@dataclass
class Left:
    """Something destroy does not delete, and why."""

    kind: str  # job | model | application | file | project | registered_model | note
    name: str
    reason: str
    id: str | None = None
    project: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        where = f" in project {self.project}" if self.project else ""
        ident = f" ({self.id})" if self.id else ""
        return f"{self.kind} {self.name}{ident}{where}: {self.reason}"


@dataclass
class DestroyPlan:
    delete: list[Doomed] = field(default_factory=list)
    left: list[Left] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"delete": [d.to_dict() for d in self.delete], "left": [x.to_dict() for x in self.left]}


_NOT_OURS = "not created by this spec (no cmlops mark); delete it by hand if it should go"
_FOREIGN = "not created by this spec"


def find_doomed(
    client: CMLClient, spec: Any, *, include_prd: bool, include_registry: bool, force: bool = False
) -> DestroyPlan:
    """What destroy would delete, in the order it deletes it, and what it leaves. Reads only."""
    out = DestroyPlan()
    if include_prd:
        prd = client.projects.find(spec.projects.prd.name)
        if prd is not None:
            _prd(client, spec, prd, out, force)
    dev = client.projects.find(spec.projects.dev.name)
    if dev is not None:
        _dev(client, spec, dev, out, force)
    if include_registry:
        _registry(client, spec, out, force)
    return out


def _prd(client: CMLClient, spec: Any, prd: Project, out: DestroyPlan, force: bool) -> None:
    foreign: list[Left] = []
    endpoints = {m.endpoint.model_name for m in spec.models.values()}
    for model in client.models.list(prd.id):
        active = _active_deployments(client, prd.id, model.id)
        if model.name in endpoints and description_owner(model.description) == spec.name:
            for build_id, dep_id in active:
                out.delete.append(
                    Doomed(
                        "deployment", model.name, dep_id, prd.id, {"model_id": model.id, "build_id": build_id}
                    )
                )
            out.delete.append(Doomed("model", model.name, model.id, prd.id))
            continue
        serving = f", {len(active)} active deployment(s)" if active else ""
        reason = _NOT_OURS if model.name in endpoints else _FOREIGN
        foreign.append(Left("model", model.name, reason + serving, model.id, prd.name))
    foreign += _others(client, spec, prd, out, jobs=True)
    uploaded = UploadGlobs([app.script for app in spec.applications.values() if app.project == "prd"])
    foreign += [Left("file", path, _FOREIGN, None, prd.name) for path in _files(client, prd.id, uploaded)]
    _project(spec, prd, foreign, out, force)


def _dev(client: CMLClient, spec: Any, dev: Project, out: DestroyPlan, force: bool) -> None:
    ours = set(spec.jobs)
    foreign: list[Left] = []
    for job in client.jobs.list(dev.id):
        if job.name in ours and environment_owner(job.environment) == spec.name:
            out.delete.append(Doomed("job", job.name, job.id, dev.id))
        else:
            reason = _NOT_OURS if job.name in ours else _FOREIGN
            foreign.append(Left("job", job.name, reason, job.id, dev.name))
    foreign += _others(client, spec, dev, out, jobs=False)
    source = spec.projects.dev.source
    if source is not None and source.files is not None:
        uploaded = UploadGlobs(source.files)
        foreign += [Left("file", p, _FOREIGN, None, dev.name) for p in _files(client, dev.id, uploaded)]
    else:
        out.left.append(
            Left("note", "files", "the project's files came from git and were not checked", None, dev.name)
        )
    _project(spec, dev, foreign, out, force)


def _others(client: CMLClient, spec: Any, project: Project, out: DestroyPlan, *, jobs: bool) -> list[Left]:
    """Applications (the spec's own, marked, are doomed; the rest left) and, for PRD, jobs; DEV's
    models in ``project``: never the spec's."""
    found: list[Left] = []
    for a in client.applications.list(project.id):
        if a.name in spec.applications and environment_owner(a.environment) == spec.name:
            out.delete.insert(0, Doomed("application", a.name, a.id, project.id))
        else:
            reason = _NOT_OURS if a.name in spec.applications else _FOREIGN
            found.append(Left("application", a.name, reason, a.id, project.name))
    if jobs:
        found += [Left("job", j.name, _FOREIGN, j.id, project.name) for j in client.jobs.list(project.id)]
    else:
        found += [Left("model", m.name, _FOREIGN, m.id, project.name) for m in client.models.list(project.id)]
    return found


def _project(spec: Any, project: Project, foreign: list[Left], out: DestroyPlan, force: bool) -> None:
    owned = environment_owner(project.environment) == spec.name
    if force:
        out.delete.append(
            Doomed("project", project.name, project.id, contents=[f.describe() for f in foreign])
        )
        return
    out.left += foreign
    if owned and not foreign:
        out.delete.append(Doomed("project", project.name, project.id))
    elif not owned:
        out.left.append(Left("project", project.name, _NOT_OURS + " (or --force)", project.id))
    else:
        out.left.append(
            Left(
                "project",
                project.name,
                f"holds {len(foreign)} thing(s) this spec did not create (listed); pass --force to delete it anyway",
                project.id,
            )
        )


def _registry(client: CMLClient, spec: Any, out: DestroyPlan, force: bool) -> None:
    for name in spec.models:
        try:
            registered = client.registry.find(name)
        except RegistryUnavailable:
            return  # no registry, nothing of ours in it
        if registered is not None:
            _registered(client, spec, registered, out, force)


def _registered(client: CMLClient, spec: Any, registered: Any, out: DestroyPlan, force: bool) -> None:
    versions = client.registry.versions(registered.model_id)
    others = [v for v in versions if _version_tags(v).get(REGISTRY_TAG) != spec.name]
    if not others or force:
        contents = [f"version {v.number} (not registered by this spec)" for v in others]
        out.delete.append(Doomed("registered_model", registered.name, registered.model_id, contents=contents))
        return
    numbers = ", ".join(str(v.number) for v in others)
    out.left.append(
        Left(
            "registered_model",
            registered.name,
            f"holds version(s) {numbers} this spec did not register; pass --force to delete it anyway",
            registered.model_id,
        )
    )


def _version_tags(version: Any) -> dict[str, str]:
    meta = version.model_version_metadata.get("tags") or []
    pairs = {str(t.get("key")): str(t.get("value")) for t in meta if isinstance(t, dict)}
    return {**pairs, **version.tag_map}


def _active_deployments(client: CMLClient, project_id: str, model_id: str) -> list[tuple[str, str]]:
    return [
        (build.id, dep.id)
        for build in client.models.list_builds(project_id, model_id)
        for dep in client.models.list_deployments(project_id, model_id, build.id)
        if dep.status.lower() in DEPLOY_ACTIVE
    ]


class UploadGlobs:
    """The spec's upload globs: which project paths they cover, which folders they reach into."""

    def __init__(self, patterns: list[str]) -> None:
        self.patterns = [p.strip("/") for p in patterns]
        self._regexes = [re.compile(_glob_regex(p)) for p in self.patterns]

    def covers(self, path: str) -> bool:
        """A file matched by a glob, or under a folder a glob names."""
        return any(r.fullmatch(path) for r in self._regexes)

    def reaches(self, folder: str) -> bool:
        """Whether a glob may match something inside ``folder`` (walking too far costs a listing)."""
        inside = folder + "/"
        for pattern in self.patterns:
            literal = re.split(r"[*?\[]", pattern, maxsplit=1)[0]
            if literal == pattern:  # no wildcard: a file under the folder, or the folder itself
                if pattern.startswith(inside) or pattern == folder:
                    return True
                continue
            base = literal[: literal.rfind("/") + 1]  # the fixed folder the wildcard starts in
            if base.startswith(inside) or inside.startswith(base):
                return True
        return False


def _glob_regex(pattern: str) -> str:
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return out + "(?:/.*)?"


def _files(client: CMLClient, project_id: str, ours: UploadGlobs) -> list[str]:
    """Files and folders of the project the spec did not upload (dot entries and __pycache__ skipped:
    CML keeps the engine's home there). Folders holding uploads are walked; others are listed whole."""
    found: list[str] = []
    folders = [""]
    while folders:
        folder = folders.pop()
        try:
            entries = client.projects.list_files(project_id, folder)
        except NotFound:
            continue
        for entry in entries:
            name = PurePosixPath(entry.path).name
            if not name or name.startswith(".") or name == "__pycache__":
                continue
            rel = f"{folder}/{name}" if folder else name
            if not entry.is_dir:
                if not ours.covers(rel):
                    found.append(rel)
            elif ours.reaches(rel):
                folders.append(rel)
            else:
                found.append(rel + "/")
    return sorted(found)


def destroy(client: CMLClient, doomed: list[Doomed]) -> int:
    """Delete the listed resources in order; returns how many were removed."""
    for item in doomed:
        if item.kind == "deployment":
            client.models.stop_deployment(
                item.project_id, item.extra["model_id"], item.extra["build_id"], item.id
            )
        elif item.kind == "model":
            client.models.delete(item.project_id, item.id)
        elif item.kind == "job":
            client.jobs.delete(item.project_id, item.id)
        elif item.kind == "application":
            client.applications.delete(item.project_id, item.id)
        elif item.kind == "project":
            client.projects.delete(item.id)
        elif item.kind == "registered_model":
            client.registry.delete(item.id)
    return len(doomed)
