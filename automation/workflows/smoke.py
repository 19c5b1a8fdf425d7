"""The smoke test: the spec's example input against the deployed endpoint, with expectations."""

from __future__ import annotations

import math
from typing import Any

from automation.api import CMLClient
from automation.api.endpoint import EndpointError, predict
from automation.api.types import Model
from automation.errors import CmlopsError, SmokeTestFailed


def predictions_of(response: Any) -> list[Any]:
    """Find the list of predictions in the response, whatever wrapper the server used."""
    if isinstance(response, dict):
        for key in ("prediction", "predictions", "outputs", "result"):
            if key in response:
                return predictions_of(response[key])
        return [response]
    if isinstance(response, list):
        return response
    return [response]


def check_expectations(values: list[Any], expect: Any) -> list[str]:
    """Problems with the predictions against the spec's expectations (empty when all is well)."""
    problems: list[str] = []
    if expect is None:
        return problems
    if expect.count is not None and len(values) != expect.count:
        problems.append(f"expected {expect.count} prediction(s), got {len(values)}")
    for i, v in enumerate(values):
        if not isinstance(v, int | float) or isinstance(v, bool) or not math.isfinite(v):
            problems.append(f"prediction {i} is not a finite number: {v!r}")
            continue
        if expect.min is not None and v < expect.min:
            problems.append(f"prediction {i} = {v} is below {expect.min}")
        if expect.max is not None and v > expect.max:
            problems.append(f"prediction {i} = {v} is above {expect.max}")
    return problems


def call_endpoint(client: CMLClient, model: Model, request: Any) -> Any:
    return predict(client.model_service(), model.access_key, request)


def smoke_test(client: CMLClient, model: Model, smoke: Any) -> dict[str, Any]:
    """Call the endpoint with the spec's input and check the answer; raise SmokeTestFailed on any problem."""
    try:
        response = call_endpoint(client, model, smoke.input)
    except (EndpointError, CmlopsError) as exc:
        raise SmokeTestFailed(f"smoke test failed: {exc.message}", hint=exc.hint) from None
    values = predictions_of(response)
    problems = check_expectations(values, smoke.expect)
    if problems:
        raise SmokeTestFailed("smoke test failed: " + "; ".join(problems))
    return {"request": smoke.input, "response": response, "predictions": values}
