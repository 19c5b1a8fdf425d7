"""Helpers shared by the model-server tests (constants, and starting/stopping a server process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
ACCESS_KEY = "k3y0f7h3m0d3l0000000000000000001"
API_KEY = "test-workspace-api-key-0123456789"
TUTORIAL_ROW = [7.4, 0.7, 0, 1.9, 0.076, 11, 34, 0.9978, 3.51, 0.56, 9.4]
READY_TIMEOUT_S = 120


@dataclass(frozen=True)
class Store:
    tracking_uri: str
    wine_uri: str
    summer_uri: str
    broken_uri: str
    estimator: Any
    features: Any  # the whole data set without "quality", a pandas DataFrame
    example: Any  # the input example logged with the wine model
    root: Path

    @property
    def columns(self) -> list[str]:
        return list(self.features.columns)


@dataclass
class Server:
    """A running model-server process."""

    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path
    auth: bool

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss_kb(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS in /proc status")


def write_config(path: Path, **fields: Any) -> Path:
    path.write_text(json.dumps(fields))
    path.chmod(0o600)
    return path


def server_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return env


def spawn(config_path: Path, log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "automation.local.serving", str(config_path)],
            cwd=REPO,
            env=server_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def wait_ready(proc: subprocess.Popen[bytes], ready: Path, log_path: Path) -> int:
    """Poll for the ready file (bounded); fail with the server's log if it exits first."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if ready.is_file():
            return int(json.loads(ready.read_text())["port"])
        if proc.poll() is not None:
            pytest.fail(f"model server exited with {proc.returncode}:\n{log_path.read_text()[-4000:]}")
        time.sleep(0.05)
    pytest.fail(f"model server not ready after {READY_TIMEOUT_S}s:\n{log_path.read_text()[-4000:]}")


def stop(proc: subprocess.Popen[bytes]) -> int:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    return proc.returncode
