"""The endpoint test box: one call to ``<workspace>/model`` as a client makes it, timed.

The browser never sees the workspace key: the server adds it (when the model wants it) and sends
the model's access key in the body, as CML's test box does. What comes back for the page is the
request as sent (the access key masked), the endpoint's status and answer, and the latency.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import httpx

from automation.local.state import records
from automation.local.state.records import Model

if TYPE_CHECKING:
    from automation.local.workspace import Workspace

TIMEOUT = 60.0
MAX_INPUT = 1 << 20


def _problem(status: int, message: str) -> tuple[int, dict[str, Any]]:
    return status, {"error": message}


async def call_endpoint(ws: Workspace, model_id: str, text: Any) -> tuple[int, dict[str, Any]]:
    """(HTTP status for the page, what to show). Bad input is a 400 naming the problem."""
    model = records.load(ws.store, Model, model_id) if model_id else None
    if model is None:
        return _problem(400, f"no model {model_id!r}: pick a model that has a deployment")
    if not isinstance(text, str) or not text.strip():
        return _problem(400, 'the input is empty: paste a JSON object such as {"input": [[...]]}')
    if len(text) > MAX_INPUT:
        return _problem(400, f"the input is over {MAX_INPUT // 1024} KiB")
    try:
        request = json.loads(text)
    except ValueError as exc:
        return _problem(400, f"the input is not valid JSON: {exc}")
    body = {"accessKey": model.access_key, "request": request}
    headers = {"Authorization": f"Bearer {ws.api_key}"} if model.auth_enabled else {}
    started = time.perf_counter()
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT, trust_env=False) as client:
            resp = await client.post(ws.model_service_url, json=body, headers=headers)
    except httpx.HTTPError as exc:
        return _problem(502, f"the model service did not answer: {type(exc).__name__}: {exc}")
    latency_ms = (time.perf_counter() - started) * 1000
    try:
        answer: Any = resp.json()
    except ValueError:
        answer = resp.text
    shown = {"accessKey": "***", "request": request}
    return 200, {
        "url": ws.model_service_url,
        "request": shown,
        "status": resp.status_code,
        "response": answer,
        "latency_ms": round(latency_ms, 1),
    }
