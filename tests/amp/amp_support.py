"""Shared pieces of the AMP tests: fixture files and a CML fake that also knows applications and
file-based model builds (importable by name; conftest modules are not)."""

from __future__ import annotations

import copy
import json
import re
import shutil
from pathlib import Path
from typing import Any

import responses
from fakes.fake_cml import USER, FakeCML, FakeError

from automation.amp.loader import load_amp

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ERRORS = FIXTURES / "errors"
REPO = Path(__file__).resolve().parents[2]
GOOD_FIXTURES = sorted(p.name for p in FIXTURES.glob("*.yaml"))


def line_of(path: Path, needle: str) -> int:
    """1-based number of the first line of ``path`` containing ``needle``."""
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def materialise(tmp_path: Path, fixture_name: str) -> Path:
    """Copy a fixture AMP into ``tmp_path`` as .project-metadata.yaml, with every script it names."""
    folder = tmp_path / fixture_name.removesuffix(".yaml")
    folder.mkdir()
    shutil.copy(FIXTURES / fixture_name, folder / ".project-metadata.yaml")
    loaded = load_amp(folder)
    for task in loaded.amp.tasks:
        for attr in ("script", "target_file_path"):
            value = getattr(task, attr, None)
            if value:
                (folder / value).parent.mkdir(parents=True, exist_ok=True)
                (folder / value).write_text("print('ok')\n")
    return folder


class AmpFakeCML(FakeCML):
    """FakeCML plus applications (starting -> running) and file-based builds (file_path/function_name)."""

    def __init__(self, mock: responses.RequestsMock, **kwargs: Any) -> None:
        self.applications: dict[str, dict[str, Any]] = {}
        self.app_progress: dict[str, list[str]] = {}
        self.app_outcome = "APPLICATION_RUNNING"
        super().__init__(mock, **kwargs)

    def _build_routes(self):
        p = r"/api/v2/projects/(?P<pid>[^/:?]+)"
        a = rf"{p}/applications/(?P<aid>[^/:?]+)"
        extra = [
            ("GET", rf"{p}/applications", self._list_apps),
            ("POST", rf"{p}/applications", self._create_app),
            ("GET", a, self._get_app),
            ("POST", rf"{a}:restart", self._restart_app),
        ]
        return [(m, re.compile(pat + r"/?$"), h) for m, pat, h in extra] + super()._build_routes()

    def _kind_of(self, ident: str) -> str | None:
        return "application" if ident in self.applications else super()._kind_of(ident)

    def _list_apps(self, call, pid):
        self._get(self.projects, pid, "project")
        return self._page(
            call, [x for x in self.applications.values() if x["project_id"] == pid], "applications"
        )

    def _create_app(self, call, pid):
        self._get(self.projects, pid, "project")
        body = call.body or {}
        for required in ("name", "subdomain", "script", "runtime_identifier"):
            if not body.get(required):
                raise FakeError(400, "invalid_argument", f"{required} is required")
        aid = self._public_id()
        app = {
            "id": aid,
            "project_id": pid,
            "name": body["name"],
            "subdomain": body["subdomain"],
            "script": body["script"],
            "status": "APPLICATION_STARTING",
            "cpu": body.get("cpu", 1),
            "memory": body.get("memory", 1),
            "nvidia_gpu": body.get("nvidia_gpu", 0),
            "environment": json.dumps(body.get("environment") or {}, sort_keys=True),
            "bypass_authentication": bool(body.get("bypass_authentication")),
            "runtime_identifier": body["runtime_identifier"],
            "creator": dict(USER),
            "created_at": self._now(),
        }
        self.applications[aid] = app
        self.app_progress[aid] = [self.app_outcome]
        return copy.deepcopy(app)

    def _app_of(self, pid, aid):
        app = self._get(self.applications, aid, "application")
        if app["project_id"] != pid:
            raise FakeError(404, "not_found", f"application {aid} not found")
        return app

    def _get_app(self, call, pid, aid):
        app = self._app_of(pid, aid)
        shown = copy.deepcopy(app)
        if self.app_progress.get(aid):
            app["status"] = self.app_progress[aid].pop(0)
        return shown

    def _restart_app(self, call, pid, aid):
        app = self._app_of(pid, aid)
        app["status"] = "APPLICATION_STARTING"
        self.app_progress[aid] = [self.app_outcome]
        return copy.deepcopy(app)

    def _create_build(self, call, pid, mid):
        body = call.body or {}
        if not body.get("file_path"):
            return super()._create_build(call, pid, mid)
        self._model_of(pid, mid)
        if not body.get("function_name") or not body.get("runtime_identifier"):
            raise FakeError(400, "invalid_argument", "function_name and runtime_identifier are required")
        return self._store_build(
            mid,
            body,
            file_path=body["file_path"],
            function_name=body["function_name"],
            registered_model_version_id="",
        )


def spec_repo(tmp_path: Path) -> Path:
    """A repository holding the flagship spec and the scripts it names (and no code/amp/)."""
    repo = tmp_path / "repo"
    for rel in ("specs/wine-quality.yaml", "code/02_Experiment_log_model.py", "code/install_dependencies.py"):
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / rel, repo / rel)
    (repo / "requirements.txt").write_text("scikit-learn\n")
    (repo / "pyproject.toml").write_text("")
    return repo
