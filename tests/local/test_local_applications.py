"""Applications on the live local workspace: real processes on CDSW_APP_PORT, statuses, shapes, restarts."""

from __future__ import annotations

import re
import socket
from types import SimpleNamespace
from typing import Any

import pytest
import requests
from conformance.swagger import Swagger
from local_support import Api, free_port, wait_for

from automation.local import control

APP = """\
import os
from http.server import BaseHTTPRequestHandler, HTTPServer

class Hello(BaseHTTPRequestHandler):
    def do_GET(self):
        same = os.environ["CDSW_READONLY_PORT"] == os.environ["CDSW_PUBLIC_PORT"] == os.environ["CDSW_APP_PORT"]
        text = f"{os.environ['GREETING']} from {os.environ['CDSW_PROJECT_ID']} ports-agree={same}"
        body = text.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

HTTPServer(("127.0.0.1", int(os.environ["CDSW_APP_PORT"])), Hello).serve_forever()
"""
FINAL = {"APPLICATION_RUNNING", "APPLICATION_FAILED", "APPLICATION_STOPPED"}


@pytest.fixture(scope="module")
def swagger() -> Swagger:
    return Swagger.load_or_skip()


@pytest.fixture(scope="module")
def project(api) -> dict[str, Any]:
    project = api.project("apps", environment={"GREETING": "hello"})
    api.upload(project["id"], "app.py", APP)
    api.upload(project["id"], "broken.py", "import sys\nprint('about to fail')\nsys.exit(3)\n")
    return project


def _base(project: dict[str, Any]) -> str:
    return f"/api/v2/projects/{project['id']}/applications"


def _wait(api, project: dict[str, Any], app_id: str) -> dict[str, Any]:
    return wait_for(lambda: api.ok("GET", f"{_base(project)}/{app_id}"), lambda a: a["status"] in FINAL)


def _port(local, app_id: str) -> int:
    """The port of the latest launch, from the application's log (the API has no field for it)."""
    ports = re.findall(r"starting \S+ on 127\.0\.0\.1:(\d+)", control.read_log(local.state_dir, app_id))
    assert ports, control.read_log(local.state_dir, app_id)
    return int(ports[-1])


def _get(port: int) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
        chunks = []
        while chunk := sock.recv(4096):
            chunks.append(chunk)
    return b"".join(chunks).decode()


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def _create(api, project: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return api.ok("POST", _base(project), json={"project_id": project["id"], **fields})


def test_application_serves_on_its_port_stops_and_restarts(api, local, project, runtime, swagger):
    created = _create(
        api,
        project,
        name="Hello app",
        subdomain="hello-app",
        script="app.py",
        runtime_identifier=runtime,
        environment={"EXTRA": "1"},
    )
    assert swagger.check_response("POST", _base(project), created) == []
    assert created["status"] in ("APPLICATION_STARTING", "APPLICATION_RUNNING")
    assert created["environment"] == '{"EXTRA": "1"}'
    app = _wait(api, project, created["id"])
    assert app["status"] == "APPLICATION_RUNNING", control.read_log(local.state_dir, created["id"])
    assert app["running_at"].endswith("Z") and app["stopped_at"] is None
    port = _port(local, app["id"])
    assert f"hello from {project['id']} ports-agree=True" in _get(port)

    stopped = api.ok("POST", f"{_base(project)}/{app['id']}:stop")
    assert stopped["status"] == "APPLICATION_STOPPED" and stopped["stopped_at"].endswith("Z")
    assert _refused(port)  # the process group is gone
    assert api.ok("POST", f"{_base(project)}/{app['id']}:stop")["status"] == "APPLICATION_STOPPED"

    restarted = api.ok("POST", f"{_base(project)}/{app['id']}:restart", json={})
    assert restarted["status"] == "APPLICATION_STARTING" and restarted["stopped_at"] is None
    assert _wait(api, project, app["id"])["status"] == "APPLICATION_RUNNING"
    assert "ports-agree=True" in _get(_port(local, app["id"]))

    api.ok("POST", f"{_base(project)}/{app['id']}:stop")


def test_applications_come_back_after_a_server_restart(tmp_path, runtime):
    """Own server (the shared one must keep its pid): stop kills the app, start relaunches it."""
    state_dir = tmp_path / ".cmlops"
    port = free_port()
    workspace = control.start(state_dir, port=port, wait=60)
    session = requests.Session()
    session.trust_env = False
    own = Api(workspace.url, workspace.api_key, session)
    here = SimpleNamespace(state_dir=state_dir)
    try:
        project = own.project("apps-restart", environment={"GREETING": "again"})
        own.upload(project["id"], "app.py", APP)
        app = _create(own, project, name="Survivor", subdomain="survivor", script="app.py")
        assert _wait(own, project, app["id"])["status"] == "APPLICATION_RUNNING"
        before = _port(here, app["id"])
        assert control.stop(state_dir) is True
        assert _refused(before)  # stopping the server killed it
        control.start(state_dir, port=port, wait=60)
        again = _wait(own, project, app["id"])
        assert again["status"] == "APPLICATION_RUNNING", control.read_log(state_dir, app["id"])
        assert f"again from {project['id']}" in _get(_port(here, app["id"]))
    finally:
        control.stop(state_dir)
    assert _refused(_port(here, app["id"]))


def test_failing_script_fails_with_its_exit_code_in_the_log(api, local, project, runtime):
    app = _create(
        api, project, name="Broken", subdomain="broken", script="broken.py", runtime_identifier=runtime
    )
    app = _wait(api, project, app["id"])
    assert app["status"] == "APPLICATION_FAILED"
    log = control.read_log(local.state_dir, app["id"])
    assert "about to fail" in log and "exited with code 3" in log
    missing = _create(api, project, name="Missing", subdomain="missing", script="nope.py")
    assert _wait(api, project, missing["id"])["status"] == "APPLICATION_FAILED"
    assert "not found" in control.read_log(local.state_dir, missing["id"])


def test_subdomains_are_unique_and_requests_are_validated(api, project):
    first = _create(api, project, name="One", subdomain="taken-name", script="broken.py")
    twin = api.post(_base(project), json={"name": "Two", "subdomain": "taken-name", "script": "app.py"})
    assert twin.status_code == 409 and twin.json()["code"] == 6
    assert first["id"] in twin.json()["message"]
    other = api.project("apps-other")
    elsewhere = api.post(_base(other), json={"name": "Two", "subdomain": "taken-name", "script": "app.py"})
    assert elsewhere.status_code == 409  # unique per workspace, not per project
    bad = api.post(_base(project), json={"name": "Bad", "subdomain": "Not_A_Label", "script": "app.py"})
    assert bad.status_code == 400 and "subdomain" in bad.json()["message"]
    for missing in ("name", "subdomain", "script"):
        body = {"name": "x", "subdomain": "fine-sub", "script": "app.py"}
        del body[missing]
        resp = api.post(_base(project), json=body)
        assert resp.status_code == 400 and missing in resp.json()["message"]
    escape = api.post(_base(project), json={"name": "x", "subdomain": "esc", "script": "../x.py"})
    assert escape.status_code == 400 and "script" in escape.json()["message"]


def test_list_get_patch_delete_shapes(api, project, swagger):
    app = _create(
        api, project, name="Shapes", subdomain="shapes", script="broken.py", description="for shapes"
    )
    _wait(api, project, app["id"])
    path = f"{_base(project)}/{app['id']}"
    got = api.ok("GET", path)
    assert swagger.check_response("GET", path, got) == []
    assert got["kernel"] == "" and got["runtime_identifier"] == "" and got["environment"] == "{}"
    assert got["bypass_authentication"] is False and got["runtime_addon_identifiers"] == []
    listed = api.ok("GET", _base(project), params={"search_filter": '{"name": "Shapes"}'})
    assert swagger.check_response("GET", _base(project), listed) == []
    assert [a["id"] for a in listed["applications"]] == [app["id"]] and listed["next_page_token"] == ""
    failed = api.ok("GET", _base(project), params={"search_filter": '{"status": "failed"}'})["applications"]
    assert app["id"] in [a["id"] for a in failed]

    patched = api.ok("PATCH", path, json={"description": "changed", "environment": '{"A": "b"}'})
    assert swagger.check_response("PATCH", path, patched) == []
    assert patched["description"] == "changed" and patched["environment"] == '{"A": "b"}'
    assert patched["subdomain"] == "shapes"
    refused = api.patch(path, json={"environment": {"A": "c"}})  # the Application message wants a string
    assert refused.status_code == 400 and refused.json()["code"] == 3
    _create(api, project, name="Neighbour", subdomain="shapes-neighbour", script="broken.py")
    clash = api.patch(path, json={"subdomain": "shapes-neighbour"})
    assert clash.status_code == 409 and clash.json()["code"] == 6
    assert api.ok("PATCH", path, json={"subdomain": "shapes-moved"})["subdomain"] == "shapes-moved"

    assert api.ok("DELETE", path) == {}
    assert api.get(path).status_code == 404
    assert api.post(f"{path}:stop").status_code == 404


def test_deleting_a_project_stops_its_applications(api, local, runtime):
    doomed = api.project("apps-doomed", environment={"GREETING": "bye"})
    api.upload(doomed["id"], "app.py", APP)
    app = _create(
        api, doomed, name="Doomed app", subdomain="doomed-app", script="app.py", runtime_identifier=runtime
    )
    assert _wait(api, doomed, app["id"])["status"] == "APPLICATION_RUNNING"
    port = _port(local, app["id"])
    assert "bye from" in _get(port)

    api.ok("DELETE", f"/api/v2/projects/{doomed['id']}")

    assert _refused(port)  # no orphan process keeps serving
    assert api.call("GET", f"{_base(doomed)}/{app['id']}").status_code == 404
