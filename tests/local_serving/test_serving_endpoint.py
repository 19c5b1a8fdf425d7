"""The model endpoint over real HTTP: a live server process serving the wine model."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pandas as pd
import pytest
from serving_support import ACCESS_KEY, API_KEY, TUTORIAL_ROW, Server, Store

AUTH = {"Authorization": f"Bearer {API_KEY}"}


def post(
    server: Server,
    body: Any = None,
    *,
    raw: bytes | None = None,
    headers: dict | None = None,
    params: dict | None = None,
) -> httpx.Response:
    content = raw if raw is not None else json.dumps(body).encode()
    all_headers = {"Content-Type": "application/json", **(AUTH if server.auth else {}), **(headers or {})}
    return httpx.post(f"{server.url}/model", content=content, headers=all_headers, params=params, timeout=30)


def predict(server: Server, request: Any) -> list[float]:
    response = post(server, {"accessKey": ACCESS_KEY, "request": request})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True
    return body["response"]["prediction"]


def error_of(response: httpx.Response, status: int, field: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False
    assert set(body["errors"]) == {field}
    return body["errors"][field]


def test_health_is_open_and_says_ready(auth_server: Server) -> None:
    response = httpx.get(f"{auth_server.url}/health", timeout=10)
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}
    assert ACCESS_KEY not in response.text


def test_tutorial_input_equals_the_estimators_own_prediction(auth_server: Server, store: Store) -> None:
    response = post(auth_server, {"accessKey": ACCESS_KEY, "request": {"input": [TUTORIAL_ROW]}})
    assert response.status_code == 200, response.text
    body = response.json()
    expected = store.estimator.predict(pd.DataFrame([TUTORIAL_ROW], columns=store.columns, dtype=float))
    assert body == {
        "success": True,
        "response": {"prediction": [float(expected[0])]},
        "ReplicaID": f"local-{auth_server.port}-0",
    }


def test_every_input_format_gives_the_same_numbers(auth_server: Server, store: Store) -> None:
    frame = store.features.iloc[:3]
    cols, rows = store.columns, frame.to_numpy().tolist()
    records = frame.to_dict(orient="records")
    shuffled = list(reversed(cols))
    requests = {
        "input rows": {"input": rows},
        "columns+data": {"columns": cols, "data": rows},
        "dataframe_split": {"dataframe_split": {"columns": cols, "data": rows, "index": [0, 1, 2]}},
        "dataframe_split, columns reordered": {
            "dataframe_split": {
                "columns": shuffled,
                "data": [[r[cols.index(c)] for c in shuffled] for r in rows],
            }
        },
        "dataframe_records": {"dataframe_records": records},
        "inputs rows": {"inputs": rows},
        "inputs records": {"inputs": records},
        "inputs columnar": {"inputs": {c: frame[c].tolist() for c in cols}},
        "instances rows": {"instances": rows},
        "instances records": {"instances": records},
    }
    answers = {name: predict(auth_server, request) for name, request in requests.items()}
    reference = answers["input rows"]
    assert len(reference) == 3
    assert {name: a for name, a in answers.items() if a != reference} == {}
    assert predict(auth_server, {"input": rows[0]}) == reference[:1]  # one flat row


def test_the_whole_data_set_matches_pyfunc_exactly(
    auth_server: Server, store: Store, wine_model: Any
) -> None:
    import mlflow.pyfunc

    pyfunc_model = mlflow.pyfunc.load_model(str(wine_model.model_dir))
    expected = pyfunc_model.predict(store.features).tolist()
    split = {"dataframe_split": {"columns": store.columns, "data": store.features.to_numpy().tolist()}}
    assert predict(auth_server, split) == expected


BAD_REQUESTS = [
    ({"input": [[1.0, 2.0, 3.0]]}, "wrong row length in row 0 (got 3, expected 11 columns: fixed acidity,"),
    (
        {"input": [[*TUTORIAL_ROW[:8], "abc", *TUTORIAL_ROW[9:]]]},
        "non-numeric value 'abc' in column 'pH' row 0",
    ),
    (
        {"input": [[*TUTORIAL_ROW[:8], "3.5", *TUTORIAL_ROW[9:]]]},
        "non-numeric value '3.5' in column 'pH' row 0",
    ),
    (
        {"input": [[*TUTORIAL_ROW[:8], True, *TUTORIAL_ROW[9:]]]},
        "non-numeric value true in column 'pH' row 0",
    ),
    (
        {"input": [TUTORIAL_ROW, [*TUTORIAL_ROW[:8], None, *TUTORIAL_ROW[9:]]]},
        "missing value (null) in column 'pH' row 1",
    ),
    ({"input": [[[1.0], *TUTORIAL_ROW[1:]]]}, "nested value [1.0] in column 'fixed acidity' row 0"),
    ({"input": []}, "empty input"),
    ({}, "empty input"),
    ({"dataframe_records": []}, "empty input"),
    ({"columns": ["fixed acidity", "colour"], "data": [[1.0, 2.0]]}, "unknown columns: colour"),
    (
        {"dataframe_split": {"columns": ["fixed acidity"], "data": [[1.0]]}},
        "missing columns: volatile acidity",
    ),
    ({"dataframe_records": [{"pH": 3.0}]}, "missing columns in record 0: fixed acidity"),
    ({"predict": [[1.0]]}, "unknown key(s) in 'request': 'predict'"),
    ({"input": [TUTORIAL_ROW], "inputs": [TUTORIAL_ROW]}, "several input forms"),
    ({"input": "7.4, 0.7"}, "'input' must be a list of rows"),
    ([TUTORIAL_ROW], "'request' must be a JSON object"),
    ({"input": [TUTORIAL_ROW, 5]}, "row 1 must be a list of values"),
    ({"dataframe_split": {"columns": ["pH", "pH"], "data": [[1.0, 2.0]]}}, "duplicate column names: pH"),
]


@pytest.mark.parametrize(("request_obj", "message"), BAD_REQUESTS, ids=[m for _, m in BAD_REQUESTS])
def test_bad_input_is_a_400_naming_the_problem(auth_server: Server, request_obj: Any, message: str) -> None:
    response = post(auth_server, {"accessKey": ACCESS_KEY, "request": request_obj})
    assert message in error_of(response, 400, "request")
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            b'{"accessKey": "%s", "request": {"input": [[NaN, 0.7, 0, 1.9, 0.076, 11, 34, 0.9978, 3.51, 0.56, 9.4]]}}',
            "NaN/inf not allowed: nan in column 'fixed acidity' row 0",
        ),
        (
            b'{"accessKey": "%s", "request": {"input": [[7.4, 0.7, 0, 1.9, 0.076, 11, 34, 0.9978, 3.51, 0.56, 1e999]]}}',
            "NaN/inf not allowed: inf in column 'alcohol' row 0",
        ),
        (
            b'{"accessKey": "%s", "request": {"input": [[-Infinity, 0.7, 0, 1.9, 0.076, 11, 34, 0.9978, 3.51, 0.56, 9]]}}',
            "NaN/inf not allowed: -inf",
        ),
        (b"this is not json %s", "the body is not valid JSON"),
        (b'{"accessKey": "%s", "request": ' + b"[" * 200_000 + b"]" * 200_000 + b"}", "nesting too deep"),
        (
            b'{"accessKey": "%s", "request": {"input": ' + b"[" * 50 + b"1" + b"]" * 50 + b"}}",
            "nesting too deep in row 0",
        ),
        (b'{"accessKey": "%s"}', 'missing "request"'),
    ],
    ids=["nan", "overflow-inf", "minus-infinity", "not-json", "deep-nesting", "nested-50", "no-request"],
)
def test_bad_bodies_are_a_400_naming_the_problem(auth_server: Server, raw: bytes, message: str) -> None:
    response = post(auth_server, raw=raw.replace(b"%s", ACCESS_KEY.encode()))
    assert message in error_of(response, 400, "request")


def test_integer_values_are_coerced_to_the_signatures_doubles(auth_server: Server) -> None:
    ints = [7, 1, 0, 2, 0, 11, 34, 1, 3, 1, 9]
    assert predict(auth_server, {"input": [ints]}) == predict(
        auth_server, {"input": [[float(v) for v in ints]]}
    )


def test_a_body_over_the_size_limit_is_a_413(auth_server: Server) -> None:
    padding = "x" * (5 * 1024 * 1024)
    response = post(
        auth_server, {"accessKey": ACCESS_KEY, "request": {"input": [TUTORIAL_ROW]}, "pad": padding}
    )
    assert "limit is 5242880 bytes" in error_of(response, 413, "request")
    assert predict(auth_server, {"input": [TUTORIAL_ROW]})  # and the server still serves


def test_the_access_key_may_come_in_the_query(auth_server: Server) -> None:
    response = post(auth_server, {"request": {"input": [TUTORIAL_ROW]}}, params={"accessKey": ACCESS_KEY})
    assert response.status_code == 200
    assert response.json()["response"]["prediction"] == predict(auth_server, {"input": [TUTORIAL_ROW]})


@pytest.mark.parametrize("key", ["0" * 32, "", None, 12345, ACCESS_KEY.upper()])
def test_a_wrong_or_missing_access_key_is_a_404(auth_server: Server, key: Any) -> None:
    body = (
        {"request": {"input": [TUTORIAL_ROW]}}
        if key is None
        else {"accessKey": key, "request": {"input": [TUTORIAL_ROW]}}
    )
    message = error_of(post(auth_server, body), 404, "accessKey")
    assert "access key" in message
    assert ACCESS_KEY not in message


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-key"},
        {"Authorization": API_KEY},
        {"Authorization": "Basic " + API_KEY},
        {"Authorization": "Bearer"},
    ],
    ids=["none", "wrong", "no-scheme", "basic", "empty"],
)
def test_with_auth_on_a_missing_or_wrong_bearer_key_is_a_401(auth_server: Server, headers: dict) -> None:
    body = json.dumps({"accessKey": ACCESS_KEY, "request": {"input": [TUTORIAL_ROW]}})
    response = httpx.post(f"{auth_server.url}/model", content=body, headers=headers, timeout=10)
    assert "Authorization: Bearer" in error_of(response, 401, "auth")
    assert response.headers["www-authenticate"] == "Bearer"


def test_with_auth_on_the_right_bearer_key_is_a_200(auth_server: Server) -> None:
    body = json.dumps({"accessKey": ACCESS_KEY, "request": {"input": [TUTORIAL_ROW]}})
    response = httpx.post(f"{auth_server.url}/model", content=body, headers=AUTH, timeout=10)
    assert response.status_code == 200
    assert response.json()["success"] is True


def test_with_auth_off_no_bearer_key_is_needed(open_server: Server, auth_server: Server) -> None:
    body = json.dumps({"accessKey": ACCESS_KEY, "request": {"input": [TUTORIAL_ROW]}})
    response = httpx.post(f"{open_server.url}/model", content=body, timeout=10)
    assert response.status_code == 200, response.text
    assert response.json()["response"] == {"prediction": predict(auth_server, {"input": [TUTORIAL_ROW]})}
    assert response.json()["ReplicaID"] == f"local-{open_server.port}-0"


def test_other_routes_and_methods(auth_server: Server) -> None:
    assert error_of(httpx.get(f"{auth_server.url}/model", timeout=10), 405, "method")
    assert error_of(httpx.post(f"{auth_server.url}/health", timeout=10), 405, "method")
    assert error_of(httpx.get(f"{auth_server.url}/invocations", timeout=10), 404, "path")


def test_secrets_never_reach_the_server_log(auth_server: Server) -> None:
    post(auth_server, {"accessKey": "f" * 32, "request": {"input": [TUTORIAL_ROW]}})
    post(auth_server, {"accessKey": ACCESS_KEY, "request": {"input": [[1, 2]]}})
    log = auth_server.log_path.read_text()
    assert "serving models:/wine/1" in log  # the log is the right one and is written
    assert ACCESS_KEY not in log
    assert API_KEY not in log
