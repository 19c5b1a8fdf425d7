"""The model function of AMPs written by `cmlops amp export`: serve the newest registered version.

CML builds the model from this file and calls ``predict(args)`` with the request: the tutorial's
``{"input": [[7.4, 0.7, ...]]}`` (rows in the signature's column order), or MLflow's
``dataframe_split`` / ``dataframe_records``. The registered model is named by the project variable
``REGISTER_MODEL_NAME`` (or ``MODEL_NAME``).
"""

import os

_model = None


def _load():
    global _model
    if _model is None:
        import mlflow

        name = (
            os.environ.get("REGISTER_MODEL_NAME") or os.environ.get("MODEL_NAME") or "wine-quality-elasticnet"
        )
        _model = mlflow.pyfunc.load_model(f"models:/{name}/latest")
    return _model


def predict(args):
    import pandas as pd

    model = _load()
    if "input" in args:
        columns = model.metadata.get_input_schema().input_names()
        frame = pd.DataFrame(args["input"], columns=columns).astype(float)
    elif "dataframe_split" in args:
        frame = pd.DataFrame(**args["dataframe_split"])
    else:
        frame = pd.DataFrame(args.get("dataframe_records") or [args])
    return {"prediction": [float(v) for v in model.predict(frame)]}
