"""The smoke test: the spec's example input against the deployed endpoint, with expectations."""

from __future__ import annotations

import json
import math
from typing import Any

from automation.api import CMLClient
from automation.api.endpoint import EndpointError, predict
from automation.api.types import Model
from automation.errors import CmlopsError, InputError, SmokeTestFailed
from automation.workflows.input_shapes import alternatives, shape_of, table_of


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


def liveness(client: CMLClient, model: Model, smoke: Any) -> str:
    """Whether the model's endpoint really answers the spec's smoke input: ``answers`` or
    ``does not answer: <why>`` (what ``status`` shows next to the deployment's own status)."""
    try:
        smoke_test(client, model, smoke)
    except CmlopsError as exc:
        return f"does not answer: {exc.message}"
    return "answers"


def smoke_test(client: CMLClient, model: Model, smoke: Any) -> dict[str, Any]:
    """Call the endpoint with the spec's input and check the answer; raise SmokeTestFailed on any problem.

    When the endpoint refuses the input (HTTP 400), the same rows are sent in the other input shapes
    to tell a refused *shape* (another one is accepted: the error shows it, ready for the spec) from
    refused *values* (every shape is refused)."""
    try:
        response = call_endpoint(client, model, smoke.input)
    except InputError as exc:
        raise refused_input(client, model, smoke.input, exc) from None
    except (EndpointError, CmlopsError) as exc:
        raise SmokeTestFailed(f"smoke test failed: {exc.message}", hint=exc.hint) from None
    values = predictions_of(response)
    problems = check_expectations(values, smoke.expect)
    if problems:
        raise SmokeTestFailed("smoke test failed: " + "; ".join(problems))
    return {"request": smoke.input, "response": response, "predictions": values}


def refused_input(client: CMLClient, model: Model, request: Any, refusal: InputError) -> SmokeTestFailed:
    """Which shape the endpoint refused and, trying the others in turn, which one it accepts."""
    shape = shape_of(request)
    reason = refusal.message.removeprefix("the model refused the input: ")
    tried: list[str] = []
    for other, converted in alternatives(request):
        try:
            call_endpoint(client, model, converted)
        except InputError:
            tried.append(other)
            continue
        except (EndpointError, CmlopsError):
            break  # the endpoint fails for another reason: stop probing
        text = json.dumps(converted)
        return SmokeTestFailed(
            f"smoke test failed: the endpoint refused the spec's input in the {shape!r} shape ({reason}) "
            f"and accepted the same rows in the {other!r} shape: the refusal is about the input's shape",
            hint=f"put this in deployment.smoke.input (and send this shape to the endpoint): {text}",
            shapes={"refused": shape, "accepted": other, "accepted_input": converted, "reason": reason},
        )
    columns = (table_of(request) or (None, None))[0]
    if tried:
        about = f"the same rows were refused in the {', '.join(map(repr, tried))} shape(s) too"
    else:
        about = "no other shape could be tried"
    hint = "fix the values in deployment.smoke.input"
    if not columns:
        hint = (
            "a model with a signature needs column names: put the split form in deployment.smoke.input, "
            '{"dataframe_split": {"columns": [<the model\'s input columns>], "data": [[...]]}}'
        )
    return SmokeTestFailed(
        f"smoke test failed: the endpoint refused the spec's input in the {shape!r} shape ({reason}); {about}",
        hint=hint,
        shapes={"refused": shape, "accepted": None, "tried": tried, "reason": reason},
    )
