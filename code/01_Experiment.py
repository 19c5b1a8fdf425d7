"""Part 1, step 1: track an experiment.

Trains scikit-learn's ElasticNet on the wine-quality data (seeded 75/25 split) and records the run in
MLflow: params ``alpha`` and ``l1_ratio``, metrics ``rmse``, ``mae`` and ``r2``.

    python code/01_Experiment.py                      # alpha = l1_ratio = 0.5
    python code/01_Experiment.py 0.3 0.7              # positional, like the original tutorial
    ALPHA=0.3 L1_RATIO=0.7 python code/01_Experiment.py --experiment my-exp

In a CML job, MLflow is already configured; elsewhere ``MLFLOW_TRACKING_URI`` picks the store
(MLflow's default is ``sqlite:///mlflow.db`` in the current folder). The last line printed is
``run_id=... experiment_id=... rmse=... mae=... r2=...``.
"""

import sys
from pathlib import Path

try:
    _CODE_DIR = Path(__file__).resolve().parent
except NameError:  # some CML editors run a job's script without __file__; jobs start in the project root
    _CODE_DIR = Path.cwd() / "code"
sys.path.insert(0, str(_CODE_DIR))

import mlflow
import wine
from sklearn.linear_model import ElasticNet


def main() -> None:
    parser = wine.Parser(description=__doc__.splitlines()[0])
    wine.add_hyperparameter_args(parser)
    wine.add_experiment_arg(parser)
    wine.add_data_arg(parser)
    args = parser.parse_args()
    alpha, l1_ratio = wine.hyperparameters(args)
    experiment = wine.experiment_name(args.experiment)
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

    print(f"ElasticNet (alpha={alpha:g}, l1_ratio={l1_ratio:g}) in experiment {experiment!r}:")
    for name, value in metrics.items():
        print(f"  {name.upper()}: {value:.4f}")
    print(
        f"run_id={run.info.run_id} experiment_id={run.info.experiment_id} "
        + " ".join(f"{name}={value:.4f}" for name, value in metrics.items())
    )


if __name__ == "__main__":
    wine.run(main)
