"""Calling a deployed model endpoint (the model-service contract, not API v2)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses
from responses import matchers

from automation.api.endpoint import EndpointError, endpoint_client, predict
from automation.clock import FakeClock
from automation.errors import InputError

from .wire import ACCESS_KEY, API_KEY, MODEL_SERVICE

ROW = [[7.4, 0.7, 0, 1.9, 0.076, 11, 34, 0.9978, 3.51, 0.56, 9.4]]


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as m:
        yield m


def _expect(mock: responses.RequestsMock, **kwargs: object) -> None:
    body = {"accessKey": ACCESS_KEY, "request": {"input": ROW}}
    mock.add(
        "POST",
        MODEL_SERVICE,
        match=[
            matchers.json_params_matcher(body),
            matchers.header_matcher({"Authorization": f"Bearer {API_KEY}"}),
            matchers.query_param_matcher({}),
        ],
        **kwargs,
    )


def test_predict_returns_the_response_and_hides_the_access_key(mock: responses.RequestsMock) -> None:
    lines: list[str] = []
    http = endpoint_client(MODEL_SERVICE, API_KEY, trace=lines.append, clock=FakeClock())
    _expect(mock, json={"success": True, "response": {"prediction": [5]}, "ReplicaID": "r-0"})

    assert predict(http, ACCESS_KEY, {"input": ROW}) == {"prediction": [5]}
    assert lines
    assert not [line for line in lines if ACCESS_KEY in line or API_KEY in line]


def test_unsuccessful_answer_is_an_endpoint_error(mock: responses.RequestsMock) -> None:
    http = endpoint_client(MODEL_SERVICE, API_KEY, clock=FakeClock())
    _expect(mock, json={"success": False, "errors": {"predict": "shape mismatch"}})

    with pytest.raises(EndpointError) as info:
        predict(http, ACCESS_KEY, {"input": ROW})

    assert "shape mismatch" in str(info.value)


def test_bad_input_is_an_input_error(mock: responses.RequestsMock) -> None:
    http = endpoint_client(MODEL_SERVICE, API_KEY, clock=FakeClock())
    _expect(mock, status=400, json={"success": False, "message": "expected 11 columns, got 3"})

    with pytest.raises(InputError) as info:
        predict(http, ACCESS_KEY, {"input": ROW})

    assert "expected 11 columns" in str(info.value) and info.value.exit_code == 2


@pytest.mark.parametrize(("status", "error"), [(400, InputError), (413, InputError), (500, EndpointError)])
def test_the_endpoints_errors_envelope_is_shown_as_one_readable_line(
    mock: responses.RequestsMock, status: int, error: type
) -> None:
    http = endpoint_client(MODEL_SERVICE, API_KEY, clock=FakeClock())
    _expect(mock, status=status, json={"success": False, "errors": {"request": "got 3, expected 11 columns"}})

    with pytest.raises(error) as info:
        predict(http, ACCESS_KEY, {"input": ROW})

    assert "request: got 3, expected 11 columns" in info.value.message
    assert "{" not in info.value.message  # not the raw JSON body
