"""How the CLI picks its target and how briskly it polls."""

from __future__ import annotations

import pytest

from automation.cli.context import CliContext, is_loopback


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:8123", True),
        ("http://localhost:9000/api/v1", True),
        ("https://ml-1234.example.cloudera.site", False),
        ("https://127.0.0.1.example.com", False),
    ],
)
def test_loopback_urls_are_recognised(url: str, expected: bool) -> None:
    assert is_loopback(url) is expected


def test_local_is_the_default_target_when_no_workspace_is_configured() -> None:
    assert CliContext().target_kind() == ("local", "local")


def test_a_configured_workspace_becomes_the_default_target(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CML_URL", "https://ml.example.com")
    assert CliContext().target_kind() == ("cml", "cml")


def test_an_explicit_target_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CML_URL", "https://ml.example.com")
    assert CliContext(target="local").target_kind() == ("local", "local")


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from automation.cli import main

    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


@pytest.mark.parametrize(
    "argv",
    [
        ["-o", "json", "validate", "specs/wine-quality.yaml"],
        ["validate", "specs/wine-quality.yaml", "-o", "json"],
        ["validate", "specs/wine-quality.yaml", "--output=json"],
    ],
)
def test_output_flag_works_before_or_after_the_command(
    argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, repo_root
) -> None:
    import json

    monkeypatch.chdir(repo_root)
    code, out, _ = _run(argv, capsys)
    assert code == 0
    assert json.loads(out)["ok"] is True


def test_a_command_keeps_its_own_short_flag(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["amp", "export", "--help"], capsys)
    assert code == 0
    assert "-o, --out FILE" in out and "--output [text|json]" in out
