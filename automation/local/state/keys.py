"""The workspace API key: generated once, kept in ``<state_dir>/api_key`` readable by the user only."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path


def load_or_create_api_key(path: Path) -> str:
    """Return the key stored at ``path``, creating it (mode 0600) on first use.

    ``O_EXCL`` makes two processes racing on a fresh state folder agree on one key.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        os.chmod(path, 0o600)
        key = path.read_text(encoding="utf-8").strip()
        if key:
            return key
        # An empty file (a crash between create and write): replace it.
        path.unlink()
        return load_or_create_api_key(path)
    key = secrets.token_urlsafe(32)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(key + "\n")
    return key


def keys_match(given: str, expected: str) -> bool:
    """Constant-time comparison, so response timing does not leak the key."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()
