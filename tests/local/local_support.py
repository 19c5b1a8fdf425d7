"""Helpers for the local workspace tests: polling, and a small HTTP client for the live server."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import requests

# Generous: a job that pip-installs into its project environment on 2 busy cores can take minutes.
DEADLINE = 600.0
LEAK_CANARY = "leak-canary-not-for-jobs"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(fetch: Callable[[], Any], done: Callable[[Any], bool], deadline: float = DEADLINE) -> Any:
    """Poll ``fetch`` until ``done(result)``; fail with the last result after ``deadline`` seconds."""
    end = time.monotonic() + deadline
    result = fetch()
    while not done(result):
        if time.monotonic() > end:
            pytest.fail(f"gave up waiting after {deadline:.0f} s; last result: {result!r}")
        time.sleep(0.2)
        result = fetch()
    return result


@dataclass
class Api:
    """requests against the live server, with the workspace key (or without, when asked)."""

    url: str
    key: str
    session: requests.Session

    def call(self, method: str, path: str, *, auth: bool = True, **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if auth:
            headers.setdefault("Authorization", f"Bearer {self.key}")
        return self.session.request(method, self.url + path, headers=headers, timeout=30, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("DELETE", path, **kwargs)

    def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        resp = self.call(method, path, **kwargs)
        assert resp.status_code == 200, f"{method} {path}: {resp.status_code} {resp.text}"
        return resp.json()

    # --- small workflows many tests need ---------------------------------------------------

    def project(self, name: str, **fields: Any) -> dict[str, Any]:
        return self.ok("POST", "/api/v2/projects", json={"name": name, "template": "blank", **fields})

    def upload(self, project_id: str, path: str, content: str | bytes) -> None:
        data = content.encode() if isinstance(content, str) else content
        self.ok("POST", f"/api/v2/projects/{project_id}/files", files={path: ("upload", data)})

    def job(self, project_id: str, script: str, runtime: str, **fields: Any) -> dict[str, Any]:
        body = {"name": fields.pop("name", script), "script": script, "runtime_identifier": runtime, **fields}
        return self.ok("POST", f"/api/v2/projects/{project_id}/jobs", json=body)

    def run(self, project_id: str, job_id: str, **body: Any) -> dict[str, Any]:
        return self.ok("POST", f"/api/v2/projects/{project_id}/jobs/{job_id}/runs", json=body)

    def wait_run(self, run: dict[str, Any], statuses: set[str] | None = None) -> dict[str, Any]:
        path = f"/api/v2/projects/{run['project_id']}/jobs/{run['job_id']}/runs/{run['id']}"
        final = statuses or {"ENGINE_SUCCEEDED", "ENGINE_FAILED", "ENGINE_STOPPED", "ENGINE_TIMEDOUT"}
        return wait_for(lambda: self.ok("GET", path), lambda r: r["status"] in final)
