"""The package's description of API v2 (operations.json): what methods and models it builds."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

_DOC: dict[str, Any] = json.loads(Path(__file__).with_name("operations.json").read_text(encoding="utf-8"))

API_VERSION: str = _DOC["api_version"]
OPERATIONS: dict[str, dict[str, Any]] = _DOC["operations"]
NOT_SERVED: dict[str, str] = _DOC["not_served"]
MODELS: dict[str, dict[str, str]] = _DOC["models"]
ENUMS: dict[str, list[str]] = _DOC["enums"]


def path_params(template: str) -> list[tuple[str, str]]:
    """(python name, template name) of a path's parameters in URL order: '{project.id}' -> project_id."""
    return [(name.replace(".", "_"), name) for name in re.findall(r"\{([^}]+)\}", template)]
