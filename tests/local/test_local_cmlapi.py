"""The local workspace's ``cmlapi`` package: served at /api/v2/python.tar.gz, preinstalled for workloads.

Three layers: the package's shape against the swagger (names, argument orders, the description it
is built from), the package against the live server (imported here from a scratch folder and
unloaded afterwards, so cmlops' own environment never keeps a ``cmlapi``), and a job on the live
workspace whose script does the whole loop with ``cmlapi.default_client()``.
"""

from __future__ import annotations

import gzip
import inspect
import io
import json
import os
import re
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from cmlapi_describe import TARGET, covered_ids, describe, local_routes, render, snake
from conformance.swagger import Swagger
from local_support import Api

from automation.local import control
from automation.local.state.paths import StatePaths
from automation.local.workloads.runtime import cmlapi_package

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def swagger() -> Swagger:
    return Swagger.load_or_skip()


@pytest.fixture(scope="module")
def cmlapi(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The package as a project environment gets it, imported from a scratch folder, unloaded after."""
    site = tmp_path_factory.mktemp("cmlapi-site")
    assert cmlapi_package.ensure_installed(site)
    sys.path.insert(0, str(site))
    try:
        import cmlapi as module

        yield module
    finally:
        sys.path.remove(str(site))
        for name in [n for n in sys.modules if n == "cmlapi" or n.startswith("cmlapi.")]:
            del sys.modules[name]


@pytest.fixture(scope="module")
def client(cmlapi: ModuleType, api: Api):
    return cmlapi.default_client(api.url, api.key)


# --- the package's shape ------------------------------------------------------------------------


def test_the_shipped_description_is_what_the_swagger_and_the_routes_give(swagger: Swagger) -> None:
    expected = render(describe(swagger.doc, covered_ids(swagger.doc, local_routes())))
    assert TARGET.read_text(encoding="utf-8") == expected, (
        "operations.json is stale: run `python tests/local/cmlapi_describe.py`"
    )


def test_every_served_operation_has_its_method_with_the_generated_clients_argument_order(
    cmlapi: ModuleType, swagger: Swagger
) -> None:
    served = covered_ids(swagger.doc, local_routes())
    assert len(served) >= 50
    for template, verbs in swagger.doc["paths"].items():
        for verb, op in verbs.items():
            if op.get("operationId") not in served:
                continue
            params = op.get("parameters", [])
            path_names = [p["name"].replace(".", "_") for p in params if p["in"] == "path"]
            in_url = [n.replace(".", "_") for n in re.findall(r"\{([^}]+)\}", template)]
            assert sorted(path_names) == sorted(in_url)
            positional = (["body"] if any(p["in"] == "body" for p in params) else []) + in_url
            method = getattr(cmlapi.CMLServiceApi, snake(op["operationId"]))
            signature = inspect.signature(method)
            got = [n for n, p in signature.parameters.items() if p.kind is p.POSITIONAL_OR_KEYWORD]
            assert got == ["self", *positional], (verb, template)
            keywords = {n for n, p in signature.parameters.items() if p.kind is p.KEYWORD_ONLY}
            assert {p["name"] for p in params if p["in"] == "query"} <= keywords


@pytest.mark.parametrize(
    ("name", "positional"),
    [
        ("list_projects", []),
        ("create_job", ["body", "project_id"]),
        ("create_job_run", ["body", "project_id", "job_id"]),
        ("list_job_runs", ["project_id", "job_id"]),
        ("create_registered_model", ["body"]),
        ("create_model_build", ["body", "project_id", "model_id"]),
        ("create_model_deployment", ["body", "project_id", "model_id", "build_id"]),
        ("get_model_deployment", ["project_id", "model_id", "build_id", "deployment_id"]),
        ("update_project", ["body", "project_id"]),
        ("get_experiment_run_metrics", ["project_id", "experiment_id", "run_id", "metric_key"]),
        ("validate_api_key", ["body"]),
    ],
)
def test_the_known_call_shapes(cmlapi: ModuleType, name: str, positional: list[str]) -> None:
    parameters = inspect.signature(getattr(cmlapi.CMLServiceApi, name)).parameters
    assert [n for n, p in parameters.items() if p.kind is p.POSITIONAL_OR_KEYWORD] == ["self", *positional]
    assert hasattr(cmlapi.CMLServiceApi, name + "_with_http_info")


def test_cmlops_own_environment_has_no_cmlapi() -> None:
    """cmlops must never shadow Cloudera's package inside CML: no importable ``cmlapi`` next to it."""
    code = (
        "import importlib.util, sys\n"
        "import automation.local.app, automation.local.workloads.runtime.cmlapi_package\n"
        "assert importlib.util.find_spec('cmlapi') is None, importlib.util.find_spec('cmlapi')\n"
        "try:\n    import cmlapi\nexcept ModuleNotFoundError:\n    print('absent')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stdout.strip() == "absent", done.stderr


def test_models_take_keywords_and_positions_and_give_dicts(cmlapi: ModuleType) -> None:
    request = cmlapi.CreateJobRunRequest("p1", "j1", environment={"A": "1"})
    assert (request.project_id, request.job_id, request.arguments) == ("p1", "j1", None)
    assert request.to_dict() == {
        "project_id": "p1",
        "job_id": "j1",
        "environment": {"A": "1"},
        "arguments": None,
    }
    assert request == cmlapi.CreateJobRunRequest(project_id="p1", job_id="j1", environment={"A": "1"})
    nested = cmlapi.CreateRegisteredModelRequest(tags=[cmlapi.Tag(key="k", value="v")])
    assert nested.to_dict()["tags"] == [{"key": "k", "value": "v"}]
    assert "tags" in repr(nested)
    with pytest.raises(TypeError, match="unexpected keyword argument 'nme'"):
        cmlapi.CreateProjectRequest(nme="typo")
    assert cmlapi.EngineStatus.ENGINE_SUCCEEDED == "ENGINE_SUCCEEDED"
    assert cmlapi.Job.swagger_types["environment"] == "str"  # a JSON string in responses, as in CML
    assert cmlapi.CreateJobRequest.swagger_types["environment"] == "dict(str, str)"


def test_default_client_reads_the_workload_variables(
    cmlapi: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CDSW_API_URL", "http://127.0.0.1:9/api/v1")
    monkeypatch.setenv("CDSW_APIV2_KEY", "k" * 16)
    client = cmlapi.default_client()
    assert client.api_client.configuration.host == "http://127.0.0.1:9"
    assert client.api_client.default_headers["authorization"] == "Bearer " + "k" * 16
    explicit = cmlapi.default_client("https://ml.example/", "other")
    assert explicit.api_client.configuration.host == "https://ml.example"
    monkeypatch.delenv("CDSW_API_URL")
    monkeypatch.delenv("CDSW_DOMAIN", raising=False)
    with pytest.raises(ValueError, match="no workspace URL"):
        cmlapi.default_client()
    monkeypatch.setenv("CDSW_DOMAIN", "ml.example")
    monkeypatch.delenv("CDSW_APIV2_KEY")
    with pytest.raises(ValueError, match="no API key"):
        cmlapi.default_client()


def test_bad_calls_fail_as_the_generated_client_does(cmlapi: ModuleType) -> None:
    client = cmlapi.default_client("http://127.0.0.1:9", "key")
    with pytest.raises(
        ValueError, match="Missing the required parameter `project_id` when calling `create_job`"
    ):
        client.create_job({"name": "x"}, None)
    with pytest.raises(TypeError, match="unexpected keyword argument 'serch_filter' to method list_projects"):
        client.list_projects(serch_filter="{}")
    with pytest.raises(TypeError, match="takes 2 positional arguments"):
        client.create_job({}, "p", "extra")
    with pytest.raises(AttributeError, match="no attribute 'list_everything'"):
        _ = client.list_everything


def test_operations_the_local_workspace_does_not_serve_raise_501(cmlapi: ModuleType) -> None:
    client = cmlapi.default_client("http://127.0.0.1:9", "key")  # nothing listens there: no request is sent
    calls = {
        "GET /api/v2/projectnames": client.list_project_names,
        "POST /api/v2/users/{username}/v2_keys": client.create_v2_key,
    }
    for line, call in calls.items():
        with pytest.raises(cmlapi.rest.ApiException) as caught:
            call({}, "me") if "v2_keys" in line else call()
        assert caught.value.status == 501 and caught.value.reason == "Not Implemented"
        message = json.loads(caught.value.body)["message"]
        assert "not implemented by the cmlops local workspace" in message and line in message


def test_the_preinstall_updates_its_own_copy_and_leaves_a_projects_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site-packages"
    site.mkdir()
    current = cmlapi_package.version()
    monkeypatch.setattr(cmlapi_package, "version", lambda: "1.0+cmlops.old")
    assert cmlapi_package.ensure_installed(site)
    old = site / "cmlapi-1.0+cmlops.old.dist-info"
    (site / "cmlapi" / "gone.py").write_text("")  # a module the newer package no longer has
    with (old / "RECORD").open("a") as record:
        record.write("cmlapi/gone.py,,\n")
    monkeypatch.setattr(cmlapi_package, "version", lambda: current)
    assert cmlapi_package.ensure_installed(site)
    assert [p.name for p in site.glob("cmlapi-*.dist-info")] == [f"cmlapi-{current}.dist-info"]
    assert not (site / "cmlapi" / "gone.py").exists() and (site / "cmlapi" / "api.py").is_file()
    assert not list(site.glob(".cmlapi-*"))  # no staging folder left behind
    assert not cmlapi_package.ensure_installed(site)
    # The project pip-installed a cmlapi of its own (as into ~/.local in CML): it stays.
    (site / f"cmlapi-{current}.dist-info" / "INSTALLER").write_text("pip\n")
    monkeypatch.setattr(cmlapi_package, "version", lambda: "99.0+cmlops.newer")
    assert not cmlapi_package.ensure_installed(site)
    assert [p.name for p in site.glob("cmlapi-*.dist-info")] == [f"cmlapi-{current}.dist-info"]


# --- the archive and pip --------------------------------------------------------------------------


def test_the_archive_is_an_sdist_of_cmlapi_served_without_a_key(api: Api) -> None:
    answer = api.get("/api/v2/python.tar.gz", auth=False)
    assert answer.status_code == 200, answer.text
    assert answer.content == cmlapi_package.source_archive()[0]  # the same bytes each time
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(answer.content))) as archive:
        names = archive.getnames()
    base = f"cmlapi-{cmlapi_package.version()}"
    assert {f"{base}/PKG-INFO", f"{base}/pyproject.toml", f"{base}/cmlapi/__init__.py"} <= set(names)
    assert not any("__pycache__" in n for n in names)
    # Only this path is open: the rest of /api/v2 still wants the key.
    assert api.get("/api/v2/projects", auth=False).status_code == 401
    assert api.get("/api/v2/python.tar.gz/x", auth=False).status_code == 401


def test_pip_installs_the_archive_into_a_fresh_venv_offline(api: Api, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path), "PIP_CONFIG_FILE": os.devnull}
    install = [str(python), "-m", "pip", "install", "--no-index", "--no-deps", "--disable-pip-version-check"]
    done = subprocess.run(
        [*install, f"{api.url}/api/v2/python.tar.gz"], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    script = (
        "import cmlapi, json, sys\n"
        "c = cmlapi.default_client(sys.argv[1], sys.argv[2])\n"
        "print(json.dumps([cmlapi.__version__, type(c.list_projects()).__name__]))\n"
    )
    ran = subprocess.run(
        [str(python), "-c", script, api.url, api.key], env=env, capture_output=True, text=True, timeout=120
    )
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout) == [cmlapi_package.version(), "ListProjectsResponse"]


# --- the package against the live server -----------------------------------------------------------


def test_calls_answer_model_objects(cmlapi: ModuleType, client, api: Api) -> None:
    names = {f"cmlapi-unit-{i}" for i in range(3)}
    for name in sorted(names):
        client.create_project(cmlapi.CreateProjectRequest(name=name, template="blank"))
    listed = client.list_projects(search_filter=json.dumps({"name": "cmlapi-unit-"}))
    assert isinstance(listed, cmlapi.ListProjectsResponse)
    assert {p.name for p in listed.projects} == names
    first = listed.projects[0]
    assert isinstance(first, cmlapi.Project) and isinstance(first.owner, cmlapi.ShortUser)
    assert first.created_at.tzinfo is not None and first.created_at.year >= 2024
    assert first.to_dict()["owner"]["username"] == first.owner.username
    again = client.get_project(first.id)
    assert again.id == first.id and again.name == first.name
    # Paging: Cursor follows next_page_token, re-sending page_size, until every project came.
    cursor = cmlapi.utils.Cursor(
        client.list_projects, search_filter=json.dumps({"name": "cmlapi-unit-"}), page_size=1
    )
    assert sorted(p.name for p in cursor.items()) == sorted(names)
    data, status, headers = client.get_project_with_http_info(first.id)
    assert status == 200 and data.id == first.id and "content-type" in {k.lower() for k in headers}
    thread = client.get_project(first.id, async_req=True)
    assert thread.get(timeout=60).id == first.id
    # A dict body goes out as it is; an update body is the resource itself (environment as a string).
    updated = client.update_project({"description": "from a dict"}, first.id)
    assert updated.description == "from a dict"


def test_errors_are_api_exceptions_with_the_servers_answer(cmlapi: ModuleType, client, api: Api) -> None:
    with pytest.raises(cmlapi.rest.ApiException) as missing:
        client.get_project("no-such-project")
    assert missing.value.status == 404 and missing.value.reason == "Not Found"
    assert "no-such-project" in json.loads(missing.value.body)["message"]
    with pytest.raises(cmlapi.ApiException) as refused:
        cmlapi.default_client(api.url, "wrong-key").list_projects()
    assert refused.value.status == 401
    with pytest.raises(cmlapi.ApiException) as no_route:
        client.api_client.call_api("/api/v2/no/such/route", "GET", response_type="object")
    assert no_route.value.status == 404 and "no such API route" in no_route.value.body
    with pytest.raises(cmlapi.ApiException) as bad:
        client.create_job(cmlapi.CreateJobRequest(name="no script"), "no-such-project")
    assert bad.value.status in (400, 404)


# --- a job that does the whole loop with cmlapi ------------------------------------------------------

TINY_TRAINING = """\
import os

import mlflow
import pandas as pd


class Doubler(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return [2 * float(x) for x in model_input["x"]]


mlflow.set_experiment(os.environ["EXPERIMENT_NAME"])
with mlflow.start_run():
    mlflow.log_metric("r2", 1.0)
    mlflow.pyfunc.log_model("model", python_model=Doubler(), input_example=pd.DataFrame({"x": [1.0, 2.0]}))
"""

FLOW = '''\
"""The loop a CML automation script does with cmlapi: nothing in it knows the workspace is local."""
import json
import os
import time
import urllib.request

import cmlapi
from cmlapi.rest import ApiException
from cmlapi.utils import Cursor

client = cmlapi.default_client()
project_id = os.environ["CDSW_PROJECT_ID"]
mine = [p for p in Cursor(client.list_projects, search_filter=json.dumps({"name": os.environ["CDSW_PROJECT"]})).items()]
assert [p.id for p in mine] == [project_id], mine
print("PROJECT", client.get_project(project_id).name)

runtimes = Cursor(client.list_runtimes, search_filter=json.dumps({"kernel": os.environ["KERNEL"], "editor": "Workbench"}))
runtime = max(runtimes.items(), key=lambda r: r.full_version).image_identifier

with open("train_tiny.py", "w") as handle:
    handle.write(os.environ["TRAINING_SCRIPT"])
job = client.create_job(
    cmlapi.CreateJobRequest(
        name="tiny training", script="train_tiny.py", runtime_identifier=runtime,
        environment={"EXPERIMENT_NAME": "cmlapi-flow"},
    ),
    project_id,
)
run = client.create_job_run(cmlapi.CreateJobRunRequest(), project_id, job.id)


def wait(read, done, what):
    end = time.time() + 600
    value = read()
    while not done(value):
        if time.time() > end:
            raise SystemExit(f"timed out waiting for {what}: {value}")
        time.sleep(1)
        value = read()
    return value


def run_status():
    runs = {r.id: r for r in Cursor(client.list_job_runs, project_id=project_id, job_id=job.id, page_size=1).items()}
    return runs[run.id].status


status = wait(run_status, lambda s: s in ("ENGINE_SUCCEEDED", "ENGINE_FAILED", "ENGINE_STOPPED", "ENGINE_TIMEDOUT"), "the run")
assert status == "ENGINE_SUCCEEDED", status
print("RUN", status)

experiment = next(e for e in Cursor(client.list_experiments, project_id=project_id).items() if e.name == "cmlapi-flow")
exp_run = next(Cursor(client.list_experiment_runs, project_id=project_id, experiment_id=experiment.id).items())
registered = client.create_registered_model(
    cmlapi.CreateRegisteredModelRequest(
        project_id=project_id, experiment_id=experiment.id, run_id=exp_run.id,
        model_path="model", model_name="cmlapi-flow-model", visibility="PRIVATE",
    )
)
version = registered.model_versions[0]
print("REGISTERED", registered.model_id, version.number)

model = client.create_model(
    cmlapi.CreateModelRequest(project_id=project_id, name="cmlapi flow", description="deployed by cmlapi",
                              registered_model_id=registered.model_id),
    project_id,
)
build = client.create_model_build(
    cmlapi.CreateModelBuildRequest(project_id=project_id, model_id=model.id, runtime_identifier=runtime,
                                   registered_model_version_id=version.model_version_id, comment="cmlapi"),
    project_id, model.id,
)
built = wait(lambda: client.get_model_build(project_id, model.id, build.id).status,
             lambda s: s in ("built", "build failed"), "the build")
assert built == "built", built
deployment = client.create_model_deployment(
    cmlapi.CreateModelDeploymentRequest(cpu=1, memory=2), project_id, model.id, build.id
)
deployed = wait(lambda: client.get_model_deployment(project_id, model.id, build.id, deployment.id).status,
                lambda s: s in ("deployed", "failed"), "the deployment")
assert deployed == "deployed", deployed

# Locally the model service is <workspace>/model (in CML: https://modelservice.<domain>/model).
url = os.environ["CDSW_API_URL"].replace("/api/v1", "/model")
body = {"accessKey": model.access_key, "request": {"dataframe_split": {"columns": ["x"], "data": [[3.0], [4.5]]}}}
request = urllib.request.Request(url, json.dumps(body).encode(), {
    "Content-Type": "application/json", "Authorization": "Bearer " + os.environ["CDSW_APIV2_KEY"]})
answer = json.load(urllib.request.urlopen(request, timeout=60))
print("PREDICTION", json.dumps(answer["response"]))

try:
    client.list_all_jobs()
except ApiException as exc:
    print("UNSERVED", exc.status)
'''


def test_a_job_does_the_whole_loop_with_cmlapi(api: Api, local, runtime: str) -> None:
    kernel = f"Python {sys.version_info[0]}.{sys.version_info[1]}"  # registry models load in cmlops' Python
    project = api.project("cmlapi-flow")
    api.upload(project["id"], "flow.py", FLOW)
    job = api.job(
        project["id"],
        "flow.py",
        runtime,
        name="cmlapi flow",
        environment={"KERNEL": kernel, "TRAINING_SCRIPT": TINY_TRAINING},
    )
    run = api.wait_run(api.run(project["id"], job["id"]))
    log = control.job_run_log_path(local.state_dir, run["id"]).read_text(encoding="utf-8")
    assert run["status"] == "ENGINE_SUCCEEDED", log[-3000:]
    assert "PROJECT cmlapi-flow" in log and "RUN ENGINE_SUCCEEDED" in log
    assert "UNSERVED 501" in log
    prediction = json.loads(log.split("PREDICTION ", 1)[1].splitlines()[0])
    assert prediction == {"prediction": [6.0, 9.0]} or prediction == [6.0, 9.0], prediction
    # What the script made is there, seen through the API directly.
    jobs = api.ok("GET", f"/api/v2/projects/{project['id']}/jobs")["jobs"]
    assert sorted(j["name"] for j in jobs) == ["cmlapi flow", "tiny training"]
    models = api.ok("GET", f"/api/v2/projects/{project['id']}/models")["models"]
    assert [m["name"] for m in models] == ["cmlapi flow"]
    registered = api.ok(
        "GET", "/api/v2/registry/models", params={"search_filter": '{"model_name": "cmlapi-flow-model"}'}
    )
    assert [m["name"] for m in registered["models"]] == ["cmlapi-flow-model"]
    # The package came preinstalled in the project's environment, marked as the workspace's.
    envs = StatePaths.of(local.state_dir).project_envs(project["id"])
    installed = list(envs.rglob("cmlapi-*.dist-info"))
    assert [p.name for p in installed] == [f"cmlapi-{cmlapi_package.version()}.dist-info"]
    assert (installed[0] / "INSTALLER").read_text().strip() == cmlapi_package.INSTALLER
