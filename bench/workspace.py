"""A live local workspace with the flagship model deployed, for the benchmarks (not the tests).

``bootstrapped()`` starts a workspace in a temporary folder, runs ``bootstrap`` of
``specs/wine-quality.yaml`` on it (train, register, build, deploy: a minute or two on 2 cores) and
returns what a benchmark needs to call it three ways: the workspace's ``/model`` URL with the
model's access key and the API key, the deployment's own loopback port, and the registered model's
URI and tracking store (for ``mlflow models serve`` on the very same model).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from automation.api import CMLClient
from automation.local import control
from automation.settings import Settings
from automation.spec.loader import load_spec
from automation.workflows.bootstrap import bootstrap

REPO = Path(__file__).resolve().parent.parent
FLAGSHIP = REPO / "specs" / "wine-quality.yaml"


@dataclass
class Deployed:
    state_dir: Path
    port: int  # the workspace's (API and /model)
    api_key: str
    access_key: str
    deployment_port: int
    deployment_pid: int
    server_pid: int
    model_uri: str
    tracking_uri: str
    client: CMLClient


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def bootstrapped(data: str, state_dir: str | None = None) -> Iterator[Deployed]:
    """The flagship bootstrapped on a fresh workspace (or on ``state_dir``'s, converged in seconds
    when it was bootstrapped before); the server is stopped at the end, the folder kept if given."""
    os.environ["WINE_DATA"] = str(Path(data).resolve())  # the spec's job reads ${WINE_DATA}
    root = Path(tempfile.mkdtemp(prefix="cmlops-bench-ws-")) if state_dir is None else None
    state = root / ".cmlops" if root else Path(state_dir)
    t0 = time.perf_counter()
    ws = control.start(state, port=free_port(), wait=60)
    try:
        settings = Settings(url=ws.url, api_key=ws.api_key, model_service_url=ws.model_service_url)
        client = CMLClient.from_settings(settings, poll=(0.25, 1.0))
        spec = load_spec(FLAGSHIP)
        result = bootstrap(client, spec)
        summary = result.summary
        prd = client.projects.find(spec.projects.prd.name)
        model = client.models.find(prd.id, spec.deployment.model_name)
        dep_id = summary.get("deployment_id") or _live_deployment(state)
        config = json.loads((state / "deployments" / f"{dep_id}.json").read_text())
        ready = json.loads((state / "deployments" / f"{dep_id}.ready").read_text())
        info = json.loads((state / "server.json").read_text())
        print(f"workspace bootstrapped in {time.perf_counter() - t0:.0f}s (state {state})", flush=True)
        yield Deployed(
            state,
            int(info["port"]),
            ws.api_key,
            model.access_key,
            int(ready["port"]),
            int(ready["pid"]),
            int(info["pid"]),
            config["model_uri"],
            config["tracking_uri"],
            client,
        )
    finally:
        control.stop(state)
        if root is not None:
            shutil.rmtree(root, ignore_errors=True)


def _live_deployment(state_dir: Path) -> str:
    ready = sorted((state_dir / "deployments").glob("*.ready"))
    if not ready:
        raise SystemExit("no live deployment after bootstrap")
    return ready[-1].stem


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def tree_rss_mb(pid: int) -> float:
    """RSS of a process and its direct children (a deployment and its large-call worker)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return rss_mb(pid) + sum(rss_mb(int(c)) for c in children)


def add_workspace_args(parser: argparse.ArgumentParser) -> None:
    """``--data`` (default ``$WINE_DATA``) and ``--state-dir``, shared by the benches."""
    parser.add_argument("--data", default=os.environ.get("WINE_DATA"), help="wine CSV (default: $WINE_DATA)")
    parser.add_argument(
        "--state-dir", help="bootstrap this workspace folder and keep it (default: a temporary one)"
    )


def check_data(parser: argparse.ArgumentParser, data: str | None) -> None:
    if not data or not Path(data).is_file():
        parser.error(f"--data: {data!r} not found (pass --data or set WINE_DATA to the wine-quality CSV)")
