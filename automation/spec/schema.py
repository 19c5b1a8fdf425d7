"""JSON Schema of the spec, for ``cmlops schema`` and for editors (yaml-language-server).

A document is either a version 2 spec or a version 1 spec (``oneOf`` on ``version``), so editors keep
validating v1 files until they are migrated.

Generated from the pydantic models, then widened in one place: wherever a number or boolean is
expected, a whole ``${VAR}`` / ``${VAR:-default}`` reference is accepted too, since substitution
happens before typing. ``spec.schema.json`` next to this module is the committed copy editors point at
(``python -c "from automation.spec.schema import write_schema_file; write_schema_file()"`` rewrites
it; a test keeps it in sync).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic.json_schema import models_json_schema

from automation.spec.models import Spec
from automation.spec.v1 import SpecV1

SCHEMA_FILE = Path(__file__).with_name("spec.schema.json")
_REFERENCE = {"type": "string", "pattern": r"^\$\{[^}]+\}$", "description": "A ${VAR} reference."}


def _widen(node: Any) -> Any:
    if isinstance(node, list):
        return [_widen(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _widen(value) for key, value in node.items()}
    if node.get("type") in ("integer", "number", "boolean") and "const" not in node:
        keep = {k: node.pop(k) for k in ("title", "description", "default") if k in node}
        node = {"anyOf": [node, dict(_REFERENCE)], **keep}
    return node


def spec_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a cmlops spec, v2 or v1, with every field described."""
    refs, top = models_json_schema(
        [(Spec, "validation"), (SpecV1, "validation")], ref_template="#/$defs/{model}"
    )
    defs = _widen(top["$defs"])
    ignored = {"^x-": {"description": "Ignored: a place for YAML anchors (&name) to reuse."}}
    for model in (Spec, SpecV1):
        defs[model.__name__]["patternProperties"] = ignored
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://cmlops.invalid/spec.schema.json",
        "title": "cmlops spec",
        "description": "A cmlops spec: version 2 (jobs, applications, models, target overrides) or version 1.",
        "oneOf": [refs[(model, "validation")] for model in (Spec, SpecV1)],
        "$defs": defs,
    }


def render() -> str:
    """The schema as committed in spec.schema.json (stable key order, trailing newline)."""
    return json.dumps(spec_json_schema(), indent=2, sort_keys=False) + "\n"


def write_schema_file() -> Path:
    """Rewrite the committed spec.schema.json after a model change."""
    SCHEMA_FILE.write_text(render(), encoding="utf-8")
    return SCHEMA_FILE
