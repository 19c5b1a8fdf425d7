"""`amp export` / `amp import`: one source feeds both formats, and each result passes its own checks."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml
from amp_support import FIXTURES, REPO, materialise

from automation.amp.convert import export_amp, import_amp, predict_source
from automation.amp.loader import load_amp, parse_amp_text
from automation.amp.mapping import map_amp
from automation.amp.model import BuildModel, CreateJob, CreateModel, DeployModel
from automation.amp.validate import validate_loaded
from automation.errors import InputError
from automation.spec import load_spec, parse_spec

FLAGSHIP = REPO / "specs" / "wine-quality.yaml"


@pytest.fixture(scope="module")
def flagship():
    return load_spec(FLAGSHIP, environ={})


def test_export_of_the_flagship_validates_as_an_amp(flagship):
    exported = export_amp(flagship, date=dt.date(2025, 1, 31))
    text = exported.text
    report = validate_loaded(parse_amp_text(text, root=REPO), pending=frozenset(exported.files))
    assert report.errors == [] and report.warnings == []
    amp = report.loaded.amp
    assert [t.type for t in amp.tasks] == [
        "create_job",
        "run_job",
        "create_job",
        "run_job",
        "create_model",
        "build_model",
        "deploy_model",
    ]
    train = amp.tasks[2]
    assert isinstance(train, CreateJob)
    assert (train.name, train.script, train.timeout) == (
        "train",
        "code/02_Experiment_log_model.py",
        1800,
    )
    assert train.arguments == "None" and train.environment["ALPHA"] == "0.5"
    assert "EXPERIMENT_NAME" not in train.environment  # a project variable instead, so users can set it
    assert amp.environment_variables["EXPERIMENT_NAME"].value == "wine-quality-test"
    assert amp.environment_variables["REGISTER_MODEL_NAME"].value == "wine-quality"
    assert amp.environment_variables["WINE_DATA"].value == ""  # ${WINE_DATA:-} exports as its default
    model = amp.tasks[4]
    assert isinstance(model, CreateModel) and model.name == "wine-quality-endpoint"
    assert model.access_key_environment_variable == "MODEL_ACCESS_KEY"
    assert model.default_replication_policy.num_replicas == 1
    build = amp.tasks[5]
    assert isinstance(build, BuildModel) and exported.files == {build.target_file_path: predict_source()}
    assert build.examples[0].request == flagship.models["wine-quality"].endpoint.smoke.input
    deploy = amp.tasks[6]
    assert isinstance(deploy, DeployModel) and (deploy.cpu, deploy.memory, deploy.gpu) == (1, 2, 0)
    assert amp.date == "2025-01-31"
    assert text.startswith("# AMP exported by `cmlops amp export`")
    assert "promotion gates" in text  # what the AMP cannot carry is said


def test_import_of_our_own_amp_loads_as_a_spec(tmp_path: Path):
    loaded = load_amp(REPO)
    text = import_amp(loaded)
    out = tmp_path / "specs" / "imported.yaml"
    out.parent.mkdir()
    (tmp_path / "pyproject.toml").write_text("")
    out.write_text(text)
    spec = load_spec(out, environ={})
    assert spec.source_version == 2 and text.count("\nversion: 2") == 1  # imported straight as v2
    model = spec.model_named()
    assert model.job == "Train wine quality model"  # the install job is passed over
    assert spec.jobs[model.job].script == "code/02_Experiment_log_model.py"
    assert model.experiment == "wine-quality-amp"
    assert model.registered_name == "wine-quality-elasticnet"
    assert spec.projects.dev.environment["MODEL_NAME"] == "wine-quality-elasticnet"
    assert model.endpoint.smoke is not None  # the flagship's smoke input, marked as such
    assert "# the AMP does not say: the flagship's default" in text
    assert map_amp(loaded).training.name == "Train wine quality model"


def test_import_maps_model_tasks_into_the_deployment(tmp_path: Path):
    folder = materialise(tmp_path, "flight_jobs.yaml")
    (folder / "code/0_bootstrap.py").write_text("import os\nos.system('pip3 install -r requirements.txt')\n")
    (folder / "code/4_train_model.py").write_text("import mlflow\nmlflow.xgboost.log_model(m, 'model')\n")
    loaded = load_amp(folder)
    text = import_amp(loaded, git_url="https://github.com/cloudera/CML_AMP_Canceled_Flight_Prediction.git")
    spec = parse_spec(text, file="imported.yaml", environ={})
    model = spec.model_named()
    assert model.job == "Train model"  # its script logs the model
    assert spec.ancestors("Train model") == ["Install dependencies"]  # runs after the install job
    assert "Left out: task 2 (create_job 'Preprocess data')" in text
    assert spec.jobs["Train model"].arguments == ""  # `arguments: None`
    assert spec.projects.dev.source.git_url.endswith("Canceled_Flight_Prediction.git")
    dep = model.endpoint
    assert dep.model_name == "Flight Delay Prediction Model Endpoint"
    assert (dep.cpu, dep.memory, dep.replicas, dep.gpus) == (1, 2, 1, 0)
    assert dep.environment == {"TASK_TYPE": "DEPLOY_MODEL"}
    assert dep.smoke.input == {"feature": "US,DCA,BOS,1,16"}  # the AMP's example request
    assert spec.projects.dev.environment["USE_PREBUILT_MODEL"] == "no"
    assert spec.name == "canceled-flight-prediction"


def test_import_escapes_dollar_braces_and_lists_the_scripts(tmp_path: Path):
    folder = materialise(tmp_path, "rag_studio_apps.yaml")
    meta = folder / ".project-metadata.yaml"
    meta.write_text(meta.read_text().replace('default: "60000"', 'default: "${HOME}/x"'))
    loaded = load_amp(folder)
    spec = parse_spec(
        import_amp(loaded, training_job="Update/build RAG Studio"), file="imported.yaml", environ={}
    )
    assert spec.projects.dev.environment["UV_HTTP_TIMEOUT"] == "${HOME}/x"  # kept literally
    assert set(spec.projects.dev.source.files) == {
        "scripts/install.py",
        "scripts/refresh_project.py",
        "scripts/startup_app.py",
        "scripts/fts_app.py",
    }


def test_import_needs_a_job_that_runs():
    with pytest.raises(InputError) as raised:
        import_amp(load_amp(FIXTURES / "model_only.yaml"))
    assert "runs no job or session" in raised.value.message


def test_round_trip_spec_to_amp_to_spec(flagship, tmp_path: Path):
    exported = tmp_path / ".project-metadata.yaml"
    exported.write_text(export_amp(flagship, root=tmp_path).text)
    for script in ("code/install_dependencies.py", "code/02_Experiment_log_model.py"):
        (tmp_path / script).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / script, tmp_path / script)
    spec = parse_spec(import_amp(load_amp(tmp_path)), file="back.yaml", environ={})
    model, original = spec.model_named(), flagship.model_named()
    job, train = spec.jobs[model.job], flagship.jobs["train"]
    assert (job.script, job.timeout, job.cpu, job.memory) == (
        train.script,
        train.timeout,
        train.cpu,
        train.memory,
    )
    assert [spec.jobs[name].script for name in spec.ancestors(model.job)] == ["code/install_dependencies.py"]
    assert (model.experiment, model.registered_name) == (original.experiment, original.registered_name)
    assert model.endpoint.model_name == original.endpoint.model_name
    assert model.endpoint.smoke.input == original.endpoint.smoke.input
    assert yaml.safe_load(exported.read_text())["tasks"][2]["name"] == original.job
