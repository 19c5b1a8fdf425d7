"""`cmlops configure` saves a workspace profile; `--profile NAME` uses it; the key is never printed."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest
import yaml
from cli_support import run_cli

KEY = "cfg-key-0123456789abcdef"
URL = "https://ml-1234.example.test"


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cfg" / "config.yaml"
    monkeypatch.setenv("CMLOPS_CONFIG", str(path))
    monkeypatch.setitem(sys.modules, "keyring", None)  # no keyring installed
    return path


def test_without_a_keyring_the_key_goes_to_a_0600_file_and_cmlops_says_so(config: Path, capsys) -> None:
    code, out, err = run_cli(
        capsys, "configure", "--profile", "prod", "--url", URL + "/api/v2/", stdin=KEY + "\n"
    )
    assert code == 0, err
    assert "plain text, mode 0600" in out and "cmlops[keyring]" in out
    assert KEY not in out + err
    assert oct(config.stat().st_mode & 0o777) == "0o600"
    assert yaml.safe_load(config.read_text()) == {"profiles": {"prod": {"url": URL, "api_key": KEY}}}

    # a second profile keeps the first
    code, _, _ = run_cli(capsys, "configure", "--url", "https://other.example.test", stdin="k2-0123456789\n")
    assert code == 0 and set(yaml.safe_load(config.read_text())["profiles"]) == {"prod", "default"}


def test_the_profile_is_chosen_with_dash_dash_profile_before_or_after(
    config: Path, capsys, monkeypatch
) -> None:
    from automation.cli.context import CliContext

    run_cli(capsys, "configure", "--profile", "prod", "--url", URL, stdin=KEY + "\n")
    monkeypatch.delenv("CMLOPS_PROFILE", raising=False)
    ctx = CliContext(profile="prod")
    assert ctx.target_kind() == ("cml", "cml")  # a profile configures a workspace: not local any more
    settings = ctx.settings()
    assert (settings.url, settings.api_key) == (URL, KEY)
    assert "prod" in settings.sources["api_key"]


def test_a_keyring_keeps_the_key_out_of_the_file(config: Path, capsys, monkeypatch) -> None:
    store: dict[tuple[str, str], str] = {}
    fail = types.ModuleType("keyring.backends.fail")

    class FailKeyring:  # the "no backend" marker class keyring uses
        pass

    fail.Keyring = FailKeyring
    backends = types.ModuleType("keyring.backends")
    backends.fail = fail
    keyring = types.ModuleType("keyring")
    keyring.backends = backends
    keyring.get_keyring = lambda: object()
    keyring.set_password = lambda service, user, pw: store.__setitem__((service, user), pw)
    keyring.get_password = lambda service, user: store.get((service, user))
    for name, mod in (("keyring", keyring), ("keyring.backends", backends), ("keyring.backends.fail", fail)):
        monkeypatch.setitem(sys.modules, name, mod)

    code, out, err = run_cli(capsys, "-o", "json", "configure", "--url", URL, stdin=KEY + "\n")
    assert code == 0, err
    assert json.loads(out)["api_key_stored_in"] == "keyring" and KEY not in out
    assert store == {("cmlops", "default"): KEY}
    assert KEY not in config.read_text()
    from automation.settings import resolve_settings

    assert resolve_settings().api_key == KEY

    store.clear()  # keyring present but the key gone: resolution says what to set
    from automation.errors import SettingsError

    with pytest.raises(SettingsError, match="no API key"):
        resolve_settings()


def test_an_empty_key_is_refused_and_nothing_is_written(config: Path, capsys) -> None:
    code, _, err = run_cli(capsys, "configure", "--url", URL, stdin="\n")
    assert code == 2 and "no API key given" in err
    assert not config.exists()


def test_completion_prints_a_script(capsys) -> None:
    code, out, _ = run_cli(capsys, "completion", "bash")
    assert code == 0 and "_CMLOPS_COMPLETE=bash_complete" in out
