"""How the CLI picks its target and how briskly it polls."""

from __future__ import annotations

import pytest
from cli_support import run_cli

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
    code, out, _ = run_cli(capsys, *argv)
    assert code == 0
    assert json.loads(out)["ok"] is True


def _commands(group, path=()):
    import click

    for name, cmd in group.commands.items():
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, (*path, name))
        else:
            yield (*path, name), cmd


def test_dash_o_means_the_output_format_in_every_command() -> None:
    from automation.cli import cli

    for path, cmd in _commands(cli):
        owners = [p for p in cmd.params if "-o" in getattr(p, "opts", [])]
        assert len(owners) == 1 and "--output" in owners[0].opts, " ".join(path)


def test_every_global_option_is_accepted_after_the_command() -> None:
    from automation.cli import GLOBAL_OPTIONS, cli

    for path, cmd in _commands(cli):
        opts = {o for p in cmd.params for o in getattr(p, "opts", [])}
        for flags, _, _ in GLOBAL_OPTIONS:
            assert flags[0] in opts, f"cmlops {' '.join(path)} does not take {flags[0]}"


def test_every_command_has_an_example_and_a_section() -> None:
    from automation.cli import cli
    from automation.cli.help import SECTIONS

    for path, cmd in _commands(cli):
        assert "Example" in (cmd.epilog or "") or "Example" in (cmd.help or ""), " ".join(path)
    listed = {name for names in SECTIONS.values() for name in names}
    assert set(cli.commands) <= listed


@pytest.mark.parametrize(
    "argv",
    [
        ["--target", "nowhere", "--state-dir", "/tmp/x", "--profile", "p1"],
        ["-t", "nowhere", "--state-dir=/tmp/x", "-p", "p1"],
    ],
)
def test_global_options_after_the_command_reach_the_context(argv, monkeypatch) -> None:
    import click

    from automation.cli import cli

    seen = {}

    @click.command("probe")
    @click.pass_obj
    def probe(obj):
        seen.update(target=obj.target, state_dir=obj.state_dir, profile=obj.profile, output=obj.output)

    from automation.cli import _accept_global_flags_after

    _accept_global_flags_after(probe)
    cli.add_command(probe)
    try:
        cli.main(["probe", *argv, "-o", "json"], standalone_mode=False)
    finally:
        cli.commands.pop("probe")
    assert seen == {"target": "nowhere", "state_dir": "/tmp/x", "profile": "p1", "output": "json"}
