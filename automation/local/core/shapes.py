"""Small pieces shared by the API shapes: the local user, slugs, environment JSON, accessors."""

from __future__ import annotations

import json
import re
from typing import Any

from automation.local.core.problems import bad_request

USERNAME = "local-user"


def short_user() -> dict[str, str]:
    """The one user of a local workspace (owner and creator of everything)."""
    return {"username": USERNAME, "name": "Local User", "email": f"{USERNAME}@localhost"}


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "project"


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
