"""The FastAPI application: bearer auth on /api/v2, API v2 error bodies, the routers, start/stop."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from automation.local.api import applications as api_applications
from automation.local.api import auth as api_auth
from automation.local.api import builds as api_builds
from automation.local.api import experiments as api_experiments
from automation.local.api import files as api_files
from automation.local.api import jobs as api_jobs
from automation.local.api import models as api_models
from automation.local.api import projects as api_projects
from automation.local.api import pythonclient as api_pythonclient
from automation.local.api import registry as api_registry
from automation.local.api import runtimeaddons as api_runtimeaddons
from automation.local.api import runtimes as api_runtimes
from automation.local.api.mlflow_tracking import PREFIX as TRACKING_PREFIX
from automation.local.core.problems import (
    INTERNAL,
    INVALID_ARGUMENT,
    NOT_FOUND,
    UNAUTHENTICATED,
    UNIMPLEMENTED,
    ApiProblem,
    error_body,
)
from automation.local.core.timefmt import rfc3339
from automation.local.state.keys import keys_match
from automation.local.ui import auth as ui_auth
from automation.local.ui import pages as ui_pages
from automation.local.workspace import Workspace

API_PREFIX = "/api/v2"
PUBLIC_PATHS = frozenset({api_pythonclient.PATH})  # pip fetches the client package without a key


class BearerAuth:
    """Every /api/v2 request needs ``Authorization: Bearer <workspace key>`` (compared in constant time)."""

    def __init__(self, app: ASGIApp, key: str) -> None:
        self.app = app
        self.key = key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and path.startswith(API_PREFIX) and path not in PUBLIC_PATHS:
            header = ""
            for name, value in scope["headers"]:
                if name == b"authorization":
                    header = value.decode("latin-1")
                    break
            scheme, _, token = header.partition(" ")
            if not header:
                message = "missing Authorization header; send 'Authorization: Bearer <API key>'"
            elif scheme.lower() != "bearer" or not keys_match(token.strip(), self.key):
                message = "invalid API key"
            else:
                message = ""
            if message:
                response = JSONResponse(error_body(UNAUTHENTICATED, message), status_code=401)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _validation_message(exc: RequestValidationError) -> str:
    errors = exc.errors()
    if not errors:
        return "invalid request"
    first = errors[0]
    loc = [str(p) for p in first.get("loc", ()) if p != "body"]
    kind = first.get("type", "")
    if kind == "json_invalid":
        return "request body is not valid JSON"
    if not loc:
        if kind == "missing":
            return "request body is required (a JSON object)"
        return f"request body must be a JSON object ({first.get('msg', '')})"
    where = first.get("loc", ("",))[0]
    field = ".".join(loc[1:] if where in ("query", "path") else loc)
    return f"invalid value for field {field!r}: {first.get('msg', 'invalid')}"


def _write_server_json(ws: Workspace) -> None:
    info = {
        "url": ws.url,
        "pid": os.getpid(),
        "port": ws.port,
        "model_service_url": ws.model_service_url,
        "started_at": rfc3339(ws.started_at),
        "state_dir": str(ws.paths.root),
    }
    tmp = ws.paths.server_json.with_suffix(".tmp")
    tmp.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    tmp.replace(ws.paths.server_json)


def _remove_server_json(ws: Workspace) -> None:
    try:
        if json.loads(ws.paths.server_json.read_text()).get("pid") == os.getpid():
            ws.paths.server_json.unlink()
    except (OSError, ValueError):
        pass


def create_app(ws: Workspace) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ws.start_background()
        _write_server_json(ws)
        ws.log.info("local workspace serving at %s (state %s)", ws.url, ws.paths.root)
        try:
            yield
        finally:
            ws.log.info("local workspace stopping")
            await run_in_threadpool(ws.shutdown)
            _remove_server_json(ws)
            ws.log.info("local workspace stopped")

    app = FastAPI(
        title="cmlops local workspace",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.workspace = ws

    @app.exception_handler(ApiProblem)
    async def _problem(request: Request, exc: ApiProblem) -> JSONResponse:
        if exc.status >= 500:
            ws.log.error("%s %s: %s", request.method, request.url.path, exc.message)
        return JSONResponse(exc.body(), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(error_body(INVALID_ARGUMENT, _validation_message(exc)), status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            body = error_body(NOT_FOUND, f"no such API route: {request.method} {request.url.path}")
        elif exc.status_code == 405:
            body = error_body(UNIMPLEMENTED, f"method {request.method} is not allowed on {request.url.path}")
        else:
            body = error_body(INVALID_ARGUMENT if exc.status_code < 500 else INTERNAL, str(exc.detail))
        return JSONResponse(body, status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        ws.log.exception("internal error on %s %s", request.method, request.url.path)
        message = f"internal error ({type(exc).__name__}); see the local workspace server log"
        return JSONResponse(error_body(INTERNAL, message), status_code=500)

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok"}

    for module in (
        api_auth,
        api_projects,
        api_runtimes,
        api_runtimeaddons,
        api_files,
        api_jobs,
        api_experiments,
        api_registry,
        api_models,
        api_builds,
        api_applications,
        api_pythonclient,
        ui_auth,
        ui_pages,
    ):
        app.include_router(module.router)
    app.mount(TRACKING_PREFIX, ws.tracking)
    app.add_middleware(BearerAuth, key=ws.api_key)
    app.add_middleware(ui_auth.UiGate, sessions=ws.sessions, cookie=ws.ui_cookie)
    from automation.local import faults  # off unless CMLOPS_FAULTS is set (the reliability suite)

    faults.install(app, ws.paths.root, os.environ)
    return app
