"""Small pieces shared by the API shapes: the local user, ShortProject, environment maps, accessors."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

from pydantic import BeforeValidator

from automation.local.core.problems import bad_request

USERNAME = "local-user"


def short_user() -> dict[str, str]:
    """The one user of a local workspace (owner and creator of everything)."""
    return {"username": USERNAME, "name": "Local User", "email": f"{USERNAME}@localhost"}


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "project"


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


def env_json(env: dict[str, str] | None) -> str:
    """Responses carry ``environment`` as a JSON-encoded string."""
    return json.dumps(env or {}, sort_keys=True)


def tags_list(tags: dict[str, str] | None) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in sorted((tags or {}).items())]


def dig(obj: Any, dotted: str) -> Any:
    """``dig(doc, "creator.username")``: the accessor behind search filters and sorting."""
    current = obj
    for part in dotted.split("."):
        if not isinstance(current, dict):
            return None
        current = current.get(part)
    return current


def require_text(value: str | None, field: str) -> str:
    if value is None or not str(value).strip():
        raise bad_request(f"{field} is required")
    return str(value).strip()
