"""Part 1, step 2: track an experiment and log the model, ready to register and serve.

Everything ``01_Experiment.py`` does, plus the fitted model logged under a known artifact path, with
a signature (the 11 features, all ``double``) and an input example. This is the training job the
automation runs. It works with the MLflow of CML's runtimes (``mlflow-skinny`` 2.19, where
``log_model`` takes ``artifact_path``) and with MLflow 3 (``name``), and ends by returning (CML's
job kernel fails a run that calls ``sys.exit``, even with 0).

    python code/02_Experiment_log_model.py [ALPHA L1_RATIO] [--alpha A] [--l1-ratio R]
        [--experiment NAME] [--data PATH] [--register MODEL_NAME]

Environment (what a CML job sets): ``ALPHA``, ``L1_RATIO``, ``EXPERIMENT_NAME``, ``WINE_DATA``,
``MODEL_ARTIFACT_PATH`` (default ``model``), ``REGISTER_MODEL_NAME`` (register a version too; off
by default). The run is tagged ``model_artifact_path`` and, inside CML, ``cml.engine_id`` and
``cml.project_id``, so the automation can find the run a job run produced. The last line printed is
``run_id=... experiment_id=... rmse=... mae=... r2=...``.
"""

import os
import sys
import tempfile
from pathlib import Path

try:
    _CODE_DIR = Path(__file__).resolve().parent
except NameError:  # some CML editors run a job's script without __file__; jobs start in the project root
    _CODE_DIR = Path.cwd() / "code"
sys.path.insert(0, str(_CODE_DIR))

import mlflow
import wine
from mlflow.models import infer_signature
from sklearn.linear_model import ElasticNet


def run_tags(artifact: str) -> dict[str, str]:
    """Tags that let the automation tie this run to the CML job run (engine) that produced it."""
    tags = {"model_artifact_path": artifact}
    for tag, variable in (("cml.engine_id", "CDSW_ENGINE_ID"), ("cml.project_id", "CDSW_PROJECT_ID")):
        if os.environ.get(variable):
            tags[tag] = os.environ[variable]
    return tags


def copy_model_into_run(model_uri: str, artifact: str) -> None:
    """Also store the model's files under the run's own artifacts, at ``<artifact>/``.

    MLflow 3 keeps a logged model outside the run's artifact folder (``runs:/<run>/<artifact>``
    still resolves to it), but CML's API v2 registers a model from a run by ``model_path``, a folder
    under the run's artifact root. The copy (a few kB) makes that request work too. MLflow 2.x
    already logs the model there (its model URI is ``runs:/...``): nothing to do.
    """
    if model_uri.startswith("runs:/"):
        return
    with tempfile.TemporaryDirectory() as tmp:
        local = mlflow.artifacts.download_artifacts(artifact_uri=model_uri, dst_path=tmp)
        mlflow.log_artifacts(local, artifact_path=artifact)


def main() -> None:
    parser = wine.Parser(description=__doc__.splitlines()[0])
    wine.add_hyperparameter_args(parser)
    wine.add_experiment_arg(parser)
    wine.add_data_arg(parser)
    parser.add_argument(
        "--register", metavar="MODEL_NAME", help="also register the model (default: $REGISTER_MODEL_NAME)"
    )
    args = parser.parse_args()
    alpha, l1_ratio = wine.hyperparameters(args)
    experiment = wine.experiment_name(args.experiment)
    artifact = wine.artifact_name(
        os.environ.get("MODEL_ARTIFACT_PATH", "model"), source="environment variable MODEL_ARTIFACT_PATH"
    )
    register = (args.register or os.environ.get("REGISTER_MODEL_NAME") or "").strip() or None
    data_path = wine.locate_data(args.data)
    split = wine.split_data(wine.load_data(data_path))
    print(f"data: {data_path} ({len(split.train_x)} train / {len(split.test_x)} test rows)")

    mlflow.set_experiment(experiment)
    with mlflow.start_run() as run:
        model = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, random_state=wine.SEED)
        model.fit(split.train_x, split.train_y)
        metrics = wine.eval_metrics(split.test_y, model.predict(split.test_x))

        mlflow.log_param("alpha", alpha)
        mlflow.log_param("l1_ratio", l1_ratio)
        mlflow.log_metrics(metrics)
        mlflow.set_tags(run_tags(artifact))

        # split.train_x is float64 already: every input column is declared `double`, so a caller's
        # integers (e.g. 11 for free sulfur dioxide) are cast by the server, not rejected as long.
        signature = infer_signature(split.train_x, model.predict(split.train_x))
        info = wine.log_sklearn_model(
            model,
            artifact,
            signature=signature,
            input_example=split.train_x.head(5),
            registered_model_name=register,
        )
        copy_model_into_run(info.model_uri, artifact)

    print(f"ElasticNet (alpha={alpha:g}, l1_ratio={l1_ratio:g}) in experiment {experiment!r}:")
    for name, value in metrics.items():
        print(f"  {name.upper()}: {value:.4f}")
    print(f"model: runs:/{run.info.run_id}/{artifact} ({info.model_uri})")
    if register:
        print(f"registered: models:/{register}/{getattr(info, 'registered_model_version', '?')}")
    print(
        f"run_id={run.info.run_id} experiment_id={run.info.experiment_id} "
        + " ".join(f"{name}={value:.4f}" for name, value in metrics.items())
    )


if __name__ == "__main__":
    wine.run(main)
