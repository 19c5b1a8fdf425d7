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


FAILING_SPEC = """
version: 1
name: failing-job
projects:
  dev: {name: failing-dev, source: {files: [code/train.py]}}
  prd: {name: failing-prd}
training:
  experiment: failing
  job: {name: train, script: code/train.py, timeout: 120}
model: {registered_name: failing-model, artifact_path: model}
deployment: {model_name: failing-endpoint}
"""


def test_a_failed_job_run_shows_the_end_of_its_log(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "code").mkdir(parents=True)
    (repo / "pyproject.toml").write_text("")
    (repo / "code" / "train.py").write_text(
        "import sys\nprint('loading data')\nsys.exit('error: no data here')\n"
    )
    (repo / "spec.yaml").write_text(FAILING_SPEC)
    state = tmp_path / ".cmlops"
    try:
        text = cmlops(state, "apply", str(repo / "spec.yaml"))
        as_json = cmlops(state, "-o", "json", "apply", str(repo / "spec.yaml"))
    finally:
        cmlops(state, "local", "stop")
    assert text.returncode == 9, text.stderr  # the documented exit code of a failed training run
    assert "ended with status 'ENGINE_FAILED'" in text.stderr
    # CML's job kernel reports the SystemExit (even for sys.exit(0)) and says so in the log.
    assert "    | SystemExit: error: no data here" in text.stderr and "Traceback" not in text.stderr
    report = json.loads(as_json.stdout)
    assert as_json.returncode == 9 and report["exit_code"] == 9
    assert any("SystemExit: error: no data here" in line for line in report["log_tail"])


def test_logs_follow_prints_what_is_appended_until_the_run_ends(tmp_path: Path, monkeypatch) -> None:
    from automation.local import control
    from automation.local.state.paths import StatePaths

    paths = StatePaths.of(tmp_path / ".cmlops")
    paths.ensure()
    paths.jobrun_logs.mkdir(parents=True, exist_ok=True)
    log = paths.jobrun_logs / "run-1.log"
    log.write_text("epoch 1\n")
    active = iter([True, True, False])  # the run is active for two more polls, then ends
    monkeypatch.setattr(control, "_still_writing", lambda _paths, _what: next(active))
    appended = iter(["epoch 2\n", "epoch 3\ndone\n"])

    def sleep(_seconds: float) -> None:
        with open(log, "a") as fh:
            fh.write(next(appended, ""))

    chunks = list(control.follow_log(paths.root, "run-1", sleep=sleep))
    assert "".join(chunks) == "epoch 1\nepoch 2\nepoch 3\ndone\n"
    assert len(chunks) == 3  # the text so far, then each addition


def test_logs_follow_of_an_ended_run_prints_it_and_returns(tmp_path: Path) -> None:
    state = tmp_path / ".cmlops"
    (state / "logs" / "jobruns").mkdir(parents=True)
    (state / "logs" / "jobruns" / "run-9.log").write_text("all done\n")
    result = cmlops(state, "local", "logs", "run-9", "--follow")
    assert result.returncode == 0 and result.stdout == "all done\n"
    refused = cmlops(state, "local", "logs", "run-9", "--follow", "-o", "json")
    assert (
        refused.returncode == 2 and "--follow prints the log as text" in json.loads(refused.stdout)["message"]
    )
