"""The local workspace dies while a client waits on it: the wait fails fast, naming the cause."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from automation.api import CMLClient
from automation.errors import EXIT_UNREACHABLE, TransportError
from automation.local import control
from automation.settings import Settings


def test_a_wait_on_a_dead_server_fails_in_seconds_not_at_the_step_timeout(tmp_path: Path) -> None:
    state = tmp_path / ".cmlops"
    ws = control.start(state, wait=60)
    try:
        settings = Settings(url=ws.url, api_key=ws.api_key, model_service_url=ws.model_service_url)
        client = CMLClient.from_settings(settings, poll=(0.25, 1.0))
        runtime = next(r.image_identifier for r in client.runtimes.list() if r.edition == "Standard")
        project = client.projects.create("server-death")
        client.projects.upload_file(project.id, "sleeper.py", b"import time\ntime.sleep(300)\n")
        job = client.jobs.create(project.id, name="sleeper", script="sleeper.py", runtime_identifier=runtime)
        run = client.jobs.start_run(project.id, job.id)
        threading.Timer(2.0, os.kill, (ws.pid, signal.SIGKILL)).start()
        started = time.monotonic()
        with pytest.raises(TransportError) as info:
            client.jobs.wait_run(project.id, job.id, run.id, timeout=900)
        waited = time.monotonic() - started
        assert waited < 120, waited  # the step's timeout was 900 s
        assert info.value.exit_code == EXIT_UNREACHABLE
        assert f"while waiting for job run {run.id}" in info.value.message
        assert "cannot reach" in info.value.message
        print(f"\nserver killed 2 s into the wait; the wait gave up after {waited:.1f} s (timeout 900 s)")
    finally:
        control.stop(state)  # ends the orphaned job run too
