"""Saved workspaces (`cmlops configure`): the URL in a profile file, the API key in the OS keyring.

The keyring (the optional ``keyring`` package: macOS Keychain, Windows Credential Locker, Secret
Service on Linux) is used when it is installed and has a usable backend; otherwise the key goes
into the profile file with 0600 permissions and ``save_profile`` says so (``key_store``). Nothing
here prints; the key never appears in a return value meant for display.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from automation.errors import SettingsError

KEYRING_SERVICE = "cmlops"
KEYRING_MARK = "keyring"  # profile field `api_key_in: keyring`


@dataclass(frozen=True)
class SavedProfile:
    """Where `configure` put things (for the message; no secret)."""

    name: str
    path: Path
    key_store: str  # "keyring" or "file"


def _keyring() -> Any | None:
    """The keyring module when installed with a backend that can store secrets, else None."""
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return None
    try:
        if isinstance(keyring.get_keyring(), fail.Keyring):
            return None
    except Exception:  # a broken backend configuration counts as no keyring
        return None
    return keyring


def keyring_get(profile: str) -> str | None:
    """The key saved for ``profile`` in the OS keyring (None when absent or no keyring)."""
    kr = _keyring()
    if kr is None:
        raise SettingsError(
            f"profile {profile!r} keeps its API key in the OS keyring, but no keyring is available",
            hint='pip install "cmlops[keyring]", or run `cmlops configure` again to store the key in the file',
        )
    try:
        return kr.get_password(KEYRING_SERVICE, profile)
    except Exception as exc:  # keyring.errors.KeyringError and backend failures
        raise SettingsError(f"the OS keyring could not be read ({type(exc).__name__})") from None


def _read(path: Path) -> dict[str, Any]:
    import yaml

    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise SettingsError(f"{path}: not valid YAML ({type(exc).__name__})", hint="fix or move it") from None
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: expected a mapping with `profiles:`", hint="fix or move it")
    return data


def save_profile(
    path: Path, name: str, *, url: str, api_key: str, ca_bundle: str | None = None, use_keyring: bool = True
) -> SavedProfile:
    """Add or replace profile ``name`` in ``path`` (0600); the key goes to the keyring when there is one."""
    data = _read(path)
    profiles = data.setdefault("profiles", {})
    if not isinstance(profiles, dict):
        raise SettingsError(f"{path}: `profiles` is not a mapping", hint="fix or move the file")
    entry: dict[str, Any] = {"url": url}
    if ca_bundle:
        entry["ca_bundle"] = ca_bundle
    kr = _keyring() if use_keyring else None
    store = "file"
    if kr is not None:
        try:
            kr.set_password(KEYRING_SERVICE, name, api_key)
            entry["api_key_in"], store = KEYRING_MARK, "keyring"
        except Exception:  # a locked or read-only keyring: fall back to the file, and say so
            kr = None
    if kr is None:
        entry["api_key"] = api_key
    profiles[name] = entry
    _write_private(path, data)
    return SavedProfile(name=name, path=path, key_store=store)


def _write_private(path: Path, data: dict[str, Any]) -> None:
    import yaml

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        yaml.safe_dump(data, fh, sort_keys=False)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
