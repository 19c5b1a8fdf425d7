"""MLflow API tour, 4: load a logged or registered model by URI and score the data set in batch.

``mlflow.pyfunc.load_model`` takes any model URI: ``runs:/<run_id>/<artifact>`` for a model logged
by a run, ``models:/<name>/<version>`` (or ``models:/<name>@<alias>``) for a registered one. The
whole data set is scored in one ``predict`` call and written to a CSV (features, ``quality`` and
``prediction``).

    python code/api_tour/04_Predict_Batch.py                         # latest run with a model
    python code/api_tour/04_Predict_Batch.py models:/wine-quality/1  # or set MODEL_URI
    python code/api_tour/04_Predict_Batch.py --output out.csv --experiment my-exp --data PATH

Without a URI, it uses the newest finished run of the experiment (``--experiment``,
``$EXPERIMENT_NAME``, else wine-quality-test) tagged ``model_artifact_path`` by
``02_Experiment_log_model.py``. The last line printed is ``rows=... output=... model_uri=...``.
"""

import os
import sys
from pathlib import Path

try:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
except NameError:  # some CML editors run a job's script without __file__; jobs start in the project root
    sys.path.insert(0, str(Path.cwd() / "code"))

import mlflow
import wine
from mlflow import MlflowClient

SEARCHED_RUNS = 200


def latest_model_uri(experiment_name: str) -> str:
    """``runs:/<run_id>/<artifact>`` of the newest finished run that logged a model."""
    client = MlflowClient()
    experiment = client.get_experiment_by_name(experiment_name)
    if experiment is None:
        raise wine.WineError(
            f"no experiment named {experiment_name!r} in the tracking store {wine.tracking_uri()}; "
            "pass --experiment NAME or a model URI"
        )
    # Filter on the tag client-side: tag-existence filters are not portable across tracking stores.
    runs = client.search_runs(
        [experiment.experiment_id],
        filter_string="attributes.status = 'FINISHED'",
        order_by=["attributes.start_time DESC"],
        max_results=SEARCHED_RUNS,
    )
    for run in runs:
        artifact = run.data.tags.get("model_artifact_path")
        if artifact:
            return f"runs:/{run.info.run_id}/{artifact}"
    raise wine.WineError(
        f"no finished run in experiment {experiment_name!r} logged a model (tag model_artifact_path); "
        "run code/02_Experiment_log_model.py first, or pass a model URI",
        wine.EXIT_FAILURE,
    )


def main() -> None:
    parser = wine.Parser(description=__doc__.splitlines()[0])
    parser.add_argument("model_uri", nargs="?", metavar="MODEL_URI", help="model URI (default: $MODEL_URI)")
    parser.add_argument("--output", default="predictions.csv", help="CSV to write (default predictions.csv)")
    wine.add_experiment_arg(parser)
    wine.add_data_arg(parser)
    args = parser.parse_args()
    output = Path(args.output)
    if output.is_dir():
        raise wine.WineError(f"--output {output} is a folder; give a file name such as predictions.csv")
    data_path = wine.locate_data(args.data)
    frame = wine.load_data(data_path)

    model_uri = (
        args.model_uri
        or os.environ.get("MODEL_URI")
        or latest_model_uri(wine.experiment_name(args.experiment))
    )
    print(f"loading {model_uri}")
    model = mlflow.pyfunc.load_model(model_uri)

    # Cast to the signature's float64 so integer-looking columns are accepted, then score in one call.
    predictions = model.predict(wine.features_frame(frame))
    scored = frame.assign(prediction=[float(p) for p in predictions])
    scored.to_csv(output, index=False)

    column = scored["prediction"]
    print(f"predictions: min {column.min():.3f}, mean {column.mean():.3f}, max {column.max():.3f}")
    print(f"rows={len(scored)} output={output.resolve()} model_uri={model_uri}")


if __name__ == "__main__":
    wine.run(main)
