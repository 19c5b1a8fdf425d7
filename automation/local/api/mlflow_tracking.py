"""MLflow's tracking server over the workspace's store, mounted at ``/mlflow`` of the local workspace.

In CML a workload logs through the workspace (``MLFLOW_TRACKING_URI=cml://localhost`` and
Cloudera's plugin), never to a file of its own. Here every workload gets
``MLFLOW_TRACKING_URI=<workspace>/mlflow/engines/<engine id>`` and ``MLFLOW_TRACKING_TOKEN`` (the
workspace key), and talks MLflow's REST protocol to MLflow's own server (its Flask app, run
in-process over the same SQLite store and artifact root the API uses). So any MLflow client works
in a job, from ``mlflow-skinny`` 2.19 (as in CML's runtimes) to the current release, and the run
ids a job prints are the ids ``GET /api/v2/projects/{id}/experiments/{id}/runs`` returns.

The engine part of the URI ties a run to its project: when a run is created through it, the
server adds the tags ``cml.project_id``, ``cml.job_run_id`` (or ``cml.application_id``) and
``cml.engine_id``, whatever client created the run. A run created through ``/mlflow`` itself (no
engine, e.g. MLflow's UI or a laptop) belongs to no project and is never a model candidate.

Every request needs ``Authorization: Bearer <workspace key>`` (what ``MLFLOW_TRACKING_TOKEN``
sends) or, from a browser, the web UI's session cookie: MLflow's own UI is served here too
(``/mlflow/``, its static files and its ``ajax-api`` calls, all relative to the mount). Artifacts are written by the client straight under the state folder's artifact root
(same machine), never to ``./mlruns``.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from automation.local.state.keys import keys_match
from automation.local.state.paths import StatePaths
from automation.local.state.sessions import UiSessions, cookie_value
from automation.local.workloads.engines import ENGINES, PREFIX, EngineContexts

CREATE_RUN = "/api/2.0/mlflow/runs/create"
MAX_CREATE_BODY = 1 << 20


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error_code": code, "message": message}, status_code=status)


class TrackingServer:
    """The ASGI app mounted at ``/mlflow``: auth, engine context, then MLflow's own Flask app."""

    def __init__(
        self,
        paths: StatePaths,
        key: str,
        engines: EngineContexts,
        sessions: UiSessions | None = None,
        cookie: str = "",
    ) -> None:
        self.paths = paths
        self.key = key
        self.engines = engines
        self.sessions = sessions
        self.cookie = cookie
        self._wsgi: Any = None
        self._load_lock = threading.Lock()

    def _load(self) -> Any:
        """Import MLflow's server once, configured for this workspace's store."""
        with self._load_lock:
            if self._wsgi is None:
                uri = self.paths.tracking_uri
                os.environ["_MLFLOW_SERVER_FILE_STORE"] = uri
                os.environ["_MLFLOW_SERVER_REGISTRY_STORE"] = uri
                os.environ["_MLFLOW_SERVER_ARTIFACT_ROOT"] = str(self.paths.artifacts)
                os.environ["_MLFLOW_SERVER_SERVE_ARTIFACTS"] = "false"
                from a2wsgi import WSGIMiddleware
                from mlflow.server import app as flask_app

                self._wsgi = WSGIMiddleware(flask_app, workers=8)
        return self._wsgi

    def _authorized(self, scope: Scope) -> bool:
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                return scheme.lower() == "bearer" and keys_match(token.strip(), self.key)
        return self.sessions is not None and self.sessions.valid(cookie_value(scope["headers"], self.cookie))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if not self._authorized(scope):
            await _error(
                401,
                "UNAUTHENTICATED",
                "send 'Authorization: Bearer <workspace key>' (MLFLOW_TRACKING_TOKEN), "
                "or log in to the web UI first (cmlops local ui)",
            )(scope, receive, send)
            return
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        rest = path[len(root) :] if root and path.startswith(root) else path
        prefix = root or PREFIX
        tags: dict[str, str] | None = None
        if rest.startswith(ENGINES):
            engine, _, tail = rest[len(ENGINES) :].partition("/")
            tags = self.engines.tags(engine) or {"cml.engine_id": engine}
            prefix = f"{prefix}{ENGINES}{engine}"
            rest = "/" + tail
        from anyio import to_thread

        wsgi = self._wsgi or await to_thread.run_sync(self._load)
        child = dict(scope, root_path=prefix, path=prefix + rest, raw_path=(prefix + rest).encode())
        if tags and scope["method"] == "POST" and rest == CREATE_RUN:
            body = await _tagged_body(receive, tags)
            headers = [(k, v) for k, v in scope["headers"] if k != b"content-length"]
            child["headers"] = [*headers, (b"content-length", str(len(body)).encode())]
            receive = _replay(body, receive)
        await wsgi(child, receive, send)


async def _tagged_body(receive: Receive, tags: dict[str, str]) -> bytes:
    """Read a runs/create body and add the engine's tags (a tag the client set itself is kept)."""
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
        if len(body) > MAX_CREATE_BODY:
            break
    try:
        doc = json.loads(body or b"{}")
        given = {t.get("key") for t in doc.get("tags", []) if isinstance(t, dict)}
        doc.setdefault("tags", [])
        doc["tags"] += [{"key": k, "value": v} for k, v in tags.items() if k not in given]
        body = json.dumps(doc).encode()
    except (ValueError, AttributeError, TypeError):
        pass  # MLflow answers the malformed body itself
    return body


def _replay(body: bytes, receive: Receive) -> Receive:
    """Hand the new body to the app once; after that, wait on the real connection (disconnects)."""
    sent = False

    async def replay() -> Any:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay
