"""The state folder: an existing folder keeps its mode; one server per folder, even without server.json."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from automation.local import control
from automation.local.state import serverlock
from automation.local.state.paths import StatePaths


def test_an_existing_folder_keeps_its_mode_and_a_new_one_is_private(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    StatePaths.of(shared).ensure()
    assert oct(shared.stat().st_mode & 0o777) == "0o755"  # not silently made 0700 (think /tmp)
    assert (shared / "projects").is_dir()
    fresh = tmp_path / "fresh" / ".cmlops"
    StatePaths.of(fresh).ensure()
    assert oct(fresh.stat().st_mode & 0o777) == "0o700"


def test_losing_server_json_never_starts_a_second_server(tmp_path: Path) -> None:
    state = tmp_path / ".cmlops"
    first = control.start(state, wait=60)
    try:
        (state / "server.json").unlink()
        again = control.ensure_running(state)
        assert again.pid == first.pid and again.url == first.url  # found through the server lock
        assert serverlock.holder(StatePaths.of(state))["pid"] == first.pid

        second = subprocess.run(
            [sys.executable, "-m", "automation.local.server", "--state-dir", str(state)],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        )
        assert second.returncode == 3
        assert f"another local workspace server (pid {first.pid}" in second.stderr
        assert control.status(state)["running"] is True
    finally:
        assert control.stop(state) is True  # stop finds it without server.json too
    assert control.status(state)["running"] is False
    assert serverlock.holder(StatePaths.of(state)) is None
