"""A local *build*: load the model as the server will and make one prediction.

CML builds a container for a model; the local workspace's equivalent is to prove the deployment
process will be able to serve: the registered model resolves, loads, and predicts on its input
example (or on a zero row built from its signature). The reason for a failure is one line, which
the API server stores as the build's failure message.
"""

from __future__ import annotations

from typing import Any

from automation.local.serving.errors import ModelCheckError, one_line

_SAMPLE_LIMIT = 5


def check_model(model_uri: str, tracking_uri: str, registry_uri: str | None = None) -> dict[str, Any]:
    """Load ``model_uri`` and predict once; return what a build record needs.

    Returns ``{"flavor": str, "columns": [input column names], "prediction_sample": [...] or None,
    "fast_path": bool}``; ``prediction_sample`` holds the first predictions on the input example and
    is None for a model with neither a signature nor an input example (nothing to predict on).
    Raises ``ModelCheckError`` with a one-line reason when the model cannot be loaded or predicted.
    """
    from automation.local.serving.predictor import load_served_model

    try:
        model = load_served_model(model_uri, tracking_uri, registry_uri)
    except ModelCheckError:
        raise
    except Exception as exc:  # anything unforeseen still fails the build with one line
        raise ModelCheckError(f"cannot load model {model_uri!r}: {one_line(exc)}") from None
    try:
        sample = model.sample[:_SAMPLE_LIMIT] if model.sample is not None else None
        return {
            "flavor": model.flavor,
            "columns": model.columns,
            "prediction_sample": sample,
            "fast_path": model.fast_path,
        }
    finally:
        model.close()
