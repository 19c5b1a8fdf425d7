"""The model server's config file: one JSON object written (mode 0600) by the local API server.

The file is the whole interface between the API server and a deployment process, so it is read
strictly: an unknown key, a wrong type or a non-loopback host stops the process before anything is
loaded, with a message naming the field. Secrets in it (the access key, the hash of the workspace
API key) are never echoed back in those messages.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from automation.local.serving.errors import ServeConfigError

LOOPBACK = "127.0.0.1"
DEFAULT_MAX_BODY_BYTES = 5 * 1024 * 1024
DEFAULT_MAX_CONCURRENCY = 64
DEFAULT_LARGE_BODY_BYTES = 64 * 1024  # bodies above it are answered by the large-call worker process

_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
_ACCESS_KEY = re.compile(r"^[A-Za-z0-9]{8,128}$")

_REQUIRED = ("tracking_uri", "port", "access_key")  # and one of model_uri / function
_FUNCTION_KEYS = ("project_dir", "file_path", "function_name")
_KNOWN = (
    "model_uri",
    "function",
    *_REQUIRED,
    "registry_uri",
    "host",
    "auth",
    "api_key_sha256",
    "max_body_bytes",
    "max_concurrency",
    "large_body_bytes",
    "ready_file",
)


@dataclass(frozen=True)
class FunctionSpec:
    """A file-based model: ``function_name`` of ``file_path`` (relative to ``project_dir``)."""

    project_dir: str
    file_path: str
    function_name: str


@dataclass(frozen=True)
class ServeConfig:
    """One deployment: which model, where its store is, where to listen and who may call it."""

    model_uri: str
    tracking_uri: str
    registry_uri: str | None
    port: int
    access_key: str
    auth: bool = True
    api_key_sha256: str | None = None
    host: str = LOOPBACK
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    large_body_bytes: int = DEFAULT_LARGE_BODY_BYTES  # 0: no worker process, every call in-process
    ready_file: str | None = None
    function: FunctionSpec | None = None  # set instead of model_uri (which is then "")

    def __repr__(self) -> str:  # keep secrets out of logs and tracebacks
        return (
            f"ServeConfig(model_uri={self.model_uri!r}, function={self.function!r}, host={self.host!r}, port={self.port}, "
            f"auth={self.auth}, access_key='***', max_body_bytes={self.max_body_bytes}, "
            f"max_concurrency={self.max_concurrency})"
        )


def load_config(path: str | Path) -> ServeConfig:
    """Read and validate the config file at ``path``; raise ServeConfigError naming the bad field."""
    p = Path(path)
    try:
        raw = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ServeConfigError(f"{p}: cannot read the server config ({exc.strerror or exc})") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ServeConfigError(f"{p}: the server config is not valid JSON ({exc})") from None
    return parse_config(raw, source=str(p))


def parse_config(raw: Any, *, source: str = "<config>") -> ServeConfig:
    """Validate an already-decoded config object (see the module docstring for the rules)."""

    def bad(field: str, why: str) -> ServeConfigError:
        return ServeConfigError(f"{source}: {field}: {why}")

    if not isinstance(raw, dict):
        raise ServeConfigError(f"{source}: the server config must be a JSON object")
    unknown = sorted(set(raw) - set(_KNOWN))
    if unknown:
        raise ServeConfigError(
            f"{source}: unknown key(s) {', '.join(map(repr, unknown))}; allowed: {', '.join(_KNOWN)}"
        )
    for key in _REQUIRED:
        if raw.get(key) is None:
            raise bad(key, "is required")

    def string(key: str, *, optional: bool = False) -> str | None:
        value = raw.get(key)
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value.strip():
            raise bad(key, "must be a non-empty string")
        return value

    def integer(key: str, default: int, low: int, high: int) -> int:
        value = raw.get(key, default)
        if value is None:
            value = default
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise bad(key, f"must be an integer from {low} to {high}")
        return value

    host = raw.get("host", LOOPBACK)
    if host != LOOPBACK:
        raise bad("host", f"the model server binds {LOOPBACK} only (got {host!r})")
    access_key = string("access_key")
    assert access_key is not None
    if not _ACCESS_KEY.match(access_key):
        raise bad("access_key", "must be 8 to 128 letters or digits")
    auth = raw.get("auth", True)
    if not isinstance(auth, bool):
        raise bad("auth", "must be true or false")
    digest = raw.get("api_key_sha256")
    needs_digest = auth or digest is not None
    if needs_digest and (not isinstance(digest, str) or not _SHA256_HEX.match(digest)):
        raise bad("api_key_sha256", "must be the lowercase hex SHA-256 of the workspace API key")
    function = _function(raw.get("function"), bad)
    if function is None and raw.get("model_uri") is None:
        raise bad("model_uri", "is required (or give function for a file-based model)")
    if function is not None and raw.get("model_uri") is not None:
        raise bad("function", "give either model_uri or function, not both")
    model_uri = "" if function is not None else string("model_uri")
    tracking_uri = string("tracking_uri")
    assert model_uri is not None and tracking_uri is not None
    return ServeConfig(
        model_uri=model_uri,
        function=function,
        tracking_uri=tracking_uri,
        registry_uri=string("registry_uri", optional=True),
        host=host,
        port=integer("port", 0, 0, 65535),
        access_key=access_key,
        auth=auth,
        api_key_sha256=digest,
        max_body_bytes=integer("max_body_bytes", DEFAULT_MAX_BODY_BYTES, 1024, 1 << 30),
        max_concurrency=integer("max_concurrency", DEFAULT_MAX_CONCURRENCY, 1, 100_000),
        large_body_bytes=integer("large_body_bytes", DEFAULT_LARGE_BODY_BYTES, 0, 1 << 30),
        ready_file=string("ready_file", optional=True),
    )


def _function(raw: Any, bad: Any) -> FunctionSpec | None:
    """The optional ``function`` object: ``{"project_dir", "file_path", "function_name"}``, all strings."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise bad("function", f"must be an object with {', '.join(_FUNCTION_KEYS)}")
    unknown = sorted(set(raw) - set(_FUNCTION_KEYS))
    if unknown:
        raise bad("function", f"unknown key(s) {', '.join(map(repr, unknown))}")
    for key in _FUNCTION_KEYS:
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise bad(f"function.{key}", "must be a non-empty string")
    return FunctionSpec(raw["project_dir"], raw["file_path"], raw["function_name"])
