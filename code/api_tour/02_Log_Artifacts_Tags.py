"""MLflow API tour, 2: log a folder of artifacts and a dict of tags.

Writes ``data/json.json`` (a small description of the data set) and ``data/features.txt`` (the
feature names, one a line) into a temporary folder, sets several tags at once with ``set_tags``,
and logs the whole folder with ``log_artifacts`` under the artifact path ``states``: the run then
holds ``states/json.json`` and ``states/features.txt``. No training and no data file needed.

    python code/api_tour/02_Log_Artifacts_Tags.py [--experiment NAME]

The last line printed is ``run_id=... experiment_id=... artifacts=states/...``.
"""

import json
import sys
import tempfile
from pathlib import Path

try:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
except NameError:  # some CML editors run a job's script without __file__; jobs start in the project root
    sys.path.insert(0, str(Path.cwd() / "code"))

import mlflow
import wine

TOUR_EXPERIMENT = "mlflow-api-tour"
ARTIFACT_PATH = "states"
TAGS = {
    "team": "ml-platform",
    "release.candidate": "RC1",
    "release.version": "1.0.0",
    "tour.step": "02_Log_Artifacts_Tags",
}
DATASET = {
    "name": "Wine Quality (white)",
    "rows": 4898,
    "features": len(wine.FEATURES),
    "target": wine.TARGET,
    "source": "UCI Machine Learning Repository",
    "licence": "CC BY 4.0",
}


def main() -> None:
    parser = wine.Parser(description=__doc__.splitlines()[0])
    wine.add_experiment_arg(parser, default=TOUR_EXPERIMENT)
    args = parser.parse_args()

    experiment = mlflow.set_experiment(wine.experiment_name(args.experiment, default=TOUR_EXPERIMENT))
    with tempfile.TemporaryDirectory() as tmp, mlflow.start_run(run_name="artifacts-and-tags") as run:
        folder = Path(tmp) / "data"
        folder.mkdir()
        (folder / "json.json").write_text(json.dumps(DATASET, indent=2) + "\n", encoding="utf-8")
        (folder / "features.txt").write_text("\n".join(wine.FEATURES) + "\n", encoding="utf-8")

        mlflow.set_tags(TAGS)
        mlflow.log_artifacts(str(folder), artifact_path=ARTIFACT_PATH)

    logged = sorted(f.path for f in mlflow.MlflowClient().list_artifacts(run.info.run_id, ARTIFACT_PATH))
    print(f"tags: {', '.join(f'{k}={v}' for k, v in TAGS.items())}")
    print(f"run_id={run.info.run_id} experiment_id={experiment.experiment_id} artifacts={','.join(logged)}")


if __name__ == "__main__":
    wine.run(main)
