"""Access to the workspace's MLflow store, imported lazily so the server answers /health at once.

When ``mlflow.db`` does not exist yet, the server creates it in a background thread at start and
job runs wait for that, so a job's MLflow never races the server on the first schema migration.
Otherwise MLflow is imported on first use only (a restart then spends no CPU on it while it
relaunches deployments).

Ids: experiments and experiment runs are shown with MLflow's own ids (as in CML, where the id a
job's ``mlflow.active_run().info.run_id`` prints is the id API v2 returns: one id per run).
Registered models and model versions get 4x4 public ids; ``id_map`` in ``workspace.db`` ties them to
MLflow's names and version numbers.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from typing import Any

from automation.local.core.problems import ApiProblem, bad_request, not_found, unavailable
from automation.local.state.paths import StatePaths
from automation.local.state.store import Store

PROJECT_TAG = "cml.project_id"
JOB_RUN_TAG = "cml.job_run_id"
ARTIFACT_ROOT_ENV = "_MLFLOW_SERVER_ARTIFACT_ROOT"  # MLflow's hook for the default artifact root
READY_TIMEOUT = 180.0
_RUN_ID = re.compile(r"^[0-9a-f]{32}$")

KIND_MODEL = "registered_model"
KIND_VERSION = "model_version"


class MlflowBridge:
    """One MlflowClient for the server, plus the public-id mapping around it."""

    def __init__(self, paths: StatePaths, store: Store, log: logging.Logger) -> None:
        self.uri = paths.tracking_uri
        # A store that exists already needs no first migration: nothing has to wait for warm-up.
        self.existed = paths.mlflow_db.exists()
        self.artifact_root = str(paths.artifacts)
        self.store = store
        self.log = log
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self._start_lock = threading.Lock()
        self._client: Any = None
        self._started = False
        self.error: str | None = None

    # --- life cycle ------------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        """What a job run or a model server needs to find this store."""
        return {
            "MLFLOW_TRACKING_URI": self.uri,
            "MLFLOW_REGISTRY_URI": self.uri,
            ARTIFACT_ROOT_ENV: self.artifact_root,
        }

    def warm_up(self) -> None:
        """Import MLflow and create/migrate the store; safe to call from several threads."""
        with self._lock:
            if self._ready.is_set():
                return
            try:
                os.environ[ARTIFACT_ROOT_ENV] = self.artifact_root
                import mlflow
                from mlflow.tracking import MlflowClient

                mlflow.set_tracking_uri(self.uri)
                mlflow.set_registry_uri(self.uri)
                client = MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)
                client.search_experiments(max_results=1)
                client.search_registered_models(max_results=1)
                self._client = client
                self.log.info("MLflow store ready at %s (artifacts under %s)", self.uri, self.artifact_root)
            except Exception as exc:  # MLflow missing or the store broken: the rest still works
                self.error = f"{type(exc).__name__}: {exc}"
                self.log.error("MLflow store unavailable: %s", self.error)
            finally:
                self._ready.set()

    def start_warm_up(self) -> None:
        """Warm up in a background thread (once)."""
        with self._start_lock:
            if self._started:
                return
            self._started = True
        threading.Thread(target=self.warm_up, name="mlflow-warm-up", daemon=True).start()

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> bool:
        if not self._ready.is_set():
            self.start_warm_up()
        return self._ready.wait(timeout)

    @property
    def ready(self) -> bool:
        return self._ready.is_set() and self._client is not None

    def client(self) -> Any:
        if not self.wait_ready():
            raise unavailable("the MLflow store is still starting; retry in a few seconds")
        if self._client is None:
            raise unavailable(f"the MLflow store is unavailable: {self.error}")
        return self._client

    # --- ids ---------------------------------------------------------------------------------

    def experiment_public(self, ml_id: str) -> str:
        return str(ml_id)

    def run_public(self, ml_id: str) -> str:
        return str(ml_id)

    def model_public(self, name: str) -> str:
        return self.store.public_id(KIND_MODEL, name)

    def version_public(self, name: str, version: int | str) -> str:
        return self.store.public_id(KIND_VERSION, json.dumps([name, str(version)]))

    def experiment_internal(self, ident: str) -> str:
        if ident.isdigit():
            return ident
        raise not_found("experiment", ident)

    def run_internal(self, ident: str) -> str:
        if _RUN_ID.match(ident):
            return ident
        raise not_found("experiment run", ident)

    def model_name(self, model_id: str) -> str:
        name = self.store.internal_id(KIND_MODEL, model_id)
        if name is None:
            raise not_found("registered model", model_id)
        return name

    def version_key(self, version_id: str) -> tuple[str, str]:
        raw = self.store.internal_id(KIND_VERSION, version_id)
        if raw is None:
            raise not_found("registered model version", version_id)
        name, version = json.loads(raw)
        return str(name), str(version)

    def forget_model(self, name: str) -> None:
        self.store.forget_id(KIND_MODEL, internal_id=name)

    def forget_version(self, name: str, version: str) -> None:
        self.store.forget_id(KIND_VERSION, internal_id=json.dumps([name, str(version)]))


def translate(exc: Exception, kind: str, ident: str) -> ApiProblem:
    """Map an MlflowException to an API problem (never a stack trace)."""
    code = getattr(exc, "error_code", "")
    message = getattr(exc, "message", None) or str(exc)
    if code in ("RESOURCE_DOES_NOT_EXIST", "NOT_FOUND"):
        return not_found(kind, ident)
    if code in ("INVALID_PARAMETER_VALUE", "BAD_REQUEST", "RESOURCE_ALREADY_EXISTS"):
        return bad_request(message)
    return ApiProblem(500, 13, f"MLflow store error: {message}")
