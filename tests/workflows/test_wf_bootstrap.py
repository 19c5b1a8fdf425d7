"""bootstrap from an empty workspace: every write, in order, with its body; then the smoke prediction."""

from __future__ import annotations

from fakes.fake_cml import FakeCML, fixture
from fakes.specs import REPO, flagship, make_spec

from automation.clock import FakeClock
from automation.reconcile import make_plan
from automation.workflows.bootstrap import bootstrap

NEWEST_RUNTIME = (
    "docker.repository.cloudera.com/cloudera/cdsw/ml-runtime-workbench-python3.10-standard:2024.10.1-b12"
)


def test_bootstrap_from_an_empty_workspace(fake: FakeCML, spec) -> None:
    clock = FakeClock()
    client = fake.client(clock)
    events = []
    result = bootstrap(client, spec, on_progress=events.append)

    assert fake.write_summary() == [
        "POST /api/v2/projects",
        "POST /api/v2/projects/{project}/files",
        "POST /api/v2/projects/{project}/files",
        "POST /api/v2/projects",
        "POST /api/v2/projects/{project}/jobs",
        "POST /api/v2/projects/{project}/jobs/{job}/runs",
        "POST /api/v2/registry/models",
        "POST /api/v2/projects/{project}/models",
        "POST /api/v2/projects/{project}/models/{model}/builds",
        "POST /api/v2/projects/{project}/models/{model}/builds/{build}/deployments",
    ]
    (dev_post, up1, up2, prd_post, job_post, run_post, reg_post, model_post, build_post, dep_post) = (
        fake.writes()
    )
    dev = fake.named(fake.projects, spec.projects.dev.name)[0]
    prd = fake.named(fake.projects, spec.projects.prd.name)[0]

    assert dev_post.body == {
        "name": spec.projects.dev.name,
        "description": spec.projects.dev.description,
        "visibility": "private",
        "default_project_engine_type": "ml_runtime",
        "template": "blank",
        "environment": {"CMLOPS_SPEC": "wine-test"},  # the ownership mark destroy checks
    }
    uploads = {**up1.body, **up2.body}
    assert {up1.path, up2.path} == {f"/api/v2/projects/{dev['id']}/files"}
    assert uploads == {
        p: (REPO / p).read_bytes() for p in ("code/wine.py", "code/02_Experiment_log_model.py")
    }
    assert prd_post.body["name"] == spec.projects.prd.name

    assert job_post.path == f"/api/v2/projects/{dev['id']}/jobs"
    assert job_post.body == {
        "project_id": dev["id"],
        "name": "train wine model",
        "script": "code/02_Experiment_log_model.py",
        "runtime_identifier": NEWEST_RUNTIME,  # the newest ENABLED Workbench/Python 3.10/Standard runtime
        "cpu": 1.0,
        "memory": 2.0,
        "nvidia_gpu": 0,
        "arguments": "",
        "environment": {"EXPERIMENT_NAME": "wine-test", "ALPHA": "0.5", "CMLOPS_SPEC": "wine-test"},
        "kill_on_timeout": True,
        "timeout": 900,
    }
    job_id = next(iter(fake.jobs))
    assert run_post.body == {"project_id": dev["id"], "job_id": job_id}

    experiment = next(iter(fake.experiments.values()))
    mlflow_run_id = next(iter(fake.experiment_runs))
    assert experiment["name"] == "wine-test"
    assert reg_post.body == {
        "project_id": dev["id"],
        "experiment_id": experiment["id"],
        "run_id": mlflow_run_id,
        "model_path": "model",
        "model_name": "wine-test-model",
        "visibility": "PRIVATE",
        "tags": [{"key": "cmlops.spec", "value": "wine-test"}],
    }
    registered_id = next(iter(fake.registered_models))
    version_id = next(iter(fake.model_versions))
    assert model_post.path == f"/api/v2/projects/{prd['id']}/models"
    assert model_post.body == {
        "project_id": prd["id"],
        "name": "wine-test-endpoint",
        "description": "wine quality (tests) [cmlops:wine-test]",
        "disable_authentication": False,
        "registered_model_id": registered_id,
    }
    model_id = next(iter(fake.models))
    assert build_post.body["registered_model_version_id"] == version_id
    assert build_post.body["runtime_identifier"] == NEWEST_RUNTIME
    assert build_post.body["model_id"] == model_id
    build_id = next(iter(fake.builds))
    assert dep_post.body == {
        "project_id": prd["id"],
        "model_id": model_id,
        "build_id": build_id,
        "cpu": 1.0,
        "memory": 2.0,
        "replicas": 1,
        "nvidia_gpus": 0,
        "environment": {},
    }

    # the smoke prediction: the spec's input, sent with the model's access key and the bearer key
    model_calls = [c for c in fake.calls if c.host == "model"]
    assert len(model_calls) == 1 and model_calls[0].status == 200
    assert model_calls[0].body == {
        "accessKey": fake.models[model_id]["access_key"],
        "request": spec.model_named(None).endpoint.smoke.input,
    }
    assert result.smoke["predictions"] == [5.9]

    summary = result.summary
    assert summary["dev_project_id"] == dev["id"] and summary["prd_project_id"] == prd["id"]
    assert (
        summary["job_run_id"] == next(iter(fake.job_runs)) and summary["job_run_status"] == "ENGINE_SUCCEEDED"
    )
    assert summary["mlflow_run_id"] == mlflow_run_id
    assert summary["metrics"] == {"rmse": 0.6536, "mae": 0.5009, "r2": 0.3418}
    assert (summary["registered_model_id"], summary["model_version_id"], summary["model_version"]) == (
        registered_id,
        version_id,
        1,
    )
    assert (summary["model_id"], summary["build_id"]) == (model_id, build_id)
    assert (
        summary["deployment_id"] == next(iter(fake.deployments))
        and summary["deployment_status"] == "deployed"
    )
    assert summary["endpoint_url"] == "https://modelservice.cml.example.com/model"
    assert summary["smoke_prediction"] == [5.9]
    assert result.to_dict()["apply"]["writes"] == 10

    # the waits polled the scripted progressions, on the fake clock (no real sleeping)
    by_step: dict[str, list[str]] = {}
    for event in events:
        by_step.setdefault(event.what.split(" ")[1], []).append(event.status)
    assert by_step["run"] == ["ENGINE_SCHEDULING", "ENGINE_RUNNING", "ENGINE_SUCCEEDED"]
    assert by_step["build"] == ["queued", "pending", "built"]
    assert by_step["deployment"] == ["pending", "deploying", "deployed"]
    assert clock.sleeps and clock.now() == sum(clock.sleeps)


def test_bootstrap_again_changes_nothing(converged: FakeCML, client, spec) -> None:
    result = bootstrap(client, spec)
    assert converged.writes() == []
    assert result.apply == {"writes": 0, "steps": []}
    assert not result.plan.has_changes
    assert result.summary["smoke_prediction"] == [5.9]  # the smoke test still runs


def test_flagship_spec_bootstraps_and_its_converged_plan_reads(fake: FakeCML) -> None:
    """The README records how many requests a converged `plan` of specs/wine-quality.yaml makes."""
    spec = flagship()
    client = fake.client()
    fake.experiment_name = spec.model_named(None).experiment
    result = bootstrap(client, spec)
    assert result.summary["smoke_prediction"] == [5.9]
    fake.calls.clear()
    the_plan, _, files = make_plan(client, spec)
    reads = len(fake.reads())
    folders = {p.rsplit("/", 1)[0] if "/" in p else "" for p in files}
    print(
        f"\nconverged plan of specs/wine-quality.yaml: {reads} GET requests ({len(folders)} source folders)"
    )
    assert not the_plan.has_changes and fake.writes() == []
    # one GET per resource lookup (12 with one job, see tests/reconcile/test_reconcile_resume.py),
    # one per further job and per application, one per folder of the PRD applications' scripts, and
    # one per DEV source folder
    prd_folders = {a.script.rsplit("/", 1)[0] for a in spec.applications.values() if a.project == "prd"}
    lookups = 12 + (len(spec.jobs) - 1) + len(spec.applications) + len(prd_folders)
    assert reads == the_plan.reads <= lookups + len(folders)


def test_bootstrap_with_auth_off_creates_an_open_endpoint(fake: FakeCML) -> None:
    spec = make_spec({"deployment": {"auth": False}})
    result = bootstrap(fake.client(), spec)
    model = next(iter(fake.models.values()))
    assert model["auth_enabled"] is False
    creates = [c for c in fake.writes() if fake.shape(c.path) == "/api/v2/projects/{project}/models"]
    assert [c.body["disable_authentication"] for c in creates] == [True]
    assert result.summary["auth_enabled"] is False
    assert fixture("model")["auth_enabled"] is True  # the recorded default is auth on
