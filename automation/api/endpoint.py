"""Calling a deployed model endpoint (CML's model-endpoint contract, cml-api-v2.md section 5).

POST <model service URL> with ``{"accessKey": ..., "request": {...}}`` and, when model
authentication is on, ``Authorization: Bearer <API key>``. The answer is
``{"success": true, "response": ...}`` or ``{"success": false, "errors": {...}}``.
"""

from __future__ import annotations

import json
from typing import Any

from automation.errors import ApiError, CmlopsError, InputError
from automation.http import HttpClient, RetryPolicy


class EndpointError(CmlopsError):
    """The endpoint answered, but not with a prediction."""


def predict(http: HttpClient, access_key: str, request: Any) -> Any:
    """Send one request to the endpoint behind ``http`` (base URL = model service URL)."""
    http.add_secret(access_key)
    try:
        body = http.request("POST", "", json_body={"accessKey": access_key, "request": request})
    except ApiError as exc:
        problem = _endpoint_errors(exc.server_message)
        if exc.status in (400, 413):
            raise InputError(
                f"the model refused the input: {problem}",
                hint='send what the model\'s signature expects, e.g. {"dataframe_split": {"columns": '
                '[...], "data": [[...]]}} (also: {"input": [[...]]}, {"columns": [...], "data": [[...]]}, '
                '{"dataframe_records": [...]}, {"instances": [...]}, {"inputs": [...]})',
            ) from None
        raise EndpointError(f"model endpoint answered HTTP {exc.status}: {problem}") from None
    if not isinstance(body, dict) or body.get("success") is not True:
        errors = body.get("errors") if isinstance(body, dict) else body
        raise EndpointError(f"model endpoint returned no prediction: {errors}")
    return body.get("response")


def _endpoint_errors(text: str) -> str:
    """The model endpoint's ``{"success": false, "errors": {...}}`` as one readable line."""
    try:
        body = json.loads(text)
    except ValueError:
        return text
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, dict) and errors:
        return "; ".join(f"{key}: {value}" for key, value in errors.items())
    return text


def endpoint_client(
    model_service_url: str, api_key: str, *, verify: bool | str = True, trace=None, clock=None
) -> HttpClient:
    return HttpClient(
        model_service_url,
        api_key,
        verify=verify,
        trace=trace,
        clock=clock,
        retry=RetryPolicy(max_attempts=4, deadline=60),
    )
