"""The flagship spec loads with and without a workspace configured, and its helpers behave."""

from __future__ import annotations

import json

import pytest

from automation.errors import SpecError
from automation.spec import MASK, CmlTarget, LocalTarget, Spec, load_spec


@pytest.fixture(scope="module")
def flagship(flagship_path) -> Spec:
    return load_spec(flagship_path, environ={})


def test_flagship_loads_without_any_environment(flagship, flagship_path, repo_root):
    assert flagship.name == "wine-quality"
    assert flagship.source_path == flagship_path.resolve()
    assert flagship.repo_root == repo_root
    assert flagship.projects.dev.source.files == ["code/**/*.py", "requirements.txt"]
    assert flagship.projects.dev.source.git_url is None
    assert flagship.projects.prd.source is None
    assert list(flagship.jobs) == ["install-dependencies", "train", "weekly-retrain"]
    train = flagship.jobs["train"]
    assert train.script == "code/02_Experiment_log_model.py" and train.after == "install-dependencies"
    assert train.environment == {
        "ALPHA": "0.5",
        "L1_RATIO": "0.5",
        "EXPERIMENT_NAME": "wine-quality-test",
        "WINE_DATA": "",
    }
    weekly = flagship.jobs["weekly-retrain"]
    assert (weekly.schedule.cron, weekly.schedule.timezone, weekly.after) == ("0 6 * * 1", "UTC", None)
    assert (
        flagship.ancestors("train") == ["install-dependencies"] and flagship.ancestors("weekly-retrain") == []
    )
    app = flagship.applications["wine-scorer"]
    assert (app.project, app.script, app.subdomain, app.bypass_authentication) == (
        "prd", "code/app/scorer.py", "wine-scorer", False,
    )  # fmt: skip
    model = flagship.model_named(None)
    assert model is flagship.models["wine-quality"] and model.registered_name == "wine-quality"
    assert (model.job, model.experiment) == ("train", "wine-quality-test")
    assert model.select.strategy == "latest"
    assert [(t.metric, t.min, t.max) for t in model.gates.thresholds] == [
        ("r2", 0.1, None),
        ("rmse", None, 0.9),
    ]
    assert model.gates.no_worse_than_prd.tolerance == 0.02
    assert model.endpoint.auth is True and model.endpoint.model_name == "wine-quality-endpoint"
    assert model.endpoint.smoke.input["input"][0][0] == 7.4
    assert (model.endpoint.smoke.expect.count, model.endpoint.smoke.expect.min) == (1, 3)
    assert app.environment["MODEL_NAME"] == model.endpoint.model_name
    assert flagship.timeouts.deployment == 1200
    assert (
        flagship.job_timeout("train") == 900 + 1800 and flagship.job_timeout("install-dependencies") == 1800
    )
    assert flagship.source_version == 2


def test_flagship_cml_overrides(flagship):
    cml = flagship.for_target("cml")
    assert (cml.jobs["train"].cpu, cml.jobs["train"].memory) == (2, 4)
    assert cml.models["wine-quality"].endpoint.replicas == 2
    assert cml.models["wine-quality"].registered_name == "wine-quality"
    assert (flagship.jobs["train"].cpu, flagship.models["wine-quality"].endpoint.replicas) == (1, 1)
    assert cml.jobs["train"].environment == flagship.jobs["train"].environment
    assert flagship.for_target("local") is flagship  # no overrides: the same spec
    # positions survive the merge: an error about an overridden field still points into the file
    assert cml.error(("jobs", "train", "cpu"), "x").line == flagship.error(("jobs", "train", "cpu"), "x").line


def test_flagship_targets(flagship):
    local = flagship.target("local")
    assert isinstance(local, LocalTarget) and local.state_dir == ".cmlops" and local.name == "local"
    cml = flagship.target("cml")
    assert isinstance(cml, CmlTarget) and cml.url is None and cml.api_key is None and cml.verify_tls


def test_unused_cml_target_without_url_fails_only_when_asked(flagship, flagship_path):
    with pytest.raises(SpecError) as caught:
        flagship.target("cml").require_url()
    err = caught.value
    assert err.file == str(flagship_path) and err.field == "targets.cml.url"
    assert (
        err.line is not None and "url: ${CML_URL:-}" in flagship_path.read_text().splitlines()[err.line - 1]
    )
    assert "export CML_URL=" in err.hint


def test_flagship_with_a_workspace_configured(flagship_path):
    spec = load_spec(
        flagship_path, environ={"CML_URL": "https://ml-1.example.com/", "CML_API_KEY": "k-123456"}
    )
    cml = spec.target("cml")
    assert cml.require_url() == "https://ml-1.example.com"
    assert cml.api_key.get_secret_value() == "k-123456"
    assert "k-123456" not in repr(spec) and "k-123456" not in str(spec)
    dumped = json.dumps(spec.model_dump_public())
    assert "k-123456" not in dumped
    assert spec.model_dump_public()["targets"]["cml"]["api_key"] == MASK


def test_local_target_has_no_url(flagship):
    with pytest.raises(SpecError, match="has no URL"):
        flagship.target("local").require_url()


def test_unknown_target_lists_the_known_ones(flagship):
    with pytest.raises(SpecError) as caught:
        flagship.target("clm")
    assert "unknown target 'clm'" in caught.value.message
    assert "did you mean 'cml'?" in caught.value.hint and "known targets: cml, local" in caught.value.hint


def test_implicit_local_target(parse, minimal):
    spec = parse(minimal)
    assert list(spec.targets) == ["local"]
    assert spec.target("local").state_dir == ".cmlops"
    assert spec.runtime.kernel == "Python 3.10" and spec.runtime.identifier is None
    assert spec.timeouts.build == 1800


def test_spec_error_helper_points_at_a_field(flagship, flagship_path):
    err = flagship.error(
        ("models", "wine-quality", "endpoint", "smoke", "input"), "the endpoint refused this input"
    )
    line = flagship_path.read_text().splitlines()[err.line - 1]
    assert line.strip().startswith("input:")
    assert err.field == "models.wine-quality.endpoint.smoke.input"


def test_spec_is_immutable(flagship):
    with pytest.raises(ValueError):
        flagship.models["wine-quality"].endpoint.cpu = 4


def test_job_run_wait_is_never_shorter_than_the_job_timeout(parse, minimal):
    spec = parse(
        minimal.replace("    script: code/train.py\n", "    script: code/train.py\n    timeout: 3600\n")
    )
    assert (spec.jobs["train"].timeout, spec.timeouts.job_run, spec.job_timeout("train")) == (
        3600,
        1800,
        3600,
    )
