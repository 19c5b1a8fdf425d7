"""One state folder for every command: `local` commands from a subfolder find the repo root's workspace."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def cmlops(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("CMLOPS_STATE_DIR", None)
    return subprocess.run(
        [sys.executable, "-m", "automation", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_local_commands_from_a_subfolder_use_the_repo_roots_workspace(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    (project / ".git").mkdir(parents=True)
    sub = project / "specs" / "deeper"
    sub.mkdir(parents=True)
    try:
        started = cmlops(project, "-o", "json", "local", "start")
        assert started.returncode == 0, started.stderr
        assert json.loads(started.stdout)["state_dir"] == str(project / ".cmlops")

        status = cmlops(sub, "local", "status", "-o", "json")
        info = json.loads(status.stdout)
        assert info["running"] is True and info["state_dir"] == str(project / ".cmlops")
        assert info["state_dir_from"] == f"the current folder's repo root ({project})"
        assert not (sub / ".cmlops").exists()

        text = cmlops(sub, "local", "status").stdout  # the text view names the folder too
        assert f"state_dir: {project / '.cmlops'}" in text and "state_dir_from" in text
    finally:
        cmlops(project, "local", "stop")


def test_the_state_folder_resolution_order(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    info = json.loads(cmlops(plain, "-o", "json", "local", "status").stdout)
    assert info["state_dir"] == str(plain / ".cmlops") and "no repo root" in info["state_dir_from"]
    assert info["running"] is False

    explicit = tmp_path / "elsewhere"
    info = json.loads(cmlops(plain, "local", "status", "--state-dir", str(explicit), "-o", "json").stdout)
    assert info["state_dir"] == str(explicit) and info["state_dir_from"].startswith("--state-dir")


def test_a_spec_resolves_its_state_folder_from_its_repo_root_wherever_cmlops_runs(
    tmp_path: Path, monkeypatch
) -> None:
    from automation.cli.context import CliContext
    from automation.examples import write_project
    from automation.spec import load_spec

    write_project(tmp_path / "wine")
    spec = load_spec(tmp_path / "wine" / "specs" / "wine-quality.yaml")
    monkeypatch.chdir(tmp_path / "wine" / "code")
    state, origin = CliContext().local_state_dir_and_origin(spec)
    assert state == (tmp_path / "wine" / ".cmlops").resolve() and "spec's repo root" in origin
