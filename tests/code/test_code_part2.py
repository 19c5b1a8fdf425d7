"""Part 2: 03_Autolog.py (framework-based MLflow APIs) and 04_Register_model.py (registration via the
MLflow API), run the way a CML job runs a script: through a kernel-like ``exec`` with no
``__file__``, an extra ``-f <kernel.json>`` in ``sys.argv``, the project root as working folder, and
``SystemExit`` (even ``sys.exit(0)``) counted as a failed run."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import SCRIPT_TIMEOUT, Ran, Store
from test_code_training import FINAL_LINE, assert_good_metrics

EXPERIMENT = "part2"
MODEL_NAME = "wine-part2"

# What a CML job kernel does with a script, reduced to what matters to the script.
_KERNEL = textwrap.dedent(
    """
    import sys
    script = sys.argv[1]
    sys.argv = ["/usr/local/bin/ipykernel_launcher.py", "-f", "/tmp/kernel-1234.json"]
    source = open(script, encoding="utf-8").read()
    try:
        exec(compile(source, "<job>", "exec"), {"__name__": "__main__"})
    except SystemExit as exc:
        print(f"kernel: the script raised SystemExit({exc.code!r}): the job run fails", file=sys.stderr)
        sys.exit(3)
    """
)


def run_as_job(store: Store, root: Path, script: str, **env: str) -> Ran:
    proc = subprocess.run(
        [sys.executable, "-c", _KERNEL, f"code/{script}"],
        cwd=root,
        env=store.env({"EXPERIMENT_NAME": EXPERIMENT, **env}),
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT,
        check=False,
    )
    return Ran(proc)


@dataclass(frozen=True)
class Part2:
    autolog: Ran
    register: Ran

    def run_id(self, ran: Ran) -> str:
        match = FINAL_LINE.match(ran.last_line())
        assert match, ran.last_line()
        return match.group(1)


@pytest.fixture(scope="module")
def part2(store: Store, trained, repo_copy) -> Part2:
    """Both scripts once, one after the other (they write to the session's store)."""
    root = repo_copy("part2-project")
    autolog = run_as_job(store, root, "03_Autolog.py", ALPHA="0.3").ok()
    register = run_as_job(store, root, "04_Register_model.py", REGISTER_MODEL_NAME=MODEL_NAME).ok()
    return Part2(autolog, register)


def test_03_autolog_records_params_metrics_and_the_model(store: Store, part2: Part2) -> None:
    client = store.client()
    run = client.get_run(part2.run_id(part2.autolog))
    assert run.info.status == "FINISHED"
    assert client.get_experiment(run.info.experiment_id).name == EXPERIMENT
    # autolog's own records: every estimator parameter, training metrics, the estimator's class
    assert run.data.params["alpha"] == "0.3" and "max_iter" in run.data.params
    assert "training_score" in run.data.metrics
    assert run.data.tags["estimator_class"] == "sklearn.linear_model._coordinate_descent.ElasticNet"
    # the tutorial's test-set metrics, logged by name for the spec's gates
    assert_good_metrics({k: v for k, v in run.data.metrics.items() if k in ("rmse", "mae", "r2")})
    # the model under "model", loadable from the run, with an all-double signature
    import mlflow.pyfunc

    model = mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/model")
    inputs = model.metadata.get_input_schema().to_dict()
    assert len(inputs) == 11 and {c["type"] for c in inputs} == {"double"}


def test_04_registers_a_version_whose_source_is_its_own_run(store: Store, part2: Part2) -> None:
    client = store.client()
    run_id = part2.run_id(part2.register)
    versions = client.search_model_versions(f"name = '{MODEL_NAME}'")
    assert [(int(v.version), v.run_id, v.status) for v in versions] == [(1, run_id, "READY")]
    assert versions[0].tags == {"registered_by": "code/04_Register_model.py"}
    assert f"registered: models:/{MODEL_NAME}/1 (from runs:/{run_id}/model)" in part2.register.stdout
    run = client.get_run(run_id)
    assert run.data.params == {"alpha": "0.5", "l1_ratio": "0.5"}
    assert_good_metrics(run.data.metrics)
    import mlflow.pyfunc

    model = mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}/1")
    assert len(model.metadata.get_input_schema().to_dict()) == 11


def test_the_scripts_keep_to_what_mlflow_2_19_offers() -> None:
    """CML's runtimes have mlflow-skinny 2.19: no ``name=`` in log_model, no LoggedModel API. The
    scripts (and the helper they share) must not spell MLflow 3-only calls."""
    code = Path(__file__).resolve().parents[2] / "code"
    for script in ("03_Autolog.py", "04_Register_model.py"):
        text = (code / script).read_text(encoding="utf-8")
        assert "name=artifact" not in text and "mlflow.sklearn.log_model(" not in text
        assert "search_logged_models" not in text and "parse_known_args()" in text
        assert "sys.exit" not in text
    helper = (code / "wine.py").read_text(encoding="utf-8")
    assert "return mlflow.sklearn.log_model(model, artifact, **kwargs)" in helper


def test_log_sklearn_model_uses_the_positional_path_when_there_is_no_name_parameter(
    wine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow.sklearn

    calls: list[tuple[tuple, dict]] = []

    def log_model_2_19(sk_model, artifact_path, conda_env=None, signature=None):  # 2.19's spelling
        calls.append(((sk_model, artifact_path), {"signature": signature}))
        return "info"

    monkeypatch.setattr(mlflow.sklearn, "log_model", log_model_2_19)
    assert wine.log_sklearn_model("est", "model", signature="sig") == "info"
    assert calls == [(("est", "model"), {"signature": "sig"})]

    def log_model_3(sk_model, artifact_path=None, *, name=None, signature=None):
        calls.append(((sk_model,), {"name": name}))
        return "info3"

    monkeypatch.setattr(mlflow.sklearn, "log_model", log_model_3)
    assert wine.log_sklearn_model("est", "model", signature=None) == "info3"
    assert calls[-1] == (("est",), {"name": "model"})


def test_an_empty_model_name_is_a_one_line_error(store: Store, repo_copy) -> None:
    root = repo_copy("part2-bad-name")
    ran = run_as_job(store, root, "04_Register_model.py", REGISTER_MODEL_NAME="  ")
    assert ran.proc.returncode == 3  # the kernel reports the script's exit as a failed run
    assert "error: the model name is empty" in ran.stderr
    assert "SystemExit(2)" in ran.stderr
    assert "run_id=" not in ran.stdout  # refused before any run was made
