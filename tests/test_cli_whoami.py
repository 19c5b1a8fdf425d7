"""`cmlops whoami` in-process against a mocked workspace: user, exit codes, JSON, no secrets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import responses
from cli_support import run_cli
from responses import matchers

from automation.errors import EXIT_AUTH, EXIT_OK, EXIT_USAGE

URL = "https://ws.example.test"
KEY = "whoami-secret-key-0123456789abcdef0123"
VALIDATE = URL + "/api/v2/auth/validate_key"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("CML_URL", URL)
    monkeypatch.setenv("CML_API_KEY", KEY)


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as m:
        yield m


def expect_validate(mock: responses.RequestsMock, status: int = 200, body: dict | None = None) -> None:
    mock.add(
        "POST",
        VALIDATE,
        status=status,
        json=body
        if body is not None
        else {"valid": True, "username": "alice", "message": "API key is valid"},
        match=[
            matchers.json_params_matcher({"audience": "API"}),
            matchers.header_matcher({"Authorization": f"Bearer {KEY}"}),
        ],
    )


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code, out, err = run_cli(capsys, *argv)
    assert KEY not in out and KEY not in err, "the API key leaked into the output"
    return code, out, err


@pytest.mark.usefixtures("env")
def test_whoami_prints_the_user(mock: responses.RequestsMock, capsys: pytest.CaptureFixture[str]) -> None:
    expect_validate(mock)

    code, out, _err = run(["whoami"], capsys)

    assert code == EXIT_OK
    assert out.strip() == f"alice @ {URL}"


@pytest.mark.usefixtures("env")
def test_whoami_verbose_traces_without_secrets(
    mock: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    expect_validate(mock)

    code, out, err = run(["-v", "whoami"], capsys)

    assert code == EXIT_OK
    assert "-> POST /api/v2/auth/validate_key" in err and "<- 200 POST /api/v2/auth/validate_key" in err
    assert "url from CML_URL" in out and "api_key from CML_API_KEY" in out
    assert "Bearer" not in err or "Bearer ***" in err


@pytest.mark.usefixtures("env")
def test_whoami_json(mock: responses.RequestsMock, capsys: pytest.CaptureFixture[str]) -> None:
    expect_validate(mock)

    code, out, _err = run(["--output", "json", "whoami"], capsys)

    data = json.loads(out)
    assert code == EXIT_OK
    assert data["ok"] is True and data["username"] == "alice" and data["valid"] is True
    assert data["workspace"]["url"] == URL and data["workspace"]["api_key"] == "***"


@pytest.mark.usefixtures("env")
def test_wrong_key_exits_with_the_auth_code_naming_the_variable(
    mock: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    expect_validate(mock, 401, {"error": "invalid API key", "code": 16, "message": "invalid API key"})

    code, out, err = run(["-v", "whoami"], capsys)

    assert code == EXIT_AUTH == 4
    assert "POST /api/v2/auth/validate_key failed: HTTP 401: invalid API key" in err
    assert "CML_API_KEY" in err
    assert out == ""


@pytest.mark.usefixtures("env")
def test_wrong_key_in_json_mode(mock: responses.RequestsMock, capsys: pytest.CaptureFixture[str]) -> None:
    expect_validate(mock, 401, {"error": "invalid API key", "code": 16, "message": "invalid API key"})

    code, out, _err = run(["-o", "json", "whoami"], capsys)

    data = json.loads(out)
    assert code == EXIT_AUTH
    assert data["ok"] is False and data["error"] == "Unauthenticated" and data["exit_code"] == EXIT_AUTH
    assert data["status"] == 401 and "CML_API_KEY" in data["hint"]


def test_missing_key_is_a_usage_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("CML_URL", URL)

    code, _out, err = run(["whoami"], capsys)

    assert code == EXIT_USAGE
    assert "no API key configured" in err and "CML_API_KEY" in err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from automation import __version__

    code, out, _err = run(["--version"], capsys)

    assert code == EXIT_OK and out.strip() == f"cmlops, version {__version__}"
