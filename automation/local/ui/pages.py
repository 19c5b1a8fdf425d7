"""The workspace page: server-rendered panels, their refresh, the logs, and the endpoint test box."""

from __future__ import annotations

import json
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from automation.local.api.common import workspace
from automation.local.ui.auth import HOME, SECURITY_HEADERS
from automation.local.ui.overview import build_overview, endpoints
from automation.local.ui.predict import call_endpoint
from automation.local.ui.templates import STATIC, render

router = APIRouter(include_in_schema=False)
TUTORIAL_INPUT = {"input": [[7.4, 0.7, 0, 1.9, 0.076, 11, 34, 0.9978, 3.51, 0.56, 9.4]]}
STATIC_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
MAX_LOG = 2 * 1024 * 1024


def _html(text: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(text, status_code=status, headers=SECURITY_HEADERS)


async def _panels(request: Request) -> str:
    ws = workspace(request)
    now = time.time()
    overview = await run_in_threadpool(build_overview, ws, now)
    return render("panels.html", o=overview, now=now)


@router.get("/ui")
def ui_root() -> RedirectResponse:
    return RedirectResponse(HOME, status_code=307)


@router.get("/ui/")
async def page(request: Request) -> HTMLResponse:
    ws = workspace(request)
    serving = await run_in_threadpool(endpoints, ws)
    text = render(
        "workspace.html",
        url=ws.url,
        state_dir=str(ws.paths.root),
        panels=await _panels(request),
        endpoints=serving,
        example=json.dumps(TUTORIAL_INPUT),
    )
    return _html(text)


@router.get("/ui/api/panels")
async def panels(request: Request) -> HTMLResponse:
    """The panels alone, for the page's refresh without a reload."""
    return _html(await _panels(request))


@router.get("/ui/logs/{ident}", response_model=None)
def log(ident: str, request: Request) -> HTMLResponse | PlainTextResponse:
    ws = workspace(request)
    for path in ws.paths.log_files(ident) if ident.replace("-", "").isalnum() else []:
        if path.is_file():
            with open(path, "rb") as fh:
                size = path.stat().st_size
                fh.seek(max(0, size - MAX_LOG))
                text = fh.read().decode("utf-8", "replace")
            return _html(render("log.html", ident=ident, text=text, cut=size > MAX_LOG, missing=False))
    return _html(render("log.html", ident=ident, text="", cut=False, missing=True), status=404)


@router.get("/ui/static/{name}", response_model=None)
def static(name: str) -> FileResponse | PlainTextResponse:
    path = STATIC / name
    kind = STATIC_TYPES.get(path.suffix)
    if "/" in name or kind is None or not path.is_file():
        return PlainTextResponse("not found", status_code=404)
    return FileResponse(path, media_type=kind, headers={"Cache-Control": "no-cache"})


@router.post("/ui/api/predict")
async def predict(request: Request) -> JSONResponse:
    """Call a model's endpoint through the model service, as a client would; report what happened."""
    ws = workspace(request)
    try:
        body: Any = json.loads(await request.body() or b"{}")
    except ValueError:
        return JSONResponse({"error": "the test box sent a body that is not JSON"}, status_code=400)
    if not isinstance(body, dict):
        return JSONResponse({"error": 'send {"model_id": ..., "input": "<JSON text>"}'}, status_code=400)
    status, result = await call_endpoint(ws, str(body.get("model_id") or ""), body.get("input"))
    return JSONResponse(result, status_code=status)
