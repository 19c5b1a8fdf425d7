"""The model registry: MLflow's registry as typed values (``api/render.py`` gives them API v2 shapes).

Version status: MLflow's ``READY`` is shown as ``REGISTERED``, ``PENDING_REGISTRATION`` as
``REGISTERING`` and ``FAILED_REGISTRATION`` as ``FAILED`` (with ``error_message``). The swagger does
not enumerate them; with the local SQLite store registration is synchronous, so a version created
through the API is ``REGISTERED`` in the answer itself. Model versions are listed newest first, so
``model_versions[0]`` is the latest, as CML samples assume.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from automation.local.core.listing import apply, parse_list_query
from automation.local.core.problems import bad_request, not_found
from automation.local.core.shapes import short_user
from automation.local.domain.experiments import Page
from automation.local.state.mlflow_bridge import (
    KIND_MODEL,
    KIND_VERSION,
    PROJECT_TAG,
    MlflowBridge,
    translate,
)

VERSION_STATUS = {
    "READY": "REGISTERED",
    "PENDING_REGISTRATION": "REGISTERING",
    "FAILED_REGISTRATION": "FAILED",
}
VISIBILITIES = ("PRIVATE", "PUBLIC")
CREATOR_KEYS = ("creator.email", "creator.name", "creator.username")
MODEL_SORT_KEYS = (
    "created_at",
    "description",
    "kernel",
    "name",
    "script",
    "status",
    "updated_at",
    *CREATOR_KEYS,
)
VERSION_SORT_KEYS = (*MODEL_SORT_KEYS, "versions", "version_number")
_BAD_NAME = re.compile(r"['`\"\\]")
_ALL = 50_000


def _escape(name: str) -> str:
    return name.replace("'", "\\'")


def versions_of(client: Any, name: str) -> list[Any]:
    return list(client.search_model_versions(f"name = '{_escape(name)}'", max_results=_ALL))


def _visibility(bridge: MlflowBridge, model_id: str) -> str:
    return bridge.store.id_meta(KIND_MODEL, model_id).get("visibility", "PRIVATE")


@dataclass(frozen=True)
class ModelVersion:
    """A registered version with its public ids, its project and (if it still exists) its MLflow run."""

    model_id: str
    id: str
    entity: Any  # mlflow.entities.model_registry.ModelVersion
    status: str  # REGISTERED, REGISTERING or FAILED
    project_id: str
    run: Any | None  # mlflow.entities.Run
    run_id: str  # the run's public id ("" when the version has none)
    experiment_id: str  # the run's experiment's public id ("" without a run)


@dataclass(frozen=True)
class RegisteredModel:
    """A registered model with its public id, visibility and version count; ``versions`` is one page of
    its versions when it was read on its own (None in a listing of models)."""

    id: str
    entity: Any  # mlflow.entities.model_registry.RegisteredModel
    visibility: str
    count: int
    versions: list[ModelVersion] | None = None
    next_page_token: str = ""


def _version(bridge: MlflowBridge, client: Any, mv: Any) -> ModelVersion:
    model_id = bridge.model_public(mv.name)
    version_id = bridge.version_public(mv.name, mv.version)
    meta = bridge.store.id_meta(KIND_VERSION, version_id)
    run = None
    if mv.run_id:
        try:
            run = client.get_run(mv.run_id)
        except Exception:  # the run was deleted: keep showing the version
            run = None
    return ModelVersion(
        model_id=model_id,
        id=version_id,
        entity=mv,
        status=VERSION_STATUS.get(str(mv.status), str(mv.status)),
        project_id=meta.get("project_id") or (run.data.tags.get(PROJECT_TAG, "") if run else ""),
        run=run,
        run_id=bridge.run_public(mv.run_id) if mv.run_id else "",
        experiment_id=bridge.experiment_public(run.info.experiment_id) if run else "",
    )


def _model(bridge: MlflowBridge, rm: Any, count: int) -> RegisteredModel:
    model_id = bridge.model_public(rm.name)
    return RegisteredModel(model_id, rm, _visibility(bridge, model_id), count)


def _version_field(mv: Any, key: str) -> Any:
    if key in ("versions", "version_number"):
        return int(mv.version)
    if key == "created_at":
        return mv.creation_timestamp
    if key == "updated_at":
        return mv.last_updated_timestamp
    if key == "creator_id" or key.startswith("creator."):
        return short_user()["username" if key == "creator_id" else key.split(".", 1)[1]]
    if key == "status":
        return VERSION_STATUS.get(str(mv.status), str(mv.status))
    if key == "description":
        return mv.description
    return ""


def get_model(bridge: MlflowBridge, model_id: str, params: Mapping[str, str]) -> RegisteredModel:
    """RegisteredModel with one page of its versions (newest first unless ``sort`` says otherwise)."""
    name = bridge.model_name(model_id)
    client = bridge.client()
    try:
        rm = client.get_registered_model(name)
    except Exception as exc:
        raise translate(exc, "registered model", model_id) from None
    query = parse_list_query(
        params,
        filter_keys=("version_number", "creator_id"),
        sort_keys=VERSION_SORT_KEYS,
        default_sort="-versions",
    )
    search = dict(query.search_filter)
    exact_version = search.pop("version_number", None)  # a number: matched exactly, not as a substring
    all_versions = versions_of(client, name)
    versions = [v for v in all_versions if exact_version is None or str(v.version) == str(exact_version)]
    page, token = apply(versions, replace(query, search_filter=search), _version_field)
    model = _model(bridge, rm, len(all_versions))
    return replace(model, versions=[_version(bridge, client, mv) for mv in page], next_page_token=token)


def _model_field(rm: Any, key: str) -> Any:
    if key in ("model_name", "name"):
        return rm.name
    if key == "created_at":
        return rm.creation_timestamp
    if key == "updated_at":
        return rm.last_updated_timestamp
    if key == "description":
        return rm.description
    if key == "creator_id" or key.startswith("creator."):
        return short_user()["username" if key == "creator_id" else key.split(".", 1)[1]]
    return ""


def list_models(bridge: MlflowBridge, params: Mapping[str, str]) -> Page[RegisteredModel]:
    query = parse_list_query(params, filter_keys=("model_name", "creator_id"), sort_keys=MODEL_SORT_KEYS)
    client = bridge.client()
    models: list[Any] = []
    token = None
    while True:
        page = client.search_registered_models(max_results=1000, page_token=token)
        models.extend(page)
        token = page.token
        if not token:
            break
    page, next_token = apply(models, query, _model_field)
    return Page([_model(bridge, rm, len(versions_of(client, rm.name))) for rm in page], next_token)


def _tag_dict(tags: list[dict[str, Any]] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for tag in tags or []:
        key = str(tag.get("key") or "").strip()
        if not key:
            raise bad_request("tags: every tag needs a non-empty key")
        out[key] = str(tag.get("value") or "")
    return out


def create_version(
    bridge: MlflowBridge,
    *,
    project_id: str,
    experiment_id: str,
    run_id: str,
    model_path: str,
    model_name: str,
    tags: list[dict[str, Any]] | None,
    description: str | None,
    notes: str | None,
    visibility: str | None,
) -> RegisteredModel:
    """Register ``runs:/<run>/<model_path>`` as a new version of ``model_name`` (creating the model)."""
    import mlflow

    if _BAD_NAME.search(model_name):
        raise bad_request("model_name must not contain quotes, backticks or backslashes")
    vis = visibility or "PRIVATE"  # an enum: CML takes the exact (uppercase) spelling only
    if vis not in VISIBILITIES:
        raise bad_request(f"visibility must be one of {', '.join(VISIBILITIES)}, got {visibility!r}")
    client = bridge.client()
    ml_run = bridge.run_internal(run_id)
    try:
        run = client.get_run(ml_run)
    except Exception as exc:
        raise translate(exc, "experiment run", run_id) from None
    if experiment_id and bridge.experiment_internal(experiment_id) != run.info.experiment_id:
        raise bad_request(f"run {run_id!r} does not belong to experiment {experiment_id!r}")
    version_tags = _tag_dict(tags)
    path = model_path.strip("/")
    logged = _run_models(client, run)
    if path not in logged:
        known = ", ".join(sorted(logged)) or "none"
        raise bad_request(
            f"run {run_id!r} has no model at model_path {model_path!r} (models of this run: {known}); "
            "model_path is the name given to log_model, e.g. mlflow.sklearn.log_model(model, name='model')"
        )
    try:
        mv = mlflow.register_model(f"runs:/{ml_run}/{path}", model_name, tags=version_tags or None)
    except Exception as exc:
        raise translate(exc, "registered model", model_name) from None
    if notes:
        mv = client.update_model_version(model_name, mv.version, description=notes)
    if description:
        client.update_registered_model(model_name, description=description)
    model_id = bridge.model_public(model_name)
    if visibility or not bridge.store.id_meta(KIND_MODEL, model_id):
        bridge.store.set_id_meta(KIND_MODEL, model_id, {"visibility": vis})
    version_id = bridge.version_public(model_name, mv.version)
    bridge.store.set_id_meta(KIND_VERSION, version_id, {"project_id": project_id, "model_path": path})
    return get_model(bridge, model_id, {})


def _run_models(client: Any, run: Any) -> set[str]:
    """Model paths of a run: logged models (MLflow 3) and run artifact folders holding an MLmodel."""
    names: set[str] = set()
    outputs = getattr(run, "outputs", None)
    for output in getattr(outputs, "model_outputs", None) or []:
        try:
            names.add(client.get_logged_model(output.model_id).name)
        except Exception:  # a deleted logged model is simply not offered
            continue
    try:
        for item in client.list_artifacts(run.info.run_id):
            if item.is_dir and any(
                a.path.endswith("/MLmodel") for a in client.list_artifacts(run.info.run_id, item.path)
            ):
                names.add(item.path)
    except Exception:  # no artifact store access: rely on logged models
        pass
    return names


def find_version(bridge: MlflowBridge, model_id: str, version_id: str) -> tuple[str, Any]:
    name = bridge.model_name(model_id)
    vname, version = bridge.version_key(version_id)
    if vname != name:
        raise not_found("registered model version", version_id)
    try:
        return name, bridge.client().get_model_version(name, version)
    except Exception as exc:
        raise translate(exc, "registered model version", version_id) from None


def get_version(bridge: MlflowBridge, model_id: str, version_id: str) -> ModelVersion:
    _, mv = find_version(bridge, model_id, version_id)
    return _version(bridge, bridge.client(), mv)


def update_version(
    bridge: MlflowBridge,
    model_id: str,
    version_id: str,
    *,
    notes: str | None,
    tags: list[dict[str, Any]] | None,
) -> ModelVersion:
    """Notes become the version's description; ``tags`` replace its user tags (``mlflow.*`` kept)."""
    name, mv = find_version(bridge, model_id, version_id)
    client = bridge.client()
    if notes is not None:
        client.update_model_version(name, mv.version, description=notes)
    if tags is not None:
        wanted = _tag_dict(tags)
        for key in list(mv.tags):
            if key not in wanted and not key.startswith("mlflow."):
                client.delete_model_version_tag(name, mv.version, key)
        for key, value in wanted.items():
            client.set_model_version_tag(name, mv.version, key, value)
    return _version(bridge, client, client.get_model_version(name, mv.version))


def update_model(
    bridge: MlflowBridge,
    model_id: str,
    *,
    description: str | None,
    visibility: str | None,
) -> RegisteredModel:
    name = bridge.model_name(model_id)
    if visibility:
        vis = visibility.upper()
        if vis not in VISIBILITIES:
            raise bad_request(f"visibility must be one of {', '.join(VISIBILITIES)}, got {visibility!r}")
        bridge.store.set_id_meta(KIND_MODEL, model_id, {"visibility": vis})
    if description is not None:
        bridge.client().update_registered_model(name, description=description)
    return get_model(bridge, model_id, {})


def delete_version(bridge: MlflowBridge, model_id: str, version_id: str) -> None:
    name, mv = find_version(bridge, model_id, version_id)
    bridge.client().delete_model_version(name, mv.version)
    bridge.forget_version(name, mv.version)


def delete_model(bridge: MlflowBridge, model_id: str) -> None:
    name = bridge.model_name(model_id)
    client = bridge.client()
    versions = versions_of(client, name)
    try:
        client.delete_registered_model(name)
    except Exception as exc:
        raise translate(exc, "registered model", model_id) from None
    for mv in versions:
        bridge.forget_version(name, mv.version)
    bridge.forget_model(name)


def resolve_version(bridge: MlflowBridge, version_id: str) -> tuple[str, str, str]:
    """A build's ``registered_model_version_id`` -> (model name, version, ``models:/name/version``)."""
    name, version = bridge.version_key(version_id)
    try:
        bridge.client().get_model_version(name, version)
    except Exception as exc:
        raise translate(exc, "registered model version", version_id) from None
    return name, version, f"models:/{name}/{version}"
