"""Without the `local` extra, a command that needs the local workspace is an input error (exit 2).

The extra's absence is simulated in a subprocess by blocking its imports (``sys.modules[name] = None``
makes ``import name`` fail as if the package were not installed).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BLOCK = "import sys\nfor m in ('fastapi', 'mlflow'): sys.modules[m] = None\nfrom automation.cli import main\nmain(sys.argv[1:])\n"


def _cmlops_without_extra(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("CMLOPS_STATE_DIR", None)
    return subprocess.run(
        [sys.executable, "-c", BLOCK, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    "args",
    [("whoami",), ("local", "start"), ("local", "status"), ("bootstrap", "specs/wine-quality.yaml")],
    ids=lambda a: " ".join(a),
)
def test_missing_local_extra_is_exit_2_and_writes_nothing(tmp_path: Path, args: tuple[str, ...]) -> None:
    if args[0] == "bootstrap":
        made = subprocess.run(
            [sys.executable, "-m", "automation", "init", str(tmp_path)],
            env={**os.environ, "PYTHONPATH": str(REPO)},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert made.returncode == 0, made.stderr
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    result = _cmlops_without_extra(tmp_path, *args)
    assert result.returncode == 2, result.stderr
    assert "install cmlops[local] or set CML_URL" in result.stderr
    assert "missing: fastapi, mlflow" in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before  # no .cmlops/api_key
    assert not (tmp_path / ".cmlops").exists()


def test_missing_extra_in_json_mode_is_one_json_error(tmp_path: Path) -> None:
    import json

    result = _cmlops_without_extra(tmp_path, "whoami", "-o", "json")
    assert result.returncode == 2
    data = json.loads(result.stdout)
    assert data["ok"] is False and data["exit_code"] == 2 and "cmlops[local]" in data["message"]


def test_a_cml_workspace_does_not_need_the_extra(tmp_path: Path) -> None:
    """With CML_URL set nothing local is needed: the error is about the (missing) key, not the extra."""
    env_url = {"CML_URL": "https://ml-0000.example.cloudera.site"}
    env = {**os.environ, "PYTHONPATH": str(REPO), **env_url}
    env.pop("CML_API_KEY", None)
    result = subprocess.run(
        [sys.executable, "-c", BLOCK, "whoami"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "cmlops[local]" not in result.stderr
    assert "key" in result.stderr.lower()
    assert not (tmp_path / ".cmlops").exists()
