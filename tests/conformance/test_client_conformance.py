"""Every request the API v2 client can build exists in the real swagger description.

Each public client method is called once against a catch-all `responses` mock that records
(method, path, body, query keys); each record must match a path template and verb of
`cml-api-v2.swagger.json`, with body fields from the request schema, each value of the schema's
type (a string is not an object: a PATCH body's ``environment`` is a JSON string; int64 travels
as a string; enums hold one of their values) and documented query keys.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import responses

from automation.api import CMLClient
from automation.api.base import Resource
from automation.api.types import RegisteredModel
from automation.clock import FakeClock
from automation.http import HttpClient, RetryPolicy

from .swagger import Operation, Swagger

BASE = "https://cml.example.test"
KEY = "conformance-key-0123456789abcdef"


@dataclass
class Record:
    method: str
    path: str
    body_keys: dict[str, Any] | None
    query: dict[str, str]
    multipart: bool

    @property
    def search_filter(self) -> dict[str, Any] | None:
        raw = self.query.get("search_filter")
        return json.loads(raw) if raw else None


def _status_for(path: str) -> str:
    if "/runs/" in path and "/jobs/" in path:
        return "ENGINE_SUCCEEDED"
    if "/deployments/" in path:
        return "deployed"
    if "/builds/" in path:
        return "built"
    if "/applications/" in path:
        return "APPLICATION_RUNNING"
    if "/versions/" in path:
        return "READY"
    if path.endswith("/runtimeaddons"):
        return "AVAILABLE"
    return "success"


def _universal(path: str) -> dict[str, Any]:
    """One body that every typed model and every list call can read."""
    item = {
        "id": "x1",
        "model_id": "m1",
        "model_version_id": "v1",
        "image_identifier": "rt:2025.01.1-b1",
        "editor": "Workbench",
        "kernel": "Python 3.10",
        "edition": "Standard",
        "full_version": "2025.01.1-b1",
        "name": "wine",
        "path": "train.py",
        "status": _status_for(path),
        "creation_status": "success",
        "environment": "{}",
        "access_key": "mabcdefghijklmnopqrstuvwxyz01234",
        "deletion_status": "",
        "error_message": "",
        "identifier": "x1",
        "display_name": "Spark 3.5.1",
        "model_version_metadata": {"mlflow_metadata": {"run_id": "r1"}},
    }
    lists = [
        "projects",
        "runtimes",
        "jobs",
        "job_runs",
        "experiments",
        "experiment_runs",
        "models",
        "model_builds",
        "model_deployments",
        "applications",
        "runtime_addons",
        "files",
        "model_versions",
        "metrics",
    ]
    return {**item, **{k: [dict(item)] for k in lists}, "next_page_token": "", "valid": True, "username": "u"}


# label -> a call of the public client method it names
CALLS: dict[str, Callable[[CMLClient], Any]] = {
    "validate_key": lambda c: c.validate_key(),
    "projects.list": lambda c: list(
        c.projects.list(search_filter={"name": "wine"}, sort="-created_at", include_public_projects=True)
    ),
    "projects.find": lambda c: c.projects.find("wine"),
    "projects.get": lambda c: c.projects.get("p1"),
    "projects.create": lambda c: c.projects.create(
        "wine", description="d", git_url="https://git.example/r.git", git_ref="main", environment={"A": "1"}
    ),
    "projects.update": lambda c: c.projects.update("p1", description="d", environment={"A": "1"}),
    "projects.delete": lambda c: c.projects.delete("p1"),
    "projects.wait_created": lambda c: c.projects.wait_created("p1"),
    "projects.file_sizes": lambda c: c.projects.file_sizes("p1", ["requirements.txt", "code/train.py"]),
    "projects.list_files": lambda c: (c.projects.list_files("p1"), c.projects.list_files("p1", "code/sub")),
    "projects.upload_file": lambda c: c.projects.upload_file("p1", "code/train.py", b"print(1)"),
    "projects.delete_file": lambda c: c.projects.delete_file("p1", "code/train.py"),
    "projects.remove_upload_twins": lambda c: c.projects.remove_upload_twins("p1", {"code/train.py": 8}),
    "runtimes.list": lambda c: list(c.runtimes.list(search_filter={"kernel": "Python 3.10"})),
    "runtimes.pick": lambda c: c.runtimes.pick(editor="Workbench", kernel="Python 3.10", edition="Standard"),
    "runtimes.matching": lambda c: c.runtimes.matching(
        editor="Workbench", kernel="Python 3.10", edition="Standard"
    ),
    "runtimes.exists": lambda c: c.runtimes.exists("rt:2025.01.1-b1"),
    "runtime_addons.list": lambda c: list(c.runtime_addons.list(search_filter={"component": "Spark"})),
    "runtime_addons.resolve": lambda c: c.runtime_addons.resolve(["x1"]),
    "jobs.list": lambda c: list(c.jobs.list("p1", search_filter={"name": "wine"})),
    "jobs.find": lambda c: c.jobs.find("p1", "wine"),
    "jobs.get": lambda c: c.jobs.get("p1", "j1"),
    "jobs.create": lambda c: c.jobs.create(
        "p1",
        name="wine",
        script="train.py",
        runtime_identifier="rt",
        arguments="-x",
        environment={"A": "1"},
        timeout=60,
        parent_id="j0",
    ),
    "jobs.update": lambda c: c.jobs.update(
        "p1",
        "j1",
        cpu=2,
        memory=4,
        nvidia_gpu=0,
        script="t.py",
        arguments="",
        environment={"A": "1"},
        timeout=60,
        runtime_identifier="rt",
        kill_on_timeout=True,
        parent_id="j0",
    ),
    "jobs.delete": lambda c: c.jobs.delete("p1", "j1"),
    "jobs.list_runs": lambda c: list(c.jobs.list_runs("p1", "j1", limit=5)),
    "jobs.start_run": lambda c: c.jobs.start_run("p1", "j1", environment={"A": "1"}, arguments="-x"),
    "jobs.get_run": lambda c: c.jobs.get_run("p1", "j1", "r1"),
    "jobs.stop_run": lambda c: c.jobs.stop_run("p1", "j1", "r1"),
    "jobs.wait_run": lambda c: c.jobs.wait_run("p1", "j1", "r1"),
    "experiments.list": lambda c: list(c.experiments.list("p1", search_filter={"name": "wine"})),
    "experiments.find": lambda c: c.experiments.find("p1", "wine"),
    "experiments.get": lambda c: c.experiments.get("p1", "e1"),
    "experiments.list_runs": lambda c: list(
        c.experiments.list_runs("p1", "e1", search_filter={"status": "EXPERIMENT_RUN_FINISHED"}, limit=3)
    ),
    "experiments.get_run": lambda c: c.experiments.get_run("p1", "e1", "r1"),
    "experiments.metric_history": lambda c: c.experiments.metric_history("p1", "e1", "r1", "rmse"),
    "registry.list": lambda c: list(c.registry.list(search_filter={"model_name": "wine"})),
    "registry.find": lambda c: c.registry.find("wine"),
    "registry.get": lambda c: c.registry.get("rm1"),
    "registry.versions": lambda c: c.registry.versions("rm1"),
    "registry.get_version": lambda c: c.registry.get_version("rm1", "v1"),
    "registry.register": lambda c: c.registry.register(
        project_id="p1",
        experiment_id="e1",
        run_id="r1",
        model_path="model",
        model_name="wine",
        description="d",
        notes="n",
        tags={"a": "b"},
    ),
    "registry.update": lambda c: c.registry.update("rm1", description="wine"),
    "registry.update_version": lambda c: c.registry.update_version("rm1", "v1", notes="n", tags={"a": "b"}),
    "registry.delete": lambda c: c.registry.delete("rm1"),
    "registry.version_of_run": lambda c: c.registry.version_of_run(
        RegisteredModel(model_id="rm1", name="wine"), "r1"
    ),
    "registry.wait_version": lambda c: c.registry.wait_version("rm1", "v1"),
    "models.list": lambda c: list(c.models.list("p1", search_filter={"name": "wine"})),
    "models.find": lambda c: c.models.find("p1", "wine"),
    "models.get": lambda c: c.models.get("p1", "m1"),
    "models.create": lambda c: c.models.create(
        "p1", name="wine", description="d", registered_model_id="rm1", disable_authentication=True
    ),
    "models.update": lambda c: c.models.update("p1", "m1", name="wine", description="d"),
    "models.delete": lambda c: c.models.delete("p1", "m1"),
    "models.list_builds": lambda c: list(c.models.list_builds("p1", "m1")),
    "models.get_build": lambda c: c.models.get_build("p1", "m1", "b1"),
    "models.create_build": lambda c: c.models.create_build(
        "p1", "m1", registered_model_version_id="v1", runtime_identifier="rt", comment="c"
    ),
    "models.create_file_build": lambda c: c.models.create_file_build(
        "p1",
        "m1",
        file_path="code/amp/predict.py",
        function_name="predict",
        runtime_identifier="rt",
        comment="c",
        kernel="python3",
    ),
    "models.wait_build": lambda c: c.models.wait_build("p1", "m1", "b1"),
    "models.list_deployments": lambda c: list(c.models.list_deployments("p1", "m1", "b1")),
    "models.get_deployment": lambda c: c.models.get_deployment("p1", "m1", "b1", "d1"),
    "models.create_deployment": lambda c: c.models.create_deployment(
        "p1", "m1", "b1", cpu=1, memory=2, replicas=1, environment={"A": "1"}
    ),
    "models.stop_deployment": lambda c: c.models.stop_deployment("p1", "m1", "b1", "d1"),
    "models.restart_deployment": lambda c: c.models.restart_deployment("p1", "m1", "b1", "d1"),
    "models.wait_deployment": lambda c: c.models.wait_deployment("p1", "m1", "b1", "d1"),
    "applications.list": lambda c: list(c.applications.list("p1", search_filter={"name": "wine"})),
    "applications.find": lambda c: c.applications.find("p1", "wine"),
    "applications.get": lambda c: c.applications.get("p1", "a1"),
    "applications.create": lambda c: c.applications.create(
        "p1",
        name="wine",
        subdomain="wine",
        script="app.py",
        runtime_identifier="rt",
        description="d",
        environment={"A": "1"},
    ),
    "applications.update": lambda c: c.applications.update(
        "p1", "a1", description="d", environment={"A": "1"}, script="app.py"
    ),
    "applications.stop": lambda c: c.applications.stop("p1", "a1"),
    "applications.restart": lambda c: c.applications.restart("p1", "a1"),
    "applications.delete": lambda c: c.applications.delete("p1", "a1"),
    "applications.wait_running": lambda c: c.applications.wait_running("p1", "a1"),
}


def public_client_methods() -> set[str]:
    client = CMLClient(HttpClient(BASE, KEY, clock=FakeClock()))
    names = {n for n, _ in inspect.getmembers(CMLClient, inspect.isfunction) if not n.startswith("_")}
    for attr, resource in vars(client).items():
        if isinstance(resource, Resource):
            own = {
                n for n, _ in inspect.getmembers(type(resource), inspect.isfunction) if not n.startswith("_")
            }
            names |= {f"{attr}.{n}" for n in own - set(dir(Resource))}
    return names


def _record(request: Any) -> Record:
    parts = urlsplit(request.url)
    ctype = request.headers.get("Content-Type", "") or ""
    multipart = ctype.startswith("multipart/")
    body = None
    if request.body and not multipart:
        raw = request.body.decode() if isinstance(request.body, bytes) else request.body
        body = json.loads(raw)
    return Record(request.method, parts.path, body, dict(parse_qsl(parts.query)), multipart)


@pytest.fixture(scope="module")
def swagger() -> Swagger:
    return Swagger.load_or_skip()


@pytest.fixture(scope="module")
def recorded() -> Iterator[dict[str, list[Record]]]:
    out: dict[str, list[Record]] = {}
    current: list[Record] = []

    def callback(request: Any) -> tuple[int, dict[str, str], str]:
        current.append(_record(request))
        return 200, {"Content-Type": "application/json"}, json.dumps(_universal(urlsplit(request.url).path))

    clock = FakeClock()
    client = CMLClient(HttpClient(BASE, KEY, clock=clock, retry=RetryPolicy(max_attempts=1)), clock=clock)
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        for method in ("GET", "POST", "PATCH", "DELETE"):
            mock.add_callback(method, re.compile(re.escape(BASE) + r"/.*"), callback=callback)
        for label, call in CALLS.items():
            current = []
            call(client)
            out[label] = current
    yield out


def test_every_public_client_method_is_exercised() -> None:
    # from_settings and model_service build clients; they send no request of their own.
    missing = sorted(public_client_methods() - {"from_settings", "model_service"} - set(CALLS))
    assert missing == [], f"add these client methods to CALLS: {missing}"


@pytest.mark.parametrize("label", sorted(CALLS))
def test_request_exists_in_the_description(
    label: str, recorded: dict[str, list[Record]], swagger: Swagger
) -> None:
    records = recorded[label]
    assert records, f"{label} sent no request"
    problems = []
    for r in records:
        problems += swagger.check_request(
            r.method,
            r.path,
            body=r.body_keys,
            query=r.query,
            multipart=r.multipart,
            search_filter=r.search_filter,
        )
    assert problems == []


# --- the checker itself can fail ----------------------------------------------------------------


def test_templates_with_dotted_params_and_colon_actions(swagger: Swagger) -> None:
    patch = swagger.match("PATCH", "/api/v2/projects/p1")
    stop = swagger.match("POST", "/api/v2/projects/p1/jobs/j1/runs/r1:stop")

    assert isinstance(patch, Operation) and patch.template == "/api/v2/projects/{project.id}"
    assert patch.path_params == {"project.id": "p1"}
    assert stop is not None and stop.template.endswith("/runs/{run_id}:stop")
    assert swagger.match("GET", "/api/v2/projects/p1/jobs/j1/runs/r1:stop") is None
    assert swagger.match("POST", "/api/v2/projects/p1/jobs/j1/runs/r1/stop") is None


def test_literal_segments_win_over_parameters(swagger: Swagger) -> None:
    op = swagger.match("GET", "/api/v2/projects/batch")

    assert op is not None and op.template == "/api/v2/projects/batch"


def test_the_checker_reports_wrong_paths_verbs_fields_and_query(swagger: Swagger) -> None:
    assert "no path template" in swagger.check_request("GET", "/api/v2/nope")[0]
    assert "verb not allowed" in swagger.check_request("PUT", "/api/v2/projects/p1")[0]
    body = swagger.check_request(
        "POST", "/api/v2/projects/p1/models/m1/builds", body={"runtime_identifier": "rt", "cpu": 1}
    )
    assert body == ["POST /api/v2/projects/p1/models/m1/builds body: field 'cpu' is not in the schema"]
    query = swagger.check_request("GET", "/api/v2/projects", query=["page_size", "pageSize"])
    assert len(query) == 1 and "pageSize" in query[0]
    assert (
        "search_filter keys"
        in swagger.check_request(
            "GET", "/api/v2/projects", query=["search_filter"], search_filter={"nmae": "x"}
        )[0]
    )
    assert (
        "takes none"
        in swagger.check_request("POST", "/api/v2/projects/p1/applications/a1:stop", body={"x": 1})[0]
    )


def test_the_patch_body_is_the_resource_itself(swagger: Swagger) -> None:
    assert (
        swagger.check_request("PATCH", "/api/v2/projects/p1/jobs/j1", body={"cpu": 2, "parent_id": "j0"})
        == []
    )
    assert swagger.check_request(
        "PATCH", "/api/v2/projects/p1", body={"default_project_engine_type": "x"}
    )  # Project spells it default_engine_type


def test_request_checks_catch_value_types_and_enums(swagger: Swagger) -> None:
    job = "/api/v2/projects/p1/jobs/j1"
    assert swagger.check_request("PATCH", job, body={"environment": '{"A": "1"}', "timeout": "60"}) == []
    env = swagger.check_request("PATCH", job, body={"environment": {"A": "1"}})
    assert env == [f"PATCH {job} body.environment: expected string, got {{'A': '1'}}"]
    assert swagger.check_request("PATCH", "/api/v2/projects/p1", body={"environment": {"A": "1"}})
    assert swagger.check_request("PATCH", job, body={"timeout": "soon"})  # int64: digits in a string
    assert swagger.check_request("POST", "/api/v2/projects/p1/jobs", body={"environment": {"A": "1"}}) == []
    assert swagger.check_request("POST", "/api/v2/projects/p1/jobs", body={"environment": '{"A": "1"}'})
    assert swagger.check_request("POST", "/api/v2/projects/p1/jobs", body={"cpu": "two"})
    registry = "/api/v2/registry/models"
    assert swagger.check_request("POST", registry, body={"visibility": "PRIVATE"}) == []
    enum = swagger.check_request("POST", registry, body={"visibility": "private"})
    assert len(enum) == 1 and "not one of ['PRIVATE', 'PUBLIC']" in enum[0]


def test_response_checks_catch_unknown_fields_and_types(swagger: Swagger) -> None:
    good = {"id": "j1", "timeout": "3600", "environment": "{}", "cpu": 1, "project": {"name": "p"}}
    bad = {"id": "j1", "timeout": True, "environment": {"A": "1"}, "bogus": 1}

    assert swagger.check_response("GET", "/api/v2/projects/p1/jobs/j1", good) == []
    problems = swagger.check_response("GET", "/api/v2/projects/p1/jobs/j1", bad)
    assert any("'bogus'" in p for p in problems)
    assert any(".timeout" in p for p in problems) and any(".environment" in p for p in problems)
