"""Field types of request bodies that need more than pydantic's defaults: the ``environment`` maps.

Requests (create) carry ``environment`` as a map; an update (PATCH) body is the resource message,
where it is a JSON-encoded string. Routes declare their bodies with these; the domain receives the
parsed map.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import BeforeValidator


def _parse_env(value: Any) -> Any:
    """``environment`` is a map in requests; accept the JSON string CML returns too (clients echo it back)."""
    if value is None:
        return None
    if isinstance(value, str):
        if not value.strip():
            return {}
        try:
            value = json.loads(value)
        except ValueError:
            raise ValueError("must be a map of strings or a JSON object string") from None
    if not isinstance(value, dict):
        raise ValueError("must be a map of strings")
    out: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key:
            raise ValueError("keys must be non-empty strings")
        out[key] = (
            item
            if isinstance(item, str)
            else json.dumps(item)
            if isinstance(item, dict | list)
            else str(item)
        )
    return out


EnvMap = Annotated[dict[str, str] | None, BeforeValidator(_parse_env)]


def _parse_env_string(value: Any) -> Any:
    """An update (PATCH) body is the resource message, whose ``environment`` is a JSON string.

    CML refuses an object there with 400 (INVALID_ARGUMENT); so does the local workspace.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(
            "must be a JSON-encoded string in an update (the PATCH body is the resource message), "
            'such as "{"A": "1"}", not an object'
        )
    return _parse_env(value)


EnvString = Annotated[dict[str, str] | None, BeforeValidator(_parse_env_string)]
