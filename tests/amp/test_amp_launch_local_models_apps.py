"""`amp launch` on a live local workspace of an AMP with a file-based model and an application:
create_model + build_model + deploy_model (file_path/function_name) + start_application."""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path

import pytest

from automation.amp.inputs import resolve_environment
from automation.amp.launch import LaunchOptions, launch
from automation.amp.loader import load_amp
from automation.api import CMLClient
from automation.local import control
from automation.workflows.smoke import call_endpoint

pytestmark = pytest.mark.e2e

SERVED = """\
name: Served AMP
description: A file-based model and an application.
author: tests
specification_version: 1.0
prototype_version: 1.0
environment_variables:
  GREETING:
    default: "hello"
    description: "What the application says."
runtimes:
  - editor: Workbench
    kernel: Python 3.11
    edition: Standard
tasks:
  - type: create_model
    name: Summer
    entity_label: summer
    description: Adds numbers
    access_key_environment_variable: SUMMER_ACCESS_KEY
  - type: build_model
    name: Summer
    entity_label: summer
    comment: Build the summer
    target_file_path: model/predict.py
    target_function_name: predict
  - type: deploy_model
    name: Summer
    entity_label: summer
    cpu: 1
    memory: 1
  - type: start_application
    name: Hello app
    subdomain: served-amp-hello
    script: app/serve.py
    cpu: 1
    memory: 1
    environment_variables:
      APP_WORD: "world"
"""
PREDICT = 'def predict(args):\n    return {"sum": sum(args["x"])}\n'
SERVE = """\
import os
from http.server import BaseHTTPRequestHandler, HTTPServer

class Hello(BaseHTTPRequestHandler):
    def do_GET(self):
        has_key = bool(os.environ.get("SUMMER_ACCESS_KEY"))
        body = f"{os.environ['GREETING']} {os.environ['APP_WORD']} key={has_key}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

HTTPServer(("127.0.0.1", int(os.environ["CDSW_APP_PORT"])), Hello).serve_forever()
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("served-amp")
    (folder / ".project-metadata.yaml").write_text(SERVED)
    (folder / "model").mkdir()
    (folder / "model" / "predict.py").write_text(PREDICT)
    (folder / "app").mkdir()
    (folder / "app" / "serve.py").write_text(SERVE)
    return folder


def _app_answer(local_ws, app_id: str) -> str:
    log = control.read_log(local_ws.state_dir, app_id)
    port = re.findall(r"starting \S+ on 127\.0\.0\.1:(\d+)", log)[-1]
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"http://127.0.0.1:{port}/", timeout=10) as resp:
        return resp.read().decode()


def test_model_and_application_launch_locally_and_relaunch_as_no_op(
    served: Path, local_ws, local_client: CMLClient
):
    loaded = load_amp(served)
    options = LaunchOptions(project_name="served-amp", environment=resolve_environment(loaded.amp))
    first = launch(local_client, loaded, options)
    assert [s.status for s in first.steps] == ["done"] * 6, [(s.title, s.status) for s in first.steps]
    steps = {s.task: s for s in first.steps if s.index is not None}

    project = local_client.projects.find("served-amp")
    model = local_client.models.find(project.id, "Summer")
    build = local_client.models.get_build(project.id, model.id, steps["build_model"].ids["build"])
    assert (build.file_path, build.function_name, build.status) == ("model/predict.py", "predict", "built")
    assert call_endpoint(local_client, model, {"x": [1, 2, 3]}) == {"sum": 6}

    app = local_client.applications.get(project.id, steps["start_application"].ids["application"])
    assert app.status == "APPLICATION_RUNNING" and app.subdomain == "served-amp-hello"
    assert _app_answer(local_ws, app.id) == "hello world key=True"

    again = launch(local_client, loaded, options)
    tasks = [(s.task, s.action) for s in again.steps if s.index is not None]
    assert tasks == [
        ("create_model", "reuse"),
        ("build_model", "reuse"),
        ("deploy_model", "skip"),
        ("start_application", "skip"),
    ]
    assert [a.id for a in local_client.applications.list(project.id)] == [app.id]

    local_client.applications.stop(project.id, app.id)
    assert local_client.applications.get(project.id, app.id).status == "APPLICATION_STOPPED"
    third = launch(local_client, loaded, options)
    restart = third.steps[-1]
    assert (restart.task, restart.action, restart.status) == ("start_application", "restart", "done")
    assert _app_answer(local_ws, app.id) == "hello world key=True"
