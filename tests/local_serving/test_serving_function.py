"""File-based models in the model server: the config's "function", the loader, the raw response."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from automation.errors import EXIT_BUILD_FAILED
from automation.local.serving.app import ModelEndpoint
from automation.local.serving.config import parse_config
from automation.local.serving.errors import ModelCheckError, ServeConfigError
from automation.local.serving.function import FunctionModel, load_function, main

KEY = "abcdefghij0123456789abcdefghij01"
BASE: dict[str, Any] = {"tracking_uri": "sqlite:////tmp/x.db", "port": 0, "access_key": KEY, "auth": False}
FUNCTION = {"project_dir": "/tmp/p", "file_path": "predict.py", "function_name": "predict"}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder; the loader's chdir and sys.path change are undone after each test."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    root = tmp_path / "project"
    root.mkdir()
    (root / "helpers.py").write_text("def double(v):\n    return 2 * v\n")
    (root / "factor.txt").write_text("3")
    (root / "predict.py").write_text(
        "from pathlib import Path\nimport helpers\nFACTOR = int(Path('factor.txt').read_text())\n"
        "def predict(args):\n    return {'out': helpers.double(args['x']) * FACTOR}\n"
        "NOT_CALLABLE = 1\n"
    )
    return root


def test_config_takes_a_function_instead_of_a_model_uri() -> None:
    config = parse_config({**BASE, "function": FUNCTION})
    assert config.function is not None and config.function.function_name == "predict"
    assert config.model_uri == ""
    with pytest.raises(ServeConfigError, match="either model_uri or function"):
        parse_config({**BASE, "function": FUNCTION, "model_uri": "models:/m/1"})
    with pytest.raises(ServeConfigError, match=r"function\.file_path: must be a non-empty string"):
        parse_config({**BASE, "function": {**FUNCTION, "file_path": ""}})
    with pytest.raises(ServeConfigError, match="unknown key"):
        parse_config({**BASE, "function": {**FUNCTION, "extra": 1}})
    with pytest.raises(ServeConfigError, match="model_uri: is required"):
        parse_config(BASE)


def test_the_file_is_imported_from_the_project_folder(project: Path) -> None:
    function = load_function(str(project), "predict.py", "predict")
    assert function({"x": 2}) == {"out": 12}
    assert Path.cwd() == project.resolve() and str(project.resolve()) in sys.path


@pytest.mark.parametrize(
    ("file_path", "name", "why"),
    [
        ("missing.py", "predict", "not found in the project folder"),
        ("../outside.py", "predict", "outside the project folder"),
        ("predict.py", "forecast", "defines no function 'forecast'"),
        ("predict.py", "NOT_CALLABLE", "is not callable"),
    ],
)
def test_load_failures_name_the_problem(project: Path, file_path: str, name: str, why: str) -> None:
    with pytest.raises(ModelCheckError, match=why):
        load_function(str(project), file_path, name)


def test_import_errors_and_exits_fail_the_check(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "crash.py").write_text("raise SystemExit(4)\n")
    with pytest.raises(ModelCheckError, match=r"importing 'crash\.py' failed: SystemExit"):
        load_function(str(project), "crash.py", "predict")
    assert main([str(project), "predict.py", "nope"]) == EXIT_BUILD_FAILED
    assert "nope" in capsys.readouterr().err.splitlines()[-1]
    assert main([str(project), "predict.py", "predict"]) == 0


def test_endpoint_answers_with_the_return_value_and_500_on_a_raise(project: Path) -> None:
    app = ModelEndpoint(
        FunctionModel(str(project), "predict.py", "predict"),
        access_key=KEY,
        api_key_sha256=None,
        max_body_bytes=4096,
        max_concurrency=4,
        replica_id="local-1-0",
    )

    async def calls() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            good = await client.post("/model", json={"accessKey": KEY, "request": {"x": 1}})
            bad = await client.post("/model", json={"accessKey": KEY, "request": {"y": 1}})
            wrong_key = await client.post("/model", json={"accessKey": "x" * 32, "request": {"x": 1}})
            return [good, bad, wrong_key]

    good, bad, wrong_key = asyncio.run(calls())
    assert good.status_code == 200
    assert good.json() == {"success": True, "response": {"out": 6}, "ReplicaID": "local-1-0"}
    assert bad.status_code == 500 and bad.json()["success"] is False
    assert "KeyError" in bad.json()["errors"]["model"]
    assert wrong_key.status_code == 404


def test_the_build_check_hides_the_workspace_variables_from_the_model_file(project: Path) -> None:
    # The check's own guard, whatever starts it: a model file imported with CML_*/CDSW_* in the
    # environment (a workspace key, its URL) must not see them; other variables stay. In a child
    # process: the check edits its own environment.
    (project / "probe.py").write_text(
        "import json, os\nPath = __import__('pathlib').Path\n"
        "Path('seen.json').write_text(json.dumps(sorted(os.environ)))\n"
        "def predict(args):\n    return 1\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        "CDSW_APIV2_KEY": "leak-canary",
        "CML_API_KEY": "leak-canary",
        "MODEL_SETTING": "kept",
    }
    check = [sys.executable, "-m", "automation.local.serving.function", str(project), "probe.py", "predict"]
    done = subprocess.run(check, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    seen = json.loads((project / "seen.json").read_text())
    assert "MODEL_SETTING" in seen
    assert [name for name in seen if name.startswith(("CML_", "CDSW_"))] == []
