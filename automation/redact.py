"""Masking of secrets in anything that might be shown: traces, reprs, errors, JSON output."""

from __future__ import annotations

import contextlib
import io
import json
import re
from collections.abc import Iterator
from typing import Any, TextIO

# JSON keys whose values are secrets wherever they appear (requests, responses, configs).
SECRET_KEYS = frozenset(
    {
        "api_key",
        "apikey",
        "access_key",
        "accesskey",
        "authorization",
        "password",
        "secret",
        "deployment_secrets",
        "cdsw_apiv2_key",
        "cml_api_key",
        "cdsw_api_key",
    }
)
MASK = "***"


def mask(value: str | None) -> str:
    """Show that a secret is set without showing it."""
    if not value:
        return "<unset>"
    return MASK


def is_secret_key(key: str) -> bool:
    return key.lower().replace("-", "_") in SECRET_KEYS


_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSW|CREDENTIAL", re.IGNORECASE)


def is_secret_name(name: str) -> bool:
    """Variable names whose values are never shown (API keys, tokens, passwords...)."""
    return bool(_SECRET_NAME.search(name))


def redact_data(data: Any) -> Any:
    """Return a copy of JSON-like data with every secret-named value masked."""
    if isinstance(data, dict):
        return {
            k: (MASK if is_secret_key(str(k)) and v not in (None, "") else redact_data(v))
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [redact_data(v) for v in data]
    return data


class Redactor:
    """Removes known secret strings from free text (a last line of defence for logs and traces)."""

    def __init__(self, *secrets: str | None) -> None:
        self._secrets: set[str] = set()
        self._shown = False
        for s in secrets:
            self.add(s)

    @contextlib.contextmanager
    def showing(self) -> Iterator[None]:
        """Let text through unmasked meanwhile: only for what the user asked to see in clear
        (``predict --curl --show-secrets``)."""
        self._shown = True
        try:
            yield
        finally:
            self._shown = False

    def add(self, secret: str | None) -> None:
        """Remember a secret, also as it reads inside a JSON string (once and twice encoded: an
        update body carries ``environment`` as a JSON string inside JSON)."""
        if secret and len(secret) >= 6:
            once = json.dumps(secret)[1:-1]
            self._secrets.update({secret, once, json.dumps(once)[1:-1]})

    def __call__(self, text: str) -> str:
        if self._shown:
            return text
        for s in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(s, MASK)
        return mask_url_credentials(_BEARER.sub("Bearer " + MASK, text))


_BEARER = re.compile(r"Bearer\s+[A-Za-z0-9._~+/=-]+")
# scheme://userinfo@ : a token or user:password in a URL (git remotes, proxies, database URLs)
_URL_CREDENTIALS = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*://)[^/\s@'\"<>]+@")


def mask_url_credentials(text: str) -> str:
    """``https://<token>@host/x`` -> ``https://***@host/x`` wherever a URL appears in ``text``."""
    return _URL_CREDENTIALS.sub(lambda m: m.group(1) + MASK + "@", text)


class RedactingWriter(io.TextIOBase):
    """A text stream that passes everything written through a Redactor to the stream it wraps: the
    CLI's stdout and stderr, so no output path can print a known secret or URL credentials."""

    def __init__(self, stream: TextIO, redact: Redactor) -> None:
        super().__init__()
        self._stream, self._redact = stream, redact

    def write(self, text: str) -> int:
        self._stream.write(self._redact(text))
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._stream, "encoding", None) or "utf-8"

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self._stream, "errors", None)

    def writable(self) -> bool:
        return True
