"""Part 2, step 1: framework-based MLflow APIs: let ``mlflow.sklearn.autolog()`` do the logging.

``02_Experiment_log_model.py`` logs each param, metric and the model with its own call. Here one
call, ``mlflow.sklearn.autolog()``, makes MLflow record what scikit-learn's ``fit`` does: the
estimator's parameters (``alpha``, ``l1_ratio``, ...), training metrics (``training_score``,
``training_root_mean_squared_error``, ...) and the fitted model with a signature under the
artifact path ``model``. Metrics computed with ``sklearn.metrics`` after ``fit`` are logged too
(``*_unknown_dataset`` names here, as the test set is not a named variable MLflow can see). The
tutorial's test-set metrics ``rmse``, ``mae`` and ``r2`` are still logged by name, because that is
what the model gates of a cmlops spec read.

    python code/03_Autolog.py [--alpha A] [--l1-ratio R] [--experiment NAME] [--data PATH]

Environment (what a CML job sets): ``ALPHA``, ``L1_RATIO``, ``EXPERIMENT_NAME``, ``WINE_DATA``.
Runs with mlflow(-skinny) 2.19, as in CML's runtimes, and with MLflow 3. Unknown arguments (a
notebook kernel's ``-f <file>``) are ignored. The last line printed is
``run_id=... experiment_id=... rmse=... mae=... r2=...``.
"""

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
from sklearn.linear_model import ElasticNet

MODEL_ARTIFACT = "model"  # where autolog puts the model


def main() -> None:
    parser = wine.Parser(description=__doc__.splitlines()[0])
    wine.add_hyperparameter_args(parser, positional=False)
    wine.add_experiment_arg(parser)
    wine.add_data_arg(parser)
    args, _ignored = parser.parse_known_args()
    alpha, l1_ratio = wine.hyperparameters(args)
    experiment = wine.experiment_name(args.experiment)
    data_path = wine.locate_data(args.data)
    split = wine.split_data(wine.load_data(data_path))
    print(f"data: {data_path} ({len(split.train_x)} train / {len(split.test_x)} test rows)")

    mlflow.set_experiment(experiment)
    mlflow.sklearn.autolog(log_input_examples=True, silent=True)
    with mlflow.start_run() as run:
        model = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, random_state=wine.SEED)
        model.fit(split.train_x, split.train_y)  # autolog records params, training metrics, model
        metrics = wine.eval_metrics(split.test_y, model.predict(split.test_x))
        mlflow.log_metrics(metrics)
    mlflow.sklearn.autolog(disable=True)

    print(f"ElasticNet (alpha={alpha:g}, l1_ratio={l1_ratio:g}) autologged in experiment {experiment!r}:")
    for name, value in metrics.items():
        print(f"  {name.upper()}: {value:.4f}")
    print(f"model: runs:/{run.info.run_id}/{MODEL_ARTIFACT}")
    print(
        f"run_id={run.info.run_id} experiment_id={run.info.experiment_id} "
        + " ".join(f"{name}={value:.4f}" for name, value in metrics.items())
    )


if __name__ == "__main__":
    wine.run(main)
