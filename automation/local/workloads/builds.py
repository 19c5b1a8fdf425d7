"""Model builds: resolve a registry version to ``models:/<name>/<version>`` and check it loads.

A file-based build (``file_path`` + ``function_name``, as AMP ``build_model`` tasks make) is
checked in a subprocess instead (``python -m <serving>.function``: the file exists in the project
folder and importing it, with that folder as cwd and on sys.path, defines the callable), so user
code never runs in the API server.

Statuses ``queued`` -> ``pending`` -> ``built`` or ``build failed`` (lowercase free text, as CML).
The check is ``check_model(model_uri, tracking_uri, registry_uri)`` of the model-serving package
(``automation.local.serving``), imported lazily so the server starts without it. The API has no
field for a failure reason and we invent none: the reason goes to the server log and the build's
log (``cmlops local logs <build_id>``), and is appended to ``comment`` as ``" [build failed: why]"``.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from automation.local.core.ids import new_uuid
from automation.local.core.timefmt import now, rfc3339
from automation.local.workloads.runtime.workload_env import service_environment

if TYPE_CHECKING:
    from automation.local.workspace import Workspace

KIND = "build"
ACTIVE = frozenset({"queued", "pending"})
FUNCTION_CHECK_TIMEOUT = 300.0


class BuildWorker:
    """Runs checks one at a time in the background (a check loads the model into this process)."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.log = ws.log.getChild("builds")
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="build")
        self._lock = threading.Lock()

    def create(self, model: dict[str, Any], fields: dict[str, Any], model_uri: str) -> dict[str, Any]:
        ts = now()
        build_id = new_uuid()
        doc = {
            "id": build_id,
            "model_id": model["id"],
            "project_id": model["project_id"],
            "status": "queued",
            "created_at": ts,
            "updated_at": ts,
            "built_at": None,
            "model_uri": model_uri,
            "failure_reason": "",
            **fields,
        }
        self.ws.store.insert(KIND, build_id, doc, parent=model["id"])
        self.log.info("build %s of model %s queued for %s", build_id, model["id"], model_uri)
        self._pool.submit(self._build, build_id)
        return doc

    def _set(self, build_id: str, **changes: Any) -> dict[str, Any] | None:
        changes["updated_at"] = now()
        return self.ws.store.update(KIND, build_id, changes)

    def _note(self, build_id: str, text: str) -> None:
        with (self.ws.paths.build_logs / f"{build_id}.log").open("a", encoding="utf-8") as fh:
            fh.write(f"{rfc3339(now())} {text}\n")

    def _check(self, model_uri: str) -> str | None:
        """None when the model loads; otherwise the reason it does not."""
        module_name = self.ws.serving_module
        try:
            serving = importlib.import_module(module_name)
        except ImportError as exc:
            return f"the model server package {module_name} is not available ({exc})"
        check = getattr(serving, "check_model", None)
        if check is None:
            return f"{module_name} has no check_model function"
        expected = getattr(serving, "ModelCheckError", None)
        uri = self.ws.mlflow.uri
        try:
            check(model_uri, uri, uri)
        except Exception as exc:
            if expected is not None and isinstance(exc, expected):
                reason = str(exc) or type(exc).__name__
            else:
                reason = f"{type(exc).__name__}: {exc}"
            return reason + self._python_mismatch(model_uri)
        return None

    def _python_mismatch(self, model_uri: str) -> str:
        """Why a model pickled by another Python may not load here (the local workspace serves registry
        models with cmlops' own interpreter; CML builds them in the runtime they were trained on)."""
        try:
            import mlflow

            mlflow.set_tracking_uri(self.ws.mlflow.uri)
            info = mlflow.models.get_model_info(model_uri)
            trained = ".".join(
                str(info.flavors.get("python_function", {}).get("python_version", "")).split(".")[:2]
            )
        except Exception:
            return ""
        here = f"{sys.version_info[0]}.{sys.version_info[1]}"
        if not trained or trained == here:
            return ""
        return (
            f" (the model was saved by Python {trained}; the local workspace serves registry models with "
            f"Python {here}, and code pickled by value, such as a PythonModel class defined in the "
            f"training script, does not load across Python versions: train it on a Python {here} runtime)"
        )

    def _check_function(self, doc: dict[str, Any]) -> str | None:
        """None when the project file defines the callable; otherwise the reason (run in a subprocess)."""
        project_dir = self.ws.paths.project_dir(doc["project_id"])
        cmd = [
            sys.executable,
            "-m",
            f"{self.ws.serving_module}.function",
            str(project_dir),
            doc["file_path"],
            doc["function_name"],
        ]
        try:
            done = subprocess.run(
                cmd,
                cwd=self.ws.paths.root,
                env=service_environment([self.ws.mlflow.env()]),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=FUNCTION_CHECK_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return f"importing {doc['file_path']!r} took over {FUNCTION_CHECK_TIMEOUT:.0f} s"
        if done.returncode == 0:
            return None
        lines = done.stderr.decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else f"the build check exited with code {done.returncode}"

    def _build(self, build_id: str) -> None:
        try:
            doc = self._set(build_id, status="pending")
            if doc is None:
                return
            if doc.get("file_path"):
                self._note(build_id, f"checking {doc['file_path']}:{doc['function_name']}")
                reason = self._check_function(doc)
            else:
                self._note(build_id, f"checking {doc['model_uri']}")
                self.ws.mlflow.wait_ready()
                reason = self._check(doc["model_uri"])
        except Exception as exc:  # a bug here must not leave the build pending forever
            self.log.exception("build %s crashed", build_id)
            reason = f"internal error: {type(exc).__name__}: {exc}"
        if self.ws.store.get(KIND, build_id) is None:
            return  # deleted meanwhile
        if reason is None:
            doc = self._set(build_id, status="built", built_at=now())
            self._note(build_id, "built")
            self.log.info("build %s built", build_id)
            if doc and doc.get("auto_deploy_model"):
                self._auto_deploy(doc)
        else:
            self._set(build_id, status="build failed", failure_reason=reason)
            self._note(build_id, f"build failed: {reason}")
            self.log.warning("build %s failed: %s", build_id, reason)

    def _auto_deploy(self, build: dict[str, Any]) -> None:
        model = self.ws.store.get("model", build["model_id"])
        if model is None:
            return
        config = build.get("auto_deployment_config") or {}
        self.ws.deployments.create(model, build, config)

    def recover(self) -> None:
        """Builds left queued/pending by a stopped server are checked again."""
        for doc in self.ws.store.list(KIND):
            if doc["status"] in ACTIVE:
                self._set(doc["id"], status="queued")
                self._pool.submit(self._build, doc["id"])

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
