"""MLflow API tour, 1: the active experiment and the active run.

Shows the fluent API's implicit state: ``set_experiment`` makes an experiment active (creating it if
needed), ``start_run`` opens a run in it, ``active_run`` returns that run (its id is what every later
call logs to), and ``end_run`` closes it as FINISHED.

    python code/api_tour/01_Active_Experiment.py [--experiment NAME]

The experiment defaults to ``$EXPERIMENT_NAME`` or ``mlflow-api-tour`` (kept apart from the training
experiment so tour runs never look like training runs). The last line printed is
``run_id=... experiment_id=... status=...``.
"""

import sys
from pathlib import Path

try:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
except NameError:  # some CML editors run a job's script without __file__; jobs start in the project root
    sys.path.insert(0, str(Path.cwd() / "code"))

import mlflow
import wine

TOUR_EXPERIMENT = "mlflow-api-tour"


def main() -> None:
    parser = wine.Parser(description=__doc__.splitlines()[0])
    wine.add_experiment_arg(parser, default=TOUR_EXPERIMENT)
    args = parser.parse_args()

    experiment = mlflow.set_experiment(wine.experiment_name(args.experiment, default=TOUR_EXPERIMENT))
    print(f"active experiment: {experiment.name!r} (id {experiment.experiment_id})")

    mlflow.start_run(run_name="active-run-demo")
    run = mlflow.active_run()
    run_id = run.info.run_id
    print(f"active run: {run_id} (status {run.info.status})")
    mlflow.set_tag("tour.step", "01_Active_Experiment")
    mlflow.end_run()

    print(f"after end_run, active run: {mlflow.active_run()}")
    finished = mlflow.get_run(run_id)
    print(f"run_id={run_id} experiment_id={experiment.experiment_id} status={finished.info.status}")


if __name__ == "__main__":
    wine.run(main)
