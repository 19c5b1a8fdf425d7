"""Every input shape people send to CML model endpoints, on the local endpoint, for a model logged
with a signature and one logged without (as ``log_model(model, "model")`` with no signature does).

Two small scikit-learn models are trained here on three named columns, logged to a temporary
MLflow store, loaded as a deployment loads them, and called through the endpoint's ASGI app.
"""

from __future__ import annotations

import asyncio
import hashlib
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from automation.local.serving.app import ModelEndpoint
from automation.local.serving.predictor import load_served_model, mlflow_uris

KEY = "shapes0123456789shapes0123456789"
COLUMNS = ["a", "b", "c"]
ROWS = [[1.0, 2.0, 3.0], [0.5, -1.0, 4.0]]


def shapes(columns: list[str], rows: list[list[float]]) -> dict[str, Any]:
    records = [dict(zip(columns, r, strict=True)) for r in rows]
    return {
        "input (positional rows)": {"input": rows},
        "columns+data": {"columns": columns, "data": rows},
        "dataframe_split": {"dataframe_split": {"columns": columns, "data": rows}},
        "dataframe_records": {"dataframe_records": records},
        "instances rows": {"instances": rows},
        "instances records": {"instances": records},
        "inputs rows": {"inputs": rows},
        "inputs columnar": {"inputs": {c: [r[i] for r in rows] for i, c in enumerate(columns)}},
    }


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    import mlflow
    import mlflow.sklearn
    import pandas as pd
    from mlflow.models import infer_signature
    from sklearn.linear_model import LinearRegression

    root: Path = tmp_path_factory.mktemp("shapes-store")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    frame = pd.DataFrame([[1, 2, 3], [2, 1, 0], [0, 1, 5], [3, 3, 1]], columns=COLUMNS, dtype=float)
    target = [14.0, 4.0, 17.0, 12.0]
    estimator = LinearRegression().fit(frame, target)
    with mlflow_uris(uri, None), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        experiment = mlflow.create_experiment("shapes", artifact_location=(root / "artifacts").as_uri())
        with mlflow.start_run(experiment_id=experiment) as run:
            reqs = ["mlflow", "scikit-learn"]
            mlflow.sklearn.log_model(
                estimator, name="signed", signature=infer_signature(frame), pip_requirements=reqs
            )
            mlflow.sklearn.log_model(estimator, name="unsigned", pip_requirements=reqs)
    loaded = {
        kind: load_served_model(f"runs:/{run.info.run_id}/{kind}", uri) for kind in ("signed", "unsigned")
    }
    expected = estimator.predict(pd.DataFrame(ROWS, columns=COLUMNS)).tolist()
    yield {"loaded": loaded, "expected": expected}
    for model in loaded.values():
        model.close()


def call(model: Any, request: Any) -> httpx.Response:
    app = ModelEndpoint(
        model,
        access_key=KEY,
        api_key_sha256=hashlib.sha256(b"k").hexdigest(),
        max_body_bytes=1 << 20,
        max_concurrency=4,
        replica_id="local-1-0",
    )

    async def post() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            return await http.post(
                "/model", json={"accessKey": KEY, "request": request}, headers={"Authorization": "Bearer k"}
            )

    return asyncio.run(post())


@pytest.mark.parametrize("kind", ["signed", "unsigned"])
@pytest.mark.parametrize("shape", list(shapes(COLUMNS, ROWS)))
def test_every_shape_predicts_what_the_estimator_does(models: dict, kind: str, shape: str) -> None:
    response = call(models["loaded"][kind], shapes(COLUMNS, ROWS)[shape])
    assert response.status_code == 200, response.text
    got = response.json()["response"]["prediction"]
    assert got == pytest.approx(models["expected"], rel=1e-12)


@pytest.mark.parametrize(
    ("request_obj", "needle"),
    [
        ({"input": [[1.0, 2.0]]}, "2 features"),  # wrong width
        ({"input": [[1.0, "x", 3.0]]}, "x"),  # a string where a number belongs
        ({"dataframe_split": {"columns": ["c", "b", "z"], "data": [[1.0, 2.0, 3.0]]}}, "feature names"),
        ({"dataframe_records": [{"a": 1.0, "b": 2.0}]}, "missing: - c"),
    ],
    ids=["width", "string", "unknown-name", "missing-column"],
)
def test_a_model_without_signature_answers_bad_input_with_400_and_the_reason(
    models: dict, request_obj: Any, needle: str
) -> None:
    response = call(models["loaded"]["unsigned"], request_obj)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["success"] is False
    message = body["errors"]["request"]
    assert message.startswith("the model (no signature) refused the input: ") and needle in message
    assert "Traceback" not in message


def test_the_same_bad_input_to_the_signed_model_is_named_by_the_signature(models: dict) -> None:
    response = call(models["loaded"]["signed"], {"input": [[1.0, 2.0]]})
    assert response.status_code == 400
    assert (
        "wrong row length in row 0 (got 2, expected 3 columns: a, b, c)"
        in response.json()["errors"]["request"]
    )
