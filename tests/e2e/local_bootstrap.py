"""One bootstrapped local workspace per test session, shared by tests/e2e and the local conformance test.

The full bootstrap (train, register, build, deploy) takes a minute or more on 2 cores, so it runs
once; every API call it makes is recorded (method, path, decoded body) for the conformance check.
Teardown stops the server when the last session fixture that asked for it finishes.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from automation.api import CMLClient
from automation.local import control
from automation.settings import Settings
from automation.spec import Spec
from automation.spec.loader import load_spec
from automation.workflows.bootstrap import BootstrapResult, bootstrap

REPO = Path(__file__).resolve().parents[2]
FLAGSHIP = REPO / "specs" / "wine-quality.yaml"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def client_for(ws: control.LocalWorkspace, api_key: str | None = None) -> CMLClient:
    settings = Settings(url=ws.url, api_key=api_key or ws.api_key, model_service_url=ws.model_service_url)
    return CMLClient.from_settings(settings, poll=(0.25, 1.0))


@dataclass
class Recorded:
    method: str
    path: str
    body: Any


@dataclass
class Bootstrapped:
    state_dir: Path
    port: int
    workspace: control.LocalWorkspace
    client: CMLClient
    spec: Spec
    result: BootstrapResult
    calls: list[Recorded] = field(default_factory=list)
    freeze_before: str = ""


def pip_freeze() -> str:
    """cmlops' own environment, package by package (the bootstrap must leave it untouched)."""
    done = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--all"], capture_output=True, text=True, check=True
    )
    return done.stdout


def record_calls(client: CMLClient, into: list[Recorded]) -> None:
    """Wrap the client's request method to keep every successful (method, path, body)."""
    original = client.http.request

    def request(method: str, path: str, *args: Any, **kwargs: Any) -> Any:
        body = original(method, path, *args, **kwargs)
        into.append(Recorded(method.upper(), path, body))
        return body

    client.http.request = request  # type: ignore[method-assign]


_SHARED: dict[str, Any] = {"value": None, "users": 0}


def shared_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Bootstrapped:
    """Start a fresh local workspace and bootstrap the flagship spec on it (once per session)."""
    _SHARED["users"] += 1
    if _SHARED["value"] is not None:
        return _SHARED["value"]
    wine = os.environ.get("WINE_DATA")
    if not wine or not Path(wine).is_file():
        pytest.fail("the wine data set is needed: set WINE_DATA to wine-quality.csv (see README)")
    os.environ["WINE_DATA"] = str(Path(wine).resolve())  # the spec's job env reads ${WINE_DATA}
    state_dir = tmp_path_factory.mktemp("e2e-local") / ".cmlops"
    port = free_port()
    freeze_before = pip_freeze()
    ws = control.start(state_dir, port=port, wait=60)
    try:
        client = client_for(ws)
        calls: list[Recorded] = []
        record_calls(client, calls)
        spec = load_spec(FLAGSHIP)
        result = bootstrap(client, spec)
    except BaseException:
        control.stop(state_dir)
        raise
    _SHARED["value"] = Bootstrapped(state_dir, port, ws, client, spec, result, calls, freeze_before)
    return _SHARED["value"]


def release(boot: Bootstrapped) -> None:
    """Stop the shared server once its last user is done."""
    _SHARED["users"] -= 1
    if _SHARED["users"] <= 0 and _SHARED["value"] is boot:
        control.stop(boot.state_dir)
        _SHARED["value"] = None
