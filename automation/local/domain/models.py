"""Model endpoint rules: models, their builds and their deployments.

Model names are unique within a project (409, code 6), so a retried create cannot make a twin.
``auth_enabled`` is the opposite of ``disable_authentication``; ``auto_deploy_model`` needs
``auto_build_model``, which needs ``auto_build_config``; an auto build that is refused takes the
new model with it (all or nothing, so a retry is clean). A build comes from the registry
(``registered_model_version_id``, a version of the model's registered model when it has one) or
from a project file (``file_path`` + ``function_name``, a Python identifier); its
``runtime_identifier`` is required and in the catalogue. Only a ``built`` build deploys or
restarts (400, FAILED_PRECONDITION). Resources and replicas are non-negative.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from automation.local.core.files import resolve_inside
from automation.local.core.ids import new_access_key, new_uuid
from automation.local.core.problems import already_exists, bad_request, failed_precondition
from automation.local.core.shapes import require_text
from automation.local.core.timefmt import now
from automation.local.domain.fields import copy_set, non_negative, refuse_addons, require_runtime
from automation.local.domain.registry import resolve_version
from automation.local.state import records
from automation.local.state.records import Build, Deployment, Model, Project

if TYPE_CHECKING:
    from automation.local.workspace import Workspace

DEPLOYMENT_NUMBERS = ("cpu", "memory", "nvidia_gpus", "replicas")
BUILD_TEXT = ("comment", "kernel", "model_root_dir", "build_script_path")
Spec = Mapping[str, Any]


def _check_unique(ws: Workspace, project_id: str, name: str, except_id: str = "") -> None:
    for other in records.load_all(ws.store, Model, project_id):
        if other.id != except_id and other.name == name:
            raise already_exists(
                f"a model named {name!r} already exists in project {project_id!r} (id {other.id})"
            )


def create(
    ws: Workspace, project: Project, given: Spec, build: Spec | None = None, deploy: Spec | None = None
) -> Model:
    """A new model endpoint; with ``auto_build_model`` its first build (and deployment) too."""
    name = require_text(given.get("name"), "name")
    if given.get("registered_model_id"):
        ws.mlflow.model_name(given["registered_model_id"])  # 404 when unknown
    if given.get("auto_deploy_model") and not given.get("auto_build_model"):
        raise bad_request("auto_deploy_model needs auto_build_model")
    if given.get("auto_build_model") and build is None:
        raise bad_request("auto_build_model needs auto_build_config")
    ts = now()
    model = Model(
        id=new_uuid(),
        project_id=project.id,
        name=name,
        description=given.get("description", ""),
        access_key=new_access_key(),
        auth_enabled=not given.get("disable_authentication", False),
        registered_model_id=given.get("registered_model_id", ""),
        visibility=given.get("visibility") or "private",
        run_as=given.get("run_as", 0),
        created_at=ts,
        updated_at=ts,
    )
    with ws.store.lock:
        _check_unique(ws, project.id, name)
        records.insert(ws.store, model)
    if given.get("auto_build_model") and build is not None:
        try:
            start_build(ws, model, build, bool(given.get("auto_deploy_model")), deploy)
        except Exception:
            records.remove(ws.store, Model, model.id)  # all or nothing, so a retry is clean
            raise
    return model


def update(ws: Workspace, model: Model, given: Spec) -> Model:
    changes: dict[str, Any] = {}
    if given.get("name") is not None:
        changes["name"] = require_text(given["name"], "name")
    changes.update(copy_set(given, ("description", "visibility", "run_as")))
    if given.get("default_resources") is not None:
        resources = dict(model.default_resources)
        for key, value in given["default_resources"].items():
            if value is not None:
                non_negative(value, f"default_resources.{key}")
                resources[key] = value
        changes["default_resources"] = resources
    if given.get("default_replication_policy") is not None:
        policy = {k: v for k, v in given["default_replication_policy"].items() if v is not None}
        non_negative(policy.get("num_replicas"), "default_replication_policy.num_replicas")
        changes["default_replication_policy"] = {**model.default_replication_policy, **policy}
    model = model.with_(**changes, updated_at=now())
    with ws.store.lock:
        _check_unique(ws, model.project_id, model.name, except_id=model.id)
        records.save(ws.store, model)
    return model


# --- builds --------------------------------------------------------------------------------------


def deployment_fields(spec: Spec | None) -> dict[str, Any]:
    """A deployment request (ShortCreateModelDeployment) as the deployment supervisor takes it."""
    spec = spec or {}
    for key in DEPLOYMENT_NUMBERS:
        non_negative(spec.get(key), key)
    return {key: spec.get(key) for key in DEPLOYMENT_NUMBERS} | {"environment": spec.get("environment") or {}}


def _build_fields(spec: Spec, auto_deploy: bool, deploy: Spec | None) -> dict[str, Any]:
    return {
        **{key: spec.get(key) or "" for key in BUILD_TEXT},
        "runtime_identifier": spec.get("runtime_identifier"),
        "runtime_addon_identifiers": spec.get("runtime_addon_identifiers") or [],
        "auto_deploy_model": auto_deploy,
        "auto_deployment_config": deployment_fields(deploy),
    }


def start_build(ws: Workspace, model: Model, spec: Spec, auto_deploy: bool, deploy: Spec | None) -> Build:
    """Validate a build request (ShortCreateModelBuild) and queue it."""
    version_id = spec.get("registered_model_version_id") or ""
    if not version_id and not (spec.get("file_path") or spec.get("function_name")):
        raise bad_request("registered_model_version_id (or file_path and function_name) is required")
    if not spec.get("runtime_identifier"):
        raise bad_request("runtime_identifier is required")
    require_runtime(spec["runtime_identifier"])
    refuse_addons(spec.get("runtime_addon_identifiers"))
    fields = _build_fields(spec, auto_deploy, deploy)
    if not version_id:
        fields.update(_file_source(ws, model, spec), registered_model_version_id="")
        return ws.builds.create(model, fields, "")
    name, _, model_uri = resolve_version(ws.mlflow, version_id)
    if model.registered_model_id and ws.mlflow.model_public(name) != model.registered_model_id:
        raise bad_request(
            f"registered_model_version_id {version_id!r} is a version of "
            f"{name!r}, not of the model's registered model {model.registered_model_id!r}"
        )
    fields.update(file_path="", function_name="", registered_model_version_id=version_id)
    return ws.builds.create(model, fields, model_uri)


def _file_source(ws: Workspace, model: Model, spec: Spec) -> dict[str, str]:
    """A build of ``function_name`` in the project file ``file_path`` (checked by the build itself)."""
    for key in ("file_path", "function_name"):
        if not (spec.get(key) or "").strip():
            raise bad_request(f"{key} is required for a file-based build (file_path and function_name)")
    function_name = spec["function_name"]
    if not function_name.isidentifier():
        raise bad_request(f"function_name {function_name!r} is not a Python identifier")
    root = ws.paths.project_dir(model.project_id)
    resolve_inside(root, spec["file_path"], field="file_path", allow_root=False)
    if spec.get("build_script_path"):
        resolve_inside(root, spec["build_script_path"], field="build_script_path", allow_root=False)
    return {"file_path": spec["file_path"], "function_name": function_name}


# --- deployments ---------------------------------------------------------------------------------


def deploy(ws: Workspace, model: Model, build: Build, spec: Spec | None) -> Deployment:
    if not build.built:
        raise failed_precondition(f"build {build.id!r} cannot be deployed: its status is {build.status!r}")
    return ws.deployments.create(model, build, deployment_fields(spec))


def restart(ws: Workspace, build: Build, deployment: Deployment) -> Deployment | None:
    if not build.built:
        raise failed_precondition(f"build {build.id!r} is not built (status {build.status!r})")
    return ws.deployments.restart(deployment.id)


def stop(ws: Workspace, deployment: Deployment) -> Deployment | None:
    """Stopping a deployment that is not running leaves it as it is."""
    return ws.deployments.stop(deployment.id)
