"""MLflow API tour, 3: look an experiment up with ``MlflowClient`` and list its latest runs.

The client API is explicit where the fluent API is implicit: you name the experiment you want.
This script finds it by id or by name, prints its metadata (id, name, artifact location, lifecycle
stage, creation time, tags) and its latest runs with their metrics.

    python code/api_tour/03_Get_Experiment.py                  # $EXPERIMENT_ID, else $EXPERIMENT_NAME,
                                                               # else wine-quality-test
    python code/api_tour/03_Get_Experiment.py 1                # an id or a name
    python code/api_tour/03_Get_Experiment.py --id 1           # only an id
    python code/api_tour/03_Get_Experiment.py --name my-exp    # only a name
    python code/api_tour/03_Get_Experiment.py --max-runs 10

An unknown experiment ends with one ``error:`` line and exit code 2.
"""

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

try:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
except NameError:  # some CML editors run a job's script without __file__; jobs start in the project root
    sys.path.insert(0, str(Path.cwd() / "code"))

import wine
from mlflow import MlflowClient
from mlflow.entities import Experiment
from mlflow.exceptions import MlflowException

# How stores say "no such experiment" (a malformed id is one too: ids are integers in SQL stores,
# 4x4 strings in CML). Any other MLflow error (an unreachable server, say) is reported as it is.
NOT_FOUND = {"RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE", "NOT_FOUND"}


def by_id(client: MlflowClient, experiment_id: str) -> Experiment | None:
    """The experiment with this id, or None."""
    try:
        return client.get_experiment(experiment_id)
    except MlflowException as exc:
        if exc.error_code in NOT_FOUND:
            return None
        raise


def by_name(client: MlflowClient, name: str) -> Experiment | None:
    """The experiment with exactly this name, or None."""
    try:
        return client.get_experiment_by_name(name)
    except MlflowException as exc:
        if exc.error_code in NOT_FOUND:
            return None
        raise


def find_experiment(client: MlflowClient, args: argparse.Namespace) -> Experiment:
    """Resolve the experiment from --id, --name, the positional argument or the environment."""
    where = f"in the tracking store {wine.tracking_uri()}"
    if args.id:
        candidates, what = [by_id(client, args.id)], f"with id {args.id!r} (from --id)"
    elif args.name:
        candidates, what = [by_name(client, args.name)], f"named {args.name!r} (from --name)"
    elif args.experiment:
        value = args.experiment
        candidates, what = [by_id(client, value), by_name(client, value)], f"with id or name {value!r}"
    elif os.environ.get("EXPERIMENT_ID"):
        value = os.environ["EXPERIMENT_ID"]
        candidates, what = [by_id(client, value)], f"with id {value!r} (from EXPERIMENT_ID)"
    else:
        value = wine.experiment_name(None)
        candidates, what = [by_name(client, value)], f"named {value!r}"
    for experiment in candidates:
        if experiment is not None:
            return experiment
    raise wine.WineError(f"no experiment {what} {where}; check the id or name (see the MLflow UI)")


def timestamp(millis: int | None) -> str:
    """MLflow's epoch milliseconds as an ISO time in UTC."""
    if millis is None:
        return "-"
    return dt.datetime.fromtimestamp(millis / 1000, tz=dt.timezone.utc).isoformat(timespec="seconds")


def main() -> None:
    parser = wine.Parser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment", nargs="?", metavar="ID_OR_NAME", help="experiment id or name")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--id", help="experiment id (default: $EXPERIMENT_ID)")
    group.add_argument("--name", help="experiment name (default: $EXPERIMENT_NAME or wine-quality-test)")
    parser.add_argument("--max-runs", type=int, default=5, help="how many latest runs to list (default 5)")
    args = parser.parse_args()
    if args.experiment and (args.id or args.name):
        raise wine.WineError("give the experiment once: positionally, or with --id or --name")
    if not 1 <= args.max_runs <= 1000:
        raise wine.WineError(f"--max-runs must be between 1 and 1000, got {args.max_runs}")

    client = MlflowClient()
    experiment = find_experiment(client, args)
    print(f"experiment_id: {experiment.experiment_id}")
    print(f"name: {experiment.name}")
    print(f"artifact_location: {experiment.artifact_location}")
    print(f"lifecycle_stage: {experiment.lifecycle_stage}")
    print(f"creation_time: {timestamp(experiment.creation_time)}")
    tags = {k: v for k, v in experiment.tags.items() if not k.startswith("mlflow.")}
    print(f"tags: {tags}")

    runs = client.search_runs(
        [experiment.experiment_id], order_by=["attributes.start_time DESC"], max_results=args.max_runs
    )
    print(f"latest runs ({len(runs)} shown, newest first):")
    for run in runs:
        metrics = " ".join(f"{k}={run.data.metrics[k]:.4f}" for k in ("rmse", "r2") if k in run.data.metrics)
        model = run.data.tags.get("model_artifact_path")
        print(
            f"  {run.info.run_id}  {run.info.status:<8}  {timestamp(run.info.start_time)}"
            + (f"  {metrics}" if metrics else "")
            + (f"  model={model}" if model else "")
        )


if __name__ == "__main__":
    wine.run(main)
