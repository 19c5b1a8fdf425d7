"""The server's config file and process entry point: strict checks, loopback only, secrets hidden."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from serving_support import REPO, server_env, write_config

from automation.errors import DeploymentFailed
from automation.local.serving.config import load_config, parse_config
from automation.local.serving.errors import ServeConfigError
from automation.local.serving.runner import bind_loopback, write_ready_file

DIGEST = "a" * 64
GOOD: dict[str, Any] = {
    "model_uri": "models:/wine/1",
    "tracking_uri": "sqlite:////tmp/x.db",
    "registry_uri": None,
    "host": "127.0.0.1",
    "port": 8123,
    "access_key": "abcdefghij0123456789abcdefghij01",
    "auth": True,
    "api_key_sha256": DIGEST,
    "max_body_bytes": 5242880,
    "max_concurrency": 4,
    "ready_file": None,
}


def test_a_good_config_is_read_with_its_values(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path / "c.json", **GOOD))
    assert (config.port, config.auth, config.max_concurrency, config.registry_uri) == (8123, True, 4, None)


def test_defaults_apply_to_optional_fields() -> None:
    minimal = {k: GOOD[k] for k in ("model_uri", "tracking_uri", "port", "access_key", "api_key_sha256")}
    config = parse_config(minimal)
    assert (config.host, config.auth, config.max_body_bytes, config.max_concurrency) == (
        "127.0.0.1",
        True,
        5 * 1024 * 1024,
        64,
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"host": "0.0.0.0"}, "host: the model server binds 127.0.0.1 only"),
        ({"host": "localhost"}, "host: the model server binds 127.0.0.1 only"),
        ({"port": 70000}, "port: must be an integer from 0 to 65535"),
        ({"port": "8000"}, "port: must be an integer"),
        ({"model_uri": None}, "model_uri: is required"),
        ({"access_key": "short"}, "access_key: must be 8 to 128 letters or digits"),
        ({"api_key_sha256": None}, "api_key_sha256: must be the lowercase hex SHA-256"),
        ({"auth": "yes"}, "auth: must be true or false"),
        ({"max_concurrency": 0}, "max_concurrency: must be an integer from 1"),
        ({"max_body_bytes": True}, "max_body_bytes: must be an integer"),
        ({"acess_key": "x"}, "unknown key(s) 'acess_key'"),
    ],
)
def test_bad_fields_are_named(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ServeConfigError) as caught:
        parse_config({**GOOD, **change}, source="c.json")
    assert message in str(caught.value)
    assert GOOD["access_key"] not in str(caught.value)


def test_auth_off_needs_no_key_digest() -> None:
    assert parse_config({**GOOD, "auth": False, "api_key_sha256": None}).api_key_sha256 is None


def test_the_repr_hides_the_access_key() -> None:
    assert GOOD["access_key"] not in repr(parse_config(GOOD))


def test_unreadable_or_invalid_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(ServeConfigError, match="cannot read"):
        load_config(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{nope")
    with pytest.raises(ServeConfigError, match="not valid JSON"):
        load_config(tmp_path / "bad.json")


def run_server(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "automation.local.serving", *args],
        cwd=REPO,
        env=server_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_process_refuses_a_non_loopback_host(tmp_path: Path) -> None:
    done = run_server(str(write_config(tmp_path / "c.json", **{**GOOD, "host": "0.0.0.0"})))
    assert done.returncode == 2
    assert "binds 127.0.0.1 only" in done.stderr
    assert GOOD["access_key"] not in done.stderr + done.stdout


def test_the_process_needs_exactly_one_argument() -> None:
    done = run_server()
    assert done.returncode == 2
    assert "usage: python -m automation.local.serving CONFIG_JSON" in done.stderr


def test_a_taken_port_is_a_deployment_failure() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        with pytest.raises(DeploymentFailed, match=f"cannot listen on 127.0.0.1:{taken.getsockname()[1]}"):
            bind_loopback("127.0.0.1", taken.getsockname()[1])


def test_the_ready_file_is_owner_only_json(tmp_path: Path) -> None:
    target = tmp_path / "ready.json"
    write_ready_file(str(target), 4242, 5151)
    assert json.loads(target.read_text()) == {"pid": 4242, "port": 5151}
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["ready.json"]
