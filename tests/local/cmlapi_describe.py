"""Derive the local ``cmlapi`` package's description (operations.json) from the API v2 swagger.

The package (``automation/local/workloads/runtime/cmlapi_dist``) builds its methods and model classes
at import time from a small JSON in its own format: for each operation the local workspace serves,
its snake_case method name, verb and path, body model, query parameters and response model; the
names (and verbs and paths) of the operations it does not serve; and the field names and types of
every model those operations reach. No descriptions are kept. Regenerate after adding a route::

    python tests/local/cmlapi_describe.py [SWAGGER]     # writes operations.json

``tests/local/test_local_cmlapi.py`` checks that the shipped file equals this output.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
TARGET = (
    REPO / "automation" / "local" / "workloads" / "runtime" / "cmlapi_dist" / "cmlapi" / "operations.json"
)
VERBS = ("get", "post", "put", "patch", "delete")


def snake(operation_id: str) -> str:
    """Method names as swagger-codegen's Python client spells them: ValidateAPIKey -> validate_api_key."""
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", operation_id)
    text = re.sub(r"([a-z\d])([A-Z])", r"\1_\2", text)
    return text.replace("-", "_").lower()


def local_routes() -> set[tuple[str, str]]:
    """(verb, normalised path) of every API v2 route of the local server's app (built, not started)."""
    from conformance.test_local_conformance import ALIASES, LOCAL_EXTRAS, _app_routes, _normal

    routes = {(m, _normal(p)) for m, p in _app_routes(Path("/nonexistent")) if (m, p) not in LOCAL_EXTRAS}
    return {(m, ALIASES.get((m, p), p)) for m, p in routes}


def covered_ids(doc: Mapping[str, Any], routes: set[tuple[str, str]]) -> set[str]:
    """The operation ids of the swagger that ``routes`` serve."""
    from conformance.test_local_conformance import _normal

    return {
        op["operationId"]
        for template, verbs in doc["paths"].items()
        for verb, op in verbs.items()
        if verb in VERBS and (verb.upper(), _normal(template)) in routes
    }


def _ref(schema: Mapping[str, Any] | None) -> str | None:
    return schema["$ref"].rsplit("/", 1)[-1] if schema and "$ref" in schema else None


def type_of(schema: Mapping[str, Any], enums: Mapping[str, Any]) -> str:
    """A property's type in swagger-codegen's Python spelling: str, int, list[Tag], dict(str, str)..."""
    name = _ref(schema)
    if name:
        return "str" if name in enums else name
    kind = schema.get("type")
    if kind == "array":
        return f"list[{type_of(schema['items'], enums)}]"
    if kind == "object":
        extra = schema.get("additionalProperties")
        return f"dict(str, {type_of(extra, enums)})" if isinstance(extra, dict) else "object"
    if kind == "string":
        return {"date-time": "datetime", "date": "date"}.get(schema.get("format", ""), "str")
    return {"integer": "int", "number": "float", "boolean": "bool", "file": "file"}[kind]


def describe(doc: Mapping[str, Any], covered: set[str]) -> dict[str, Any]:
    definitions = doc["definitions"]
    enums = {n: d["enum"] for n, d in definitions.items() if d.get("type") == "string" and "enum" in d}
    operations: dict[str, Any] = {}
    not_served: dict[str, str] = {}
    wanted: list[str] = ["runtimeError"]
    for template, verbs in doc["paths"].items():
        for verb, op in verbs.items():
            if verb not in VERBS:
                continue
            name, line = snake(op["operationId"]), f"{verb.upper()} {template}"
            if op["operationId"] not in covered:
                not_served[name] = line
                continue
            params = op.get("parameters", [])
            if any(p["in"] == "query" and p.get("required") for p in params):
                raise ValueError(f"{name}: required query parameters are not supported by the package")
            body = next((_ref(p["schema"]) for p in params if p["in"] == "body"), None)
            returns = _ref(op["responses"].get("200", {}).get("schema"))
            entry: dict[str, Any] = {"http": line, "body": body, "returns": returns}
            entry["query"] = {p["name"]: type_of(p, enums) for p in params if p["in"] == "query"}
            form = {p["name"]: type_of(p, enums) for p in params if p["in"] == "formData"}
            if form:
                entry["form"] = form
            operations[name] = entry
            wanted.extend(n for n in (body, returns) if n)
    models: dict[str, dict[str, str]] = {}
    while wanted:
        name = wanted.pop()
        if name in models or name in enums:
            continue
        props = definitions[name].get("properties", {})
        models[name] = {field: type_of(schema, enums) for field, schema in props.items()}
        for schema in props.values():
            for inner in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", type_of(schema, {})):
                if inner in definitions:
                    wanted.append(inner)
    used_enums = {
        n: enums[n]
        for n in sorted(enums)
        for d in models
        if any(
            _ref(s) == n or _ref(s.get("items")) == n for s in definitions[d].get("properties", {}).values()
        )
    }
    return {
        "api_version": doc["info"]["version"],
        "operations": dict(sorted(operations.items())),
        "not_served": dict(sorted(not_served.items())),
        "models": dict(sorted(models.items())),
        "enums": used_enums,
    }


def render(description: Mapping[str, Any]) -> str:
    """JSON with one line per operation, model and enum: small, and diffs read well."""
    lines = ["{"]
    for i, (key, value) in enumerate(description.items()):
        end = "," if i < len(description) - 1 else ""
        if not isinstance(value, dict):
            lines.append(f" {json.dumps(key)}: {json.dumps(value)}{end}")
            continue
        lines.append(f" {json.dumps(key)}: {{")
        items = [f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in value.items()]
        lines.append(",\n".join(items))
        lines.append(f" }}{end}")
    return "\n".join([*lines, "}"]) + "\n"


def main(argv: list[str]) -> int:
    from conformance.swagger import find_swagger, skip_reason

    path = Path(argv[0]) if argv else find_swagger()
    if path is None:
        print(skip_reason(), file=sys.stderr)
        return 2
    doc = json.loads(path.read_text(encoding="utf-8"))
    TARGET.write_text(render(describe(doc, covered_ids(doc, local_routes()))), encoding="utf-8")
    print(f"wrote {TARGET.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO / "tests"))
    raise SystemExit(main(sys.argv[1:]))
