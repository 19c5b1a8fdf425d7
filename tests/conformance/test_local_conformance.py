"""The local workspace speaks API v2 as described by the real swagger file.

Two checks: every route the local FastAPI app serves is a (verb, path template) of
``cml-api-v2.swagger.json`` (Starlette cannot put dots in parameter names, so ``{project.id}`` and
``{project_id}`` count as equal; ``/health`` and the model service ``/model`` are local extras), and
every response body the live server gave during a full bootstrap and a round of reads has only
fields and JSON types the swagger's response schema allows. Skips with a reason without the file.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
from e2e.local_bootstrap import Bootstrapped, Recorded, client_for, record_calls, release, shared_bootstrap

from automation.api import CMLClient
from automation.local import control

from .swagger import Swagger

LOCAL_EXTRAS = {("GET", "/health"), ("POST", "/model"), ("GET", "/api/v2/python.tar.gz")}
# The web UI (cmlops local ui): pages of our own, not API v2; the API itself stays what the swagger says.
UI_PREFIXES = ("/ui",)
UI_EXTRAS = {("GET", "/")}  # redirects to /ui/
# The client lists a project's root as GET .../files/ (swagger: files/{path} with an empty path);
# the server also accepts it without the trailing slash.
ALIASES = {("GET", "/api/v2/projects/{project_id}/files"): "/api/v2/projects/{project_id}/files/{path}"}


def _normal(template: str) -> str:
    """'{project.id}' -> '{project_id}', '{path:path}' -> '{path}'."""
    return re.sub(r"\{([^}:]+)(:[^}]*)?\}", lambda m: "{" + m.group(1).replace(".", "_") + "}", template)


@pytest.fixture(scope="session")
def swagger() -> Swagger:
    return Swagger.load_or_skip()


def _walk(routes: list, prefix: str = "") -> Iterator[tuple[str, str]]:
    """(verb, path) of routes, descending into included routers (FastAPI >= 0.16x keeps them nested)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            yield from _walk(inner.routes, prefix + (getattr(context, "prefix", "") or ""))
            continue
        for method in getattr(route, "methods", None) or ():
            if method not in ("HEAD", "OPTIONS"):
                yield method, prefix + route.path


def _app_routes(tmp_path: Path) -> set[tuple[str, str]]:
    """(verb, path) of every route of the local server's FastAPI app (built, not started)."""
    from automation.local.app import create_app

    stub = SimpleNamespace(
        api_key="unused",
        paths=SimpleNamespace(root=tmp_path),
        log=logging.getLogger("t"),
        tracking=lambda *_: None,  # MLflow's own server at /mlflow: MLflow's protocol, not API v2
        sessions=None,  # the web UI's login sessions (its routes are under /ui, not API v2)
        ui_cookie="cmlops_ui_test",
    )
    app = create_app(stub)  # type: ignore[arg-type]
    return set(_walk(app.routes))


def test_every_local_route_is_an_api_v2_operation(swagger: Swagger, tmp_path: Path) -> None:
    described = {
        (verb.upper(), _normal(template))
        for template, ops in swagger.doc["paths"].items()
        for verb in ops
        if verb in ("get", "post", "put", "patch", "delete")
    }
    routes = _app_routes(tmp_path)
    assert len(routes) > 30, routes  # the app really was read
    missing = sorted(
        f"{method} {path}"
        for method, path in routes
        if (method, path) not in LOCAL_EXTRAS | UI_EXTRAS
        and not path.startswith(UI_PREFIXES)
        and (method, ALIASES.get((method, _normal(path)), _normal(path))) not in described
    )
    assert missing == [], "local routes with no operation in the swagger:\n" + "\n".join(missing)


# --- live response bodies ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def boot(swagger: Swagger, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bootstrapped]:
    """The session's bootstrapped workspace (shared with tests/e2e: session scope, so it is torn down once
    at the end); asks for ``swagger`` first so a missing file skips without starting anything."""
    value = shared_bootstrap(tmp_path_factory)
    yield value
    release(value)


def _read_everything(client: CMLClient, boot: Bootstrapped) -> None:
    """One call to each read (and a few writes on throwaway objects) the client makes."""
    s = boot.result.summary
    dev, prd = s["dev_project_id"], s["prd_project_id"]
    client.validate_key()
    list(client.runtimes.list())
    assert list(client.runtime_addons.list(search_filter={"component": "Spark"})) == []  # none locally
    list(client.projects.list())
    client.projects.get(dev)
    client.projects.list_files(dev)
    client.projects.list_files(dev, "code")
    list(client.jobs.list(dev))
    client.jobs.get(dev, s["job_id"])
    list(client.jobs.list_runs(dev, s["job_id"]))
    client.jobs.get_run(dev, s["job_id"], s["job_run_id"])
    list(client.experiments.list(dev))
    client.experiments.get(dev, s["experiment_id"])
    list(client.experiments.list_runs(dev, s["experiment_id"]))
    client.experiments.get_run(dev, s["experiment_id"], s["mlflow_run_id"])
    client.experiments.metric_history(dev, s["experiment_id"], s["mlflow_run_id"], "rmse")
    list(client.registry.list())
    client.registry.get(s["registered_model_id"])
    client.registry.get_version(s["registered_model_id"], s["model_version_id"])
    list(client.models.list(prd))
    client.models.get(prd, s["model_id"])
    list(client.models.list_builds(prd, s["model_id"]))
    client.models.get_build(prd, s["model_id"], s["build_id"])
    list(client.models.list_deployments(prd, s["model_id"], s["build_id"]))
    client.models.get_deployment(prd, s["model_id"], s["build_id"], s["deployment_id"])
    # writes on a throwaway project: update, a job that is started and stopped, deletes
    scratch = client.projects.create("conformance-scratch", environment={"A": "1"})
    client.projects.update(scratch.id, description="changed", environment={"B": "2"})
    client.projects.upload_file(scratch.id, "wait.py", b"import time\ntime.sleep(30)\n")
    job = client.jobs.create(
        scratch.id, name="wait", script="wait.py", runtime_identifier=s["runtime_identifier"]
    )
    client.jobs.update(scratch.id, job.id, arguments="x")
    run = client.jobs.start_run(scratch.id, job.id)
    client.jobs.stop_run(scratch.id, job.id, run.id)
    client.projects.delete_file(scratch.id, "wait.py")


@pytest.fixture(scope="module")
def live_calls(boot: Bootstrapped) -> list[Recorded]:
    calls = list(boot.calls)  # everything the bootstrap did
    client = client_for(control.ensure_running(boot.state_dir))
    extra: list[Recorded] = []
    record_calls(client, extra)
    _read_everything(client, boot)
    return calls + extra


def test_live_response_bodies_match_the_swagger(swagger: Swagger, live_calls: list[Recorded]) -> None:
    problems: list[str] = []
    for call in live_calls:
        problems.extend(swagger.check_response(call.method, call.path, call.body))
    assert problems == [], "\n".join(problems)


def test_the_live_calls_cover_every_family(swagger: Swagger, live_calls: list[Recorded]) -> None:
    """The body check above means something only if it saw every resource family's answers."""
    seen = {op.template for c in live_calls if (op := swagger.match(c.method, c.path)) is not None}
    wanted = [
        "/projects",
        "/jobs",
        "/runs",
        "/experiments",
        "/registry/models",
        "/models",
        "/builds",
        "/deployments",
        "/runtimes",
        "/runtimeaddons",
        ":stop",
        "/files",
    ]
    missing = [w for w in wanted if not any(w in t for t in seen)]
    assert missing == [], f"no live answer checked for {missing}; saw {sorted(seen)}"


def test_error_bodies_match_the_swagger(swagger: Swagger, boot: Bootstrapped) -> None:
    ws = control.ensure_running(boot.state_dir)
    session = requests.Session()
    session.trust_env = False
    good = {"Authorization": f"Bearer {ws.api_key}"}
    cases = [
        ("GET", "/api/v2/projects/no-such-project", good, 404),
        ("GET", "/api/v2/projects", {"Authorization": "Bearer wrong-key"}, 401),
    ]
    problems: list[str] = []
    for method, path, headers, status in cases:
        resp = session.request(method, ws.url + path, headers=headers, timeout=30)
        assert resp.status_code == status, (path, resp.status_code, resp.text)
        body = resp.json()
        assert set(body) >= {"error", "code", "message"}, body
        problems.extend(swagger.check_response(method, path, body, status=status))
    assert problems == [], "\n".join(problems)
