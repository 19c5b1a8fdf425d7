"""`cmlops local start | status | logs | stop`, run as a user runs them (subprocesses)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def cmlops(state_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "automation", "--state-dir", str(state_dir), *args]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120)


def test_local_workspace_lifecycle_from_the_command_line(tmp_path: Path) -> None:
    state = tmp_path / ".cmlops"
    try:
        started = cmlops(state, "local", "start", "-o", "json")
        assert started.returncode == 0, started.stderr
        info = json.loads(started.stdout)
        assert info["url"].startswith("http://127.0.0.1:") and info["model_service_url"].endswith("/model")

        again = json.loads(cmlops(state, "-o", "json", "local", "start").stdout)
        assert again["pid"] == info["pid"]  # the running workspace is reused, not duplicated

        status = json.loads(cmlops(state, "-o", "json", "local", "status").stdout)
        assert status["running"] is True and status["url"] == info["url"] and status["projects"] == 0
        key = (state / "api_key").read_text().strip()
        assert oct((state / "api_key").stat().st_mode & 0o777) == "0o600"
        assert key not in json.dumps(status)

        logs = cmlops(state, "local", "logs")
        assert logs.returncode == 0 and logs.stdout and key not in logs.stdout

        unknown = cmlops(state, "local", "logs", "no-such-run")
        assert unknown.returncode == 2 and "no log 'no-such-run'" in unknown.stderr
        assert "Traceback" not in unknown.stderr
    finally:
        stopped = cmlops(state, "-o", "json", "local", "stop")
    assert json.loads(stopped.stdout)["stopped"] is True
    after = json.loads(cmlops(state, "-o", "json", "local", "status").stdout)
    assert after["running"] is False
    assert json.loads(cmlops(state, "-o", "json", "local", "stop").stdout)["stopped"] is False


def test_logs_of_a_workspace_that_never_ran_is_a_clear_error(tmp_path: Path) -> None:
    result = cmlops(tmp_path / "never", "local", "logs", "server")
    assert result.returncode == 2
    assert result.stderr.startswith("error: no log 'server'")
