"""Bad settings give their documented exit code and a one-line message; bad model input gets a 4xx envelope."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest
import requests
from cli_support import run_cli

from automation.clock import SystemClock
from automation.errors import EXIT_AUTH, EXIT_UNREACHABLE, EXIT_USAGE

pytestmark = pytest.mark.e2e

WRONG_KEY = "wrong-key-0123456789abcdef0123456789abcdef"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends


def _run_cli(monkeypatch, capsys, env: dict[str, str], argv: list[str]) -> tuple[int, str, str]:

    monkeypatch.setattr(SystemClock, "sleep", lambda self, seconds: None)  # retries without waiting
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return run_cli(capsys, *argv)


def _bad_settings(faulty) -> list[tuple[str, dict[str, str], int, str]]:
    url, key = faulty.workspace.url, faulty.workspace.api_key
    return [
        ("no key", {"CML_URL": url}, EXIT_USAGE, "CML_API_KEY"),
        ("wrong key", {"CML_URL": url, "CML_API_KEY": WRONG_KEY}, EXIT_AUTH, "401"),
        (
            "url without scheme",
            {"CML_URL": url.split("://", 1)[1], "CML_API_KEY": key},
            EXIT_USAGE,
            "CML_URL",
        ),
        (
            "unreachable host",
            {"CML_URL": f"http://127.0.0.1:{_closed_port()}", "CML_API_KEY": key},
            EXIT_UNREACHABLE,
            "cannot reach",
        ),
        (
            "tls failure",
            {"CML_URL": url.replace("http://", "https://"), "CML_API_KEY": key},
            EXIT_UNREACHABLE,
            "TLS",
        ),
    ]


def test_bad_settings_exit_codes_and_messages(faulty, monkeypatch, capsys) -> None:
    tried = []
    for name, env, code, needle in _bad_settings(faulty):
        with monkeypatch.context() as mp:
            got, out, err = _run_cli(mp, capsys, env, ["whoami"])
        text = out + err
        assert got == code, (name, got, text)
        lines = [line for line in err.splitlines() if line.strip()]
        assert lines and lines[0].startswith("error: ") and needle in err, (name, err)
        assert len([line for line in lines if not line.lstrip().startswith("hint:")]) == 1, (name, err)
        assert "Traceback" not in text
        assert faulty.workspace.api_key not in text and WRONG_KEY not in text
        tried.append(f"{name} -> exit {got}")
    print("\nbad settings: " + "; ".join(tried))


def _post(url: str, api_key: str, data: bytes) -> requests.Response:
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
    return requests.post(url, data=data, headers=headers, timeout=60)


def _bad_model_inputs(access_key: str) -> list[tuple[str, bytes]]:
    def body(request: Any) -> bytes:
        return json.dumps({"accessKey": access_key, "request": request}).encode()

    row = [7.4, 0.7, 0, 1.9, 0.076, 11, 34, 0.9978, 3.51, 0.56, 9.4]

    def nested(depth: int) -> bytes:
        inner = b"[" * depth + b"1.0" + b"]" * depth
        return b'{"accessKey": "' + access_key.encode() + b'", "request": {"input": ' + inner + b"}}"

    return [
        ("wrong shape (3 columns)", body({"input": [[1, 2, 3]]})),
        ("wrong shape (ragged rows)", body({"input": [row, row[:5]]})),
        ("wrong shape (3-d)", body({"input": [[row]]})),
        ("strings", body({"input": [["a"] * 11]})),
        ("NaN", body({"input": [[float("nan")] * 11]})),
        ("Infinity", body({"input": [[float("inf"), *row[1:]]]})),
        ("empty rows", body({"input": []})),
        ("empty request", body({})),
        ("request not an object", body("hello")),
        ("empty body", b""),
        ("not JSON", b"{this is not json"),
        ("10 MB body", body({"input": [row] * 150_000})),
        ("deep nesting (100,000 levels)", nested(100_000)),
        ("deep nesting (500 levels)", nested(500)),
        ("nesting (6 levels)", nested(6)),
        ("unknown format key", body({"foo": [[1] * 11]})),
    ]


def test_bad_model_input_gets_a_4xx_with_the_error_envelope(faulty) -> None:
    c, spec = faulty.client, faulty.spec
    prd = c.projects.find(spec.projects.prd.name)
    model = c.models.find(prd.id, spec.model_named(None).endpoint.model_name)
    url = faulty.workspace.model_service_url
    statuses = {}
    for name, data in _bad_model_inputs(model.access_key):
        response = _post(url, faulty.workspace.api_key, data)
        statuses[name] = response.status_code
        assert 400 <= response.status_code < 500, (name, response.status_code, response.text[:300])
        body = response.json()
        assert body.get("success") is False and body.get("errors"), (name, body)
        assert model.access_key not in response.text and faulty.workspace.api_key not in response.text
    assert statuses["10 MB body"] == 413
    good = _post(
        url,
        faulty.workspace.api_key,
        json.dumps(
            {"accessKey": model.access_key, "request": spec.model_named(None).endpoint.smoke.input}
        ).encode(),
    )
    assert good.status_code == 200 and good.json()["success"] is True  # the server is unharmed
    print(f"\nbad model inputs: {len(statuses)} tried, statuses {statuses}")
