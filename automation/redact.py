"""Masking of secrets in anything that might be shown: traces, reprs, errors, JSON output."""

from __future__ import annotations

import re
from typing import Any

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
        for s in secrets:
            self.add(s)

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= 6:
            self._secrets.add(secret)

    def __call__(self, text: str) -> str:
        for s in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(s, MASK)
        return _BEARER.sub("Bearer " + MASK, text)


_BEARER = re.compile(r"Bearer\s+[A-Za-z0-9._~+/=-]+")
