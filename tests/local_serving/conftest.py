"""Shared, expensive fixtures of the model-server tests: one trained model store, two live servers.

The store is built once per session in a temporary folder: the wine model (ElasticNet, as the
tutorial trains it), a pyfunc model that works through the generic path, and one whose predict
raises. Two real server processes serve the wine model: one with model auth on, one with it off.
"""

from __future__ import annotations

import hashlib
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from serving_support import ACCESS_KEY, API_KEY, Server, Store, spawn, stop, wait_ready, write_config

from automation.local.serving.predictor import mlflow_uris


@pytest.fixture(scope="session")
def store(tmp_path_factory: pytest.TempPathFactory, wine_data: str) -> Store:
    import mlflow
    import mlflow.pyfunc
    import mlflow.sklearn
    import pandas as pd
    from mlflow.models import infer_signature
    from sklearn.linear_model import ElasticNet
    from sklearn.model_selection import train_test_split

    root = tmp_path_factory.mktemp("serving-store")
    tracking_uri = f"sqlite:///{root / 'mlflow.db'}"
    data = pd.read_csv(wine_data)
    train, _ = train_test_split(data, test_size=0.25, random_state=42)
    train_x = train.drop(columns=["quality"])
    estimator = ElasticNet(alpha=0.5, l1_ratio=0.5, random_state=42).fit(train_x, train[["quality"]])
    signature = infer_signature(train_x, estimator.predict(train_x))

    requirements = ["mlflow", "scikit-learn"]  # skips mlflow's slow requirement inference
    with mlflow_uris(tracking_uri, None), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # mlflow's advice about type hints and input examples

        class Summer(mlflow.pyfunc.PythonModel):  # local classes: pickled by value
            def predict(self, context, model_input, params=None):
                return model_input.sum(axis=1).to_numpy()

        class Broken(mlflow.pyfunc.PythonModel):
            def predict(self, context, model_input, params=None):
                raise ValueError("boom: this model cannot predict")

        experiment = mlflow.create_experiment(
            "serving-tests", artifact_location=(root / "artifacts").as_uri()
        )
        with mlflow.start_run(experiment_id=experiment):
            mlflow.sklearn.log_model(
                estimator,
                name="model",
                signature=signature,
                input_example=train_x.iloc[:3],
                registered_model_name="wine",
                pip_requirements=requirements,
            )
            mlflow.pyfunc.log_model(
                name="summer",
                python_model=Summer(),
                signature=infer_signature(train_x),
                registered_model_name="summer",
                pip_requirements=requirements,
            )
            mlflow.pyfunc.log_model(
                name="broken",
                python_model=Broken(),
                signature=infer_signature(train_x),
                registered_model_name="broken",
                pip_requirements=requirements,
            )
    return Store(
        tracking_uri=tracking_uri,
        wine_uri="models:/wine/1",
        summer_uri="models:/summer/1",
        broken_uri="models:/broken/1",
        estimator=estimator,
        features=data.drop(columns=["quality"]),
        example=train_x.iloc[:3],
        root=root,
    )


@pytest.fixture(scope="session")
def servers(store: Store, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Server]]:
    """Two servers of the wine model, started in parallel: 'auth' (model auth on) and 'open'."""
    root = tmp_path_factory.mktemp("servers")
    started: dict[str, tuple[subprocess.Popen[bytes], Path, Path]] = {}
    for name, auth in (("auth", True), ("open", False)):
        ready, log_path = root / f"{name}.ready", root / f"{name}.log"
        config = write_config(
            root / f"{name}.json",
            model_uri=store.wine_uri,
            tracking_uri=store.tracking_uri,
            registry_uri=store.tracking_uri,
            host="127.0.0.1",
            port=0,
            access_key=ACCESS_KEY,
            auth=auth,
            api_key_sha256=hashlib.sha256(API_KEY.encode()).hexdigest() if auth else None,
            max_body_bytes=5 * 1024 * 1024,
            max_concurrency=64,
            ready_file=str(ready),
        )
        started[name] = (spawn(config, log_path), ready, log_path)
    try:
        result = {
            name: Server(proc, wait_ready(proc, ready, log_path), log_path, auth=name == "auth")
            for name, (proc, ready, log_path) in started.items()
        }
        yield result
    finally:
        codes = {name: stop(proc) for name, (proc, _, _) in started.items()}
    # A clean stop (SIGTERM) exits 0 and removes the ready file, so a stale file never claims a port.
    assert codes == {"auth": 0, "open": 0}
    assert not any(ready.exists() for _, ready, _ in started.values())


@pytest.fixture(scope="session")
def auth_server(servers: dict[str, Server]) -> Server:
    return servers["auth"]


@pytest.fixture(scope="session")
def open_server(servers: dict[str, Server]) -> Server:
    return servers["open"]


@pytest.fixture(scope="session")
def wine_model(store: Store) -> Iterator[Any]:
    """The wine model loaded in-process, as the server loads it."""
    from automation.local.serving.predictor import load_served_model

    model = load_served_model(store.wine_uri, store.tracking_uri)
    yield model
    model.close()
