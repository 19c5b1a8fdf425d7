"""The progress renderer: one line per state change off a terminal, a live line with the log tail on one."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

from rich.console import Console

from automation.api.base import WaitEvent
from automation.cli.progress import Progress, live_wanted

REPO = Path(__file__).resolve().parents[2]


def _pipe_console() -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, force_terminal=False, width=120, highlight=False, soft_wrap=True), buf


def test_off_a_terminal_one_line_per_state_change_never_per_poll() -> None:
    console, buf = _pipe_console()
    progress = Progress(console)
    assert progress.live_mode is False
    statuses = ["ENGINE_SCHEDULING"] * 5 + ["ENGINE_RUNNING"] * 30 + ["ENGINE_SUCCEEDED"]
    for i, status in enumerate(statuses):
        progress.wait(
            WaitEvent("job run r1", status, float(i), done=status == "ENGINE_SUCCEEDED", subject="r1")
        )
    lines = [line for line in buf.getvalue().splitlines() if "job run r1" in line]
    assert len(lines) == 3, buf.getvalue()  # 36 polls, 3 states
    assert lines[0].strip().startswith("0.0s job run r1: ENGINE_SCHEDULING")
    assert lines[-1].endswith("ENGINE_SUCCEEDED done")
    assert "first run also builds its environment" in buf.getvalue()  # the wait is explained once


def test_steps_and_a_second_wait_each_get_their_lines() -> None:
    console, buf = _pipe_console()
    progress = Progress(console)
    progress.step("B build model.build wine [v1]")
    for status in ("building", "building", "built"):
        progress.wait(WaitEvent("model build b1", status, 1.0, done=status == "built"))
    progress.step_done("done in 1.0s")
    text = buf.getvalue()
    assert "B build model.build wine [v1] ..." in text  # names are not taken for markup
    assert text.count("model build b1: building") == 1 and "built done" in text and "done in 1.0s" in text


def test_on_a_terminal_a_live_line_shows_elapsed_time_and_the_log_tail() -> None:
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=100, highlight=False)
    now = [100.0]
    log = "step 1\nstep 2\nepoch 3: rmse 0.71\n"
    progress = Progress(
        console, live=True, log_tail=lambda ident, n: log if ident == "r1" else None, clock=lambda: now[0]
    )
    progress.wait(WaitEvent("job run r1", "ENGINE_RUNNING", 3.0, subject="r1"))
    assert progress._live is not None
    now[0] += 9.0
    rendered = io.StringIO()
    Console(file=rendered, width=100, force_terminal=False).print(progress._live.renderable)
    view = rendered.getvalue()
    assert "job run r1: ENGINE_RUNNING" in view and "12s" in view  # 3 s at the event + 9 s ticking
    assert "| epoch 3: rmse 0.71" in view
    progress.wait(WaitEvent("job run r1", "ENGINE_SUCCEEDED", 13.0, done=True, subject="r1"))
    assert progress._live is None
    progress.close()


def test_no_live_line_in_ci_or_pipes() -> None:
    terminal = Console(file=io.StringIO(), force_terminal=True)
    assert live_wanted(terminal, {}) is True
    assert live_wanted(terminal, {"CI": "true"}) is False
    assert live_wanted(terminal, {"TERM": "dumb"}) is False
    assert live_wanted(_pipe_console()[0], {}) is False


def test_json_output_keeps_stdout_one_document_and_progress_on_stderr(tmp_path: Path) -> None:
    """On the CML-shaped fake: `-o json bootstrap` prints one JSON document and its progress on stderr."""
    script = (
        "import os, sys\n"
        f"sys.path.insert(0, {str(REPO / 'tests')!r})\n"
        "from fakes.fake_cml import FakeCML, BASE_URL, API_KEY\n"
        "from fakes.specs import TEST_SPEC\n"
        "from automation.cli import main\n"
        "os.environ.update(CML_URL=BASE_URL, CML_API_KEY=API_KEY)\n"
        "with FakeCML.running() as fake:\n"
        "    try:\n"
        "        main(['-o', 'json', 'bootstrap', str(TEST_SPEC)])\n"
        "    except SystemExit as exc:\n"
        "        code = exc.code\n"
        "sys.exit(code)\n"
    )
    env = {"PYTHONPATH": str(REPO), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    data = json.loads(result.stdout)  # the whole of stdout is one document
    assert data["ok"] is True
    err = result.stderr
    assert "create project.dev" in err and "job run" in err and "done" in err
    assert err.count(": ENGINE_RUNNING") <= 1  # state changes, not polls
