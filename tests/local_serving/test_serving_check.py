"""check_model (a local build) and the two prediction paths, in-process."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest
from serving_support import Store

from automation.errors import CmlopsError
from automation.local.serving import ModelCheckError, check_model
from automation.local.serving.predictor import load_served_model


def test_check_model_loads_and_predicts_the_input_example(store: Store) -> None:
    result = check_model(store.wine_uri, store.tracking_uri, store.tracking_uri)
    assert result["flavor"] == "sklearn"
    assert result["columns"] == store.columns
    assert result["fast_path"] is True
    assert result["prediction_sample"] == store.estimator.predict(store.example).tolist()


def test_check_model_leaves_mlflows_global_uris_as_they_were(store: Store) -> None:
    import mlflow

    before = (
        mlflow.get_tracking_uri(),
        os.environ.get("MLFLOW_TRACKING_URI"),
        os.environ.get("MLFLOW_REGISTRY_URI"),
    )
    check_model(store.wine_uri, store.tracking_uri)
    after = (
        mlflow.get_tracking_uri(),
        os.environ.get("MLFLOW_TRACKING_URI"),
        os.environ.get("MLFLOW_REGISTRY_URI"),
    )
    assert after == before


def test_a_model_whose_predict_raises_fails_the_check(store: Store) -> None:
    with pytest.raises(ModelCheckError) as caught:
        check_model(store.broken_uri, store.tracking_uri)
    message = str(caught.value)
    assert "failed to predict on its input example" in message
    assert "boom: this model cannot predict" in message
    assert "\n" not in message
    assert isinstance(caught.value, CmlopsError)


@pytest.mark.parametrize(
    ("uri", "text"),
    [
        ("models:/wine/99", "cannot resolve model 'models:/wine/99'"),
        ("models:/no-such-model/1", "cannot resolve model 'models:/no-such-model/1'"),
        ("/definitely/not/here", "not found"),
    ],
)
def test_a_model_that_cannot_be_resolved_fails_the_check(store: Store, uri: str, text: str) -> None:
    with pytest.raises(ModelCheckError, match=text):
        check_model(uri, store.tracking_uri)


def test_a_folder_without_mlmodel_fails_the_check(store: Store, tmp_path: Any) -> None:
    with pytest.raises(ModelCheckError, match="not an MLflow model"):
        check_model(str(tmp_path), store.tracking_uri)


def test_the_fast_path_equals_pyfunc_on_the_whole_data_set(store: Store, wine_model: Any) -> None:
    import mlflow.pyfunc

    assert wine_model.fast_path
    pyfunc_model = mlflow.pyfunc.load_model(str(wine_model.model_dir))
    expected = pyfunc_model.predict(store.features)
    rows = store.features.to_numpy().tolist()
    got = wine_model.predict({"dataframe_split": {"columns": store.columns, "data": rows}})
    assert np.array_equal(np.array(got), expected)  # exact: zero tolerance
    for i in range(0, len(rows), 50):  # one row per request, as the endpoint mostly sees them
        assert (
            wine_model.predict({"input": [rows[i]]})
            == pyfunc_model.predict(store.features.iloc[[i]]).tolist()
        )


def test_a_pyfunc_model_is_served_through_the_generic_path(store: Store) -> None:
    model = load_served_model(store.summer_uri, store.tracking_uri)
    try:
        assert (model.flavor, model.fast_path, model.inline) == ("python_function", False, False)
        rows = store.features.iloc[:2].to_numpy().tolist()
        expected = [sum(r) for r in rows]
        assert model.predict({"input": rows}) == pytest.approx(expected, rel=0, abs=1e-9)
        assert model.predict(
            {"dataframe_records": store.features.iloc[:2].to_dict(orient="records")}
        ) == model.predict({"input": rows})
        with pytest.raises(Exception, match="wrong row length"):
            model.predict({"input": [[1.0, 2.0]]})
    finally:
        model.close()
