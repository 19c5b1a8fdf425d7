"""plan(spec, observed) -> Plan: pure data, no I/O.

A plan is an ordered list of actions, one per resource of the spec, each saying what would be
done (create, update, replace, upload, run, wait, register, build, deploy, noop) and why, with
the fields that differ. Server representations (ints as strings, environment as a JSON string)
are normalised by the typed API models before they get here, so a converged workspace plans to
nothing but no-ops.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from automation.reconcile.observe import Observed
from automation.reconcile.ownership import description_text, without_mark
from automation.redact import MASK, is_secret_name

CHANGE_KINDS = {"create", "update", "replace", "upload", "run", "wait", "register", "build", "deploy"}
# Job fields a live CML may leave unchanged after a PATCH: apply then replaces the job.
JOB_FIELDS_CML_MAY_IGNORE = ("script", "arguments", "runtime_identifier")


@dataclass
class Action:
    resource: str  # e.g. "project.dev", "job", "deployment"
    kind: str  # create | update | replace | upload | run | wait | register | build | deploy | noop
    name: str
    reason: str = ""
    changes: dict[str, list[Any]] = field(default_factory=dict)  # field -> [current, desired]
    id: str | None = None
    destroys: str = ""  # what it deletes or stops that is not brought back first ("" if nothing)

    @property
    def is_change(self) -> bool:
        return self.kind in CHANGE_KINDS

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


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
        return next(a for a in self.actions if a.resource == resource)

    def to_dict(self) -> dict[str, Any]:
        return {
            "has_changes": self.has_changes,
            "runtime_identifier": self.runtime_identifier,
            "reads": self.reads,
            "destructive": [a.destroys for a in self.destructive],
            "actions": [a.to_dict() for a in self.actions],
        }


def _diff(current: dict[str, Any], desired: dict[str, Any]) -> dict[str, list[Any]]:
    return {k: [current.get(k), v] for k, v in desired.items() if current.get(k) != v}


def masked_changes(
    spec: Any, section: tuple[str, ...], changes: dict[str, list[Any]]
) -> dict[str, list[Any]]:
    """``changes`` safe to show: a field that came from ``${env:...}`` is masked whole; in an
    ``environment`` map, a value is masked when the spec's value is a secret, its name looks like
    one (KEY, TOKEN, SECRET, PASSW, CREDENTIAL) or it is being removed (where it came from is
    unknown). A changed secret shows as ``*** (changed)``, so the plan still says what moves."""
    is_secret = getattr(spec, "is_secret", lambda _path: False)
    out: dict[str, list[Any]] = {}
    for name, (current, desired) in changes.items():
        if is_secret((*section, name)):
            out[name] = [MASK if current else current, f"{MASK} (changed)"]
        elif name == "environment" and isinstance(desired, dict):
            old = dict(current or {})
            hidden = {
                k
                for k in {*old, *desired}
                if is_secret((*section, name, k)) or is_secret_name(k) or k not in desired
            }
            out[name] = [
                {k: MASK if k in hidden else v for k, v in old.items()},
                {
                    k: (MASK if old.get(k) == v else f"{MASK} (changed)") if k in hidden else v
                    for k, v in desired.items()
                },
            ]
        else:
            out[name] = [current, desired]
    return out


def desired_job(
    spec: Any, runtime_identifier: str | None, addon_identifiers: list[str] | tuple[str, ...] = ()
) -> dict[str, Any]:
    j = spec.training.job
    return {
        "script": j.script,
        "arguments": j.arguments or "",
        "cpu": float(j.cpu),
        "memory": float(j.memory),
        "nvidia_gpu": int(j.gpus),
        "timeout": int(j.timeout),
        "environment": {k: str(v) for k, v in (j.environment or {}).items()},
        "runtime_identifier": runtime_identifier,
        "runtime_addon_identifiers": list(addon_identifiers),
    }


def desired_install_job(
    spec: Any, runtime_identifier: str | None, addon_identifiers: list[str] | tuple[str, ...] = ()
) -> dict[str, Any] | None:
    """The dependency job's fields, or None when the spec has no install step."""
    step = spec.training.install
    if step is None:
        return None
    return {
        "script": step.script,
        "arguments": step.arguments or "",
        "cpu": float(step.cpu),
        "memory": float(step.memory),
        "nvidia_gpu": 0,
        "timeout": int(step.timeout),
        "environment": {},
        "runtime_identifier": runtime_identifier,
        "runtime_addon_identifiers": list(addon_identifiers),
    }


def job_fields(job: Any, keys: Any) -> dict[str, Any]:
    """A job's fields as the spec would write them (its ownership mark left out)."""
    return {k: without_mark(job.environment) if k == "environment" else getattr(job, k) for k in keys}


def _job_action(resource: str, name: str, job: Any, want: dict[str, Any], spec: Any) -> Action:
    if job is None:
        return Action(resource, "create", name, "does not exist")
    changes = _diff(job_fields(job, want), want)
    section = ("training", "job") if resource == "job" else ("training", "install")
    return Action(
        resource,
        "update" if changes else "noop",
        name,
        _job_reason(changes),
        masked_changes(spec, section, changes),
        job.id,
    )


def _job_reason(changes: dict[str, list[Any]]) -> str:
    if not changes:
        return ""
    ignorable = [k for k in JOB_FIELDS_CML_MAY_IGNORE if k in changes]
    if not ignorable:
        return "differs"
    return (
        f"differs; if CML leaves {', '.join(ignorable)} unchanged after the PATCH, the job is replaced "
        "(a new job, dependent jobs moved to it, the old one deleted)"
    )


def file_changes(local_files: dict[str, bytes], remote: dict[str, int]) -> dict[str, list[Any]]:
    """Files to upload: missing remotely, or with another size ([remote size or None, local size])."""
    return {
        p: [remote.get(p), len(data)] for p, data in sorted(local_files.items()) if remote.get(p) != len(data)
    }


def plan(
    spec: Any, obs: Observed, *, local_files: dict[str, bytes] | None = None, retrain: bool = False
) -> Plan:
    actions: list[Action] = []
    dev, prd = spec.projects.dev, spec.projects.prd

    # Projects ---------------------------------------------------------------------------------
    for key, pspec, proj in (("dev", dev, obs.dev), ("prd", prd, obs.prd)):
        desired = {"description": pspec.description or "", "environment": dict(pspec.environment or {})}
        if proj is None:
            actions.append(Action(f"project.{key}", "create", pspec.name, "does not exist"))
        else:
            observed = {"description": proj.description, "environment": without_mark(proj.environment)}
            changes = masked_changes(spec, ("projects", key), _diff(observed, desired))
            kind = "update" if changes else "noop"
            actions.append(
                Action(f"project.{key}", kind, pspec.name, "differs" if changes else "", changes, proj.id)
            )
        if key == "dev" and local_files:
            changes = file_changes(local_files, obs.dev_files if proj is not None else {})
            kind = "upload" if changes else "noop"
            reason = f"{len(changes)} file(s) missing or changed" if changes else "up to date"
            actions.append(Action("files.dev", kind, pspec.name, reason, changes))
    code_changed = any(a.resource == "files.dev" and a.is_change for a in actions)

    # Dependency step, training job and its run -------------------------------------------------
    install_changed = False
    want_install = desired_install_job(spec, obs.runtime_identifier, obs.runtime_addons)
    if want_install is not None:
        actions.append(
            _job_action("job.install", spec.training.install.name, obs.install_job, want_install, spec)
        )
        install_changed = actions[-1].is_change
    job_spec = spec.training.job
    want_job = desired_job(spec, obs.runtime_identifier, obs.runtime_addons)
    actions.append(_job_action("job", job_spec.name, obs.job, want_job, spec))
    job_changed = actions[-1].is_change or install_changed

    if obs.active_run is not None and not retrain:
        actions.append(
            Action(
                "job_run",
                "wait",
                job_spec.name,
                f"run {obs.active_run.id} is {obs.active_run.status}",
                id=obs.active_run.id,
            )
        )
    elif retrain or code_changed or job_changed or obs.last_success_run is None or obs.mlflow_run is None:
        reason = (
            "--retrain"
            if retrain
            else "the code changed"
            if code_changed
            else "the job changed"
            if job_changed
            else "no successful run"
            if obs.last_success_run is None
            else "no MLflow run logged the model"
        )
        if want_install is not None:
            reason += f"; after {spec.training.install.name!r} installs the dependencies"
        actions.append(Action("job_run", "run", job_spec.name, reason))
    else:
        actions.append(
            Action(
                "job_run",
                "noop",
                job_spec.name,
                f"run {obs.last_success_run.id} succeeded",
                id=obs.last_success_run.id,
            )
        )
    training_pending = actions[-1].is_change

    # Registry ----------------------------------------------------------------------------------
    model_name = spec.model.registered_name
    if training_pending or obs.mlflow_run is None:
        actions.append(Action("model_version", "register", model_name, "after the training run"))
    elif obs.version is None:
        actions.append(
            Action("model_version", "register", model_name, f"MLflow run {obs.mlflow_run.id} not registered")
        )
    else:
        actions.append(
            Action(
                "model_version",
                "noop",
                model_name,
                f"version {obs.version.number}",
                id=obs.version.model_version_id,
            )
        )
    version_pending = actions[-1].is_change

    # PRD model endpoint, build, deployment ----------------------------------------------------
    d = spec.deployment
    if obs.model is None:
        actions.append(Action("model", "create", d.model_name, "does not exist"))
    else:
        changes = {}
        if obs.model.auth_enabled != bool(d.auth):
            changes["auth_enabled"] = [obs.model.auth_enabled, bool(d.auth)]
        if obs.registered is not None and obs.model.registered_model_id not in ("", obs.registered.model_id):
            changes["registered_model_id"] = [obs.model.registered_model_id, obs.registered.model_id]
        if changes:
            active = [obs.deployment] if obs.deployment is not None else []
            active += list(obs.other_deployments or [])
            serving = f" and stops its {len(active)} active deployment(s)" if active else ""
            actions.append(
                Action(
                    "model",
                    "replace",
                    d.model_name,
                    "authentication or registered model differs",
                    changes,
                    obs.model.id,
                    destroys=f"deletes PRD model {d.model_name!r} ({obs.model.id}){serving}: "
                    "its endpoint does not answer until the new build deploys",
                )
            )
        elif description_text(obs.model.description) != (d.description or ""):
            actions.append(
                Action(
                    "model",
                    "update",
                    d.model_name,
                    "differs",
                    {"description": [description_text(obs.model.description), d.description]},
                    obs.model.id,
                )
            )
        else:
            actions.append(Action("model", "noop", d.model_name, id=obs.model.id))
    model_replaced = actions[-1].kind in ("create", "replace")

    if version_pending or model_replaced or obs.build is None:
        actions.append(Action("build", "build", d.model_name, "no build of the selected version"))
    elif obs.build.status.lower() != "built":
        actions.append(
            Action(
                "build", "wait", d.model_name, f"build {obs.build.id} is {obs.build.status}", id=obs.build.id
            )
        )
    else:
        actions.append(Action("build", "noop", d.model_name, f"build {obs.build.id} built", id=obs.build.id))
    build_pending = actions[-1].kind == "build"

    want = {
        "cpu": float(d.cpu),
        "memory": float(d.memory),
        "replicas": int(d.replicas),
        "nvidia_gpu": int(d.gpus),
        "environment": {k: str(v) for k, v in (d.environment or {}).items()},
    }
    if build_pending or obs.deployment is None:
        reason = "new build" if build_pending else "no running deployment with the spec's resources"
        changes = {}
        if obs.other_deployments:
            old = obs.other_deployments[0]
            changes = _diff(
                {
                    "cpu": old.cpu,
                    "memory": old.memory,
                    "replicas": old.replicas,
                    "nvidia_gpu": old.nvidia_gpu,
                    "environment": old.environment,
                },
                want,
            )
        changes = masked_changes(spec, ("deployment",), changes)
        actions.append(Action("deployment", "deploy", d.model_name, reason, changes))
    elif obs.deployment.status.lower() != "deployed":
        actions.append(
            Action(
                "deployment",
                "wait",
                d.model_name,
                f"deployment {obs.deployment.id} is {obs.deployment.status}",
                id=obs.deployment.id,
            )
        )
    else:
        actions.append(
            Action(
                "deployment",
                "noop",
                d.model_name,
                f"deployment {obs.deployment.id} deployed",
                id=obs.deployment.id,
            )
        )
    if obs.other_deployments and not actions[-1].is_change:
        ids = ", ".join(dep.id for dep in obs.other_deployments)
        actions.append(
            Action(
                "old_deployments",
                "update",
                d.model_name,
                f"stop superseded deployment(s) {ids}",
                {"status": ["deployed", "stopped"]},
            )
        )

    return Plan(actions, runtime_identifier=obs.runtime_identifier, reads=obs.reads)
