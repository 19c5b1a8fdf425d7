"""``POST /model`` on the main server: CML's ``https://modelservice.<domain>/model`` for local models.

The access key (body ``accessKey`` or query ``?accessKey=``) picks the model; the request body and
the ``Authorization`` header go unchanged to that model's deployed server process, whose status
and body come back unchanged. Unknown access key: 404 ``{"success": false, "errors": {"accessKey":
...}}``. A model whose deployment is still starting (e.g. just after a server restart) is waited
for up to a minute; a model with no running deployment is 503.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from automation.local.api.common import workspace
from automation.local.workloads.deployments import MAX_BODY_BYTES

router = APIRouter()
START_WAIT = 60.0


def _error(status: int, field: str, message: str) -> JSONResponse:
    return JSONResponse({"success": False, "errors": {field: message}}, status_code=status)


def _access_key(request: Request, body: bytes) -> str | JSONResponse:
    key = request.query_params.get("accessKey")
    if key:
        return key
    try:
        parsed: Any = json.loads(body or b"null")
    except (ValueError, RecursionError):  # RecursionError: nested too deeply to parse
        return _error(400, "request", "the body is not valid JSON")
    key = parsed.get("accessKey") if isinstance(parsed, dict) else None
    if not isinstance(key, str) or not key:
        return _error(
            400, "accessKey", "missing: send the model's access key as accessKey in the body or query"
        )
    return key


@router.post("/model")
async def model_service(request: Request) -> Response:
    ws = workspace(request)
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return _error(413, "request", f"the body is larger than {MAX_BODY_BYTES} bytes")
    key = _access_key(request, body)
    if isinstance(key, JSONResponse):
        return key
    state, port = ws.deployments.route(key)
    deadline = time.monotonic() + START_WAIT
    while state == "starting" and time.monotonic() < deadline:
        await asyncio.sleep(0.25)
        state, port = ws.deployments.route(key)
    if state == "unknown":
        return _error(404, "accessKey", "no model has this access key")
    if state != "deployed" or port is None:
        return _error(503, "model", f"the model has no running deployment ({state}); deploy a build first")
    headers = {"content-type": request.headers.get("content-type", "application/json")}
    if "authorization" in request.headers:
        headers["authorization"] = request.headers["authorization"]
    url = f"http://127.0.0.1:{port}/model"
    if request.url.query:
        url += "?" + request.url.query
    try:
        upstream = await request.app.state.http.post(url, content=body, headers=headers)
    except Exception as exc:  # the model server died or hung
        ws.log.warning("model service: deployment on port %s did not answer: %s", port, type(exc).__name__)
        return _error(
            503, "model", "the model server did not answer; see `cmlops local logs <deployment id>`"
        )
    return Response(
        content=upstream.content,
        status_code=upstream.status_code,
        media_type=upstream.headers.get("content-type", "application/json"),
    )
