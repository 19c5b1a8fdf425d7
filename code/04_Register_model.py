"""Part 2, step 2: automated model registration via the MLflow API, from the training run itself.

Trains and logs the model as ``02_Experiment_log_model.py`` does, then registers it from the run
with ``mlflow.register_model("runs:/<run_id>/<artifact>", name)``: a new version of the registered
model ``name`` whose source is this run (MLflow waits until the version is ready). The same can be
had in one call with ``log_model(..., registered_model_name=name)``. The version gets the tag
``registered_by`` = ``code/04_Register_model.py``.

When this script is a cmlops spec's training job and ``name`` is the spec's
``model.registered_name``, cmlops takes this version as the run's registered version: it registers
nothing more and builds this version once.

    python code/04_Register_model.py [--alpha A] [--l1-ratio R] [--experiment NAME] [--data PATH]
        [--name MODEL_NAME]

Environment (what a CML job sets): ``ALPHA``, ``L1_RATIO``, ``EXPERIMENT_NAME``, ``WINE_DATA``,
``MODEL_ARTIFACT_PATH`` (default ``model``), ``REGISTER_MODEL_NAME`` (default
``wine-quality-elasticnet``, the flagship spec's registered model). Runs with mlflow(-skinny) 2.19,
as in CML's runtimes, and with MLflow 3; unknown arguments are ignored. The last line printed is
``run_id=... experiment_id=... rmse=... mae=... r2=...``.
"""

import os
import sys
from pathlib import Path

try:
    _CODE_DIR = Path(__file__).resolve().parent
except (
    NameError
):  # CML runs a job's script through a kernel, without __file__; jobs start in the project root
    _CODE_DIR = Path.cwd() / "code"
sys.path.insert(0, str(_CODE_DIR))

import mlflow
import wine
from mlflow.models import infer_signature
from sklearn.linear_model import ElasticNet

DEFAULT_NAME = "wine-quality-elasticnet"


def model_name(cli_value: str | None) -> str:
    name = (cli_value or os.environ.get("REGISTER_MODEL_NAME") or DEFAULT_NAME).strip()
    if not name:
        raise wine.WineError("the model name is empty; pass --name MODEL_NAME or set REGISTER_MODEL_NAME")
    return name


def main() -> None:
    parser = wine.Parser(description=__doc__.splitlines()[0])
    wine.add_hyperparameter_args(parser, positional=False)
    wine.add_experiment_arg(parser)
    wine.add_data_arg(parser)
    parser.add_argument("--name", metavar="MODEL_NAME", help=f"registered model (default: {DEFAULT_NAME})")
    args, _ignored = parser.parse_known_args()
    alpha, l1_ratio = wine.hyperparameters(args)
    experiment = wine.experiment_name(args.experiment)
    name = model_name(args.name)
    artifact = wine.artifact_name(
        os.environ.get("MODEL_ARTIFACT_PATH", "model"), source="environment variable MODEL_ARTIFACT_PATH"
    )
    data_path = wine.locate_data(args.data)
    split = wine.split_data(wine.load_data(data_path))
    print(f"data: {data_path} ({len(split.train_x)} train / {len(split.test_x)} test rows)")

    mlflow.set_experiment(experiment)
    with mlflow.start_run() as run:
        model = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, random_state=wine.SEED)
        model.fit(split.train_x, split.train_y)
        metrics = wine.eval_metrics(split.test_y, model.predict(split.test_x))
        mlflow.log_params({"alpha": alpha, "l1_ratio": l1_ratio})
        mlflow.log_metrics(metrics)
        signature = infer_signature(split.train_x, model.predict(split.train_x))
        wine.log_sklearn_model(model, artifact, signature=signature, input_example=split.train_x.head(5))

    # Registering after the run ended: the version's source is the finished run.
    version = mlflow.register_model(f"runs:/{run.info.run_id}/{artifact}", name)
    mlflow.MlflowClient().set_model_version_tag(
        name, version.version, "registered_by", "code/04_Register_model.py"
    )

    print(f"ElasticNet (alpha={alpha:g}, l1_ratio={l1_ratio:g}) in experiment {experiment!r}:")
    for key, value in metrics.items():
        print(f"  {key.upper()}: {value:.4f}")
    print(f"registered: models:/{name}/{version.version} (from runs:/{run.info.run_id}/{artifact})")
    print(
        f"run_id={run.info.run_id} experiment_id={run.info.experiment_id} "
        + " ".join(f"{key}={value:.4f}" for key, value in metrics.items())
    )


if __name__ == "__main__":
    wine.run(main)
