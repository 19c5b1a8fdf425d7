"""The workspace key file: created once with mode 0600, read back unchanged, repaired when empty."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

from automation.local.state.keys import load_or_create_api_key, sha256_hex


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_key_is_random_urlsafe_and_private(tmp_path: Path) -> None:
    path = tmp_path / "api_key"
    key = load_or_create_api_key(path)
    assert len(key) == 43 and key.replace("-", "").replace("_", "").isalnum()  # 32 random bytes
    assert path.read_text() == key + "\n"
    assert mode(path) == 0o600
    assert load_or_create_api_key(tmp_path / "other") != key


def test_an_existing_key_is_returned_and_made_private_again(tmp_path: Path) -> None:
    path = tmp_path / "api_key"
    key = load_or_create_api_key(path)
    path.chmod(0o644)
    assert load_or_create_api_key(path) == key
    assert mode(path) == 0o600


def test_an_empty_key_file_is_replaced_by_a_new_key(tmp_path: Path) -> None:
    path = tmp_path / "api_key"
    path.write_text("\n")
    key = load_or_create_api_key(path)
    assert len(key) == 43 and path.read_text() == key + "\n" and mode(path) == 0o600


def test_sha256_hex() -> None:
    assert sha256_hex("abc") == hashlib.sha256(b"abc").hexdigest()
