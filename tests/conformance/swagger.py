"""Match concrete API v2 requests and responses against the real swagger description.

Reusable by any suite (the client's conformance test, the local server's route/response checks)::

    from conformance.swagger import Swagger, find_swagger   # or tests.conformance.swagger
    spec = Swagger.load_or_skip()
    problems = spec.check_request("PATCH", "/api/v2/projects/p1", body={"name": "x"})
    problems = spec.check_response("GET", "/api/v2/projects/p1", {"id": "p1", ...})

The file is found through ``$CML_SWAGGER`` or at ``<repo>/../shared/reference/cml-api-v2.swagger.json``.
Path templates keep their grpc-gateway spelling: ``{project.id}`` is one segment like
``{project_id}``, custom methods end in ``:stop``/``:restart``, and the files ``{path}`` parameter
may be empty (lists the project root, verified live) or hold encoded or raw slashes.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SWAGGER_ENV = "CML_SWAGGER"
_REPO = Path(__file__).resolve().parents[2]
DEFAULT_SWAGGER = _REPO / ".." / "shared" / "reference" / "cml-api-v2.swagger.json"
METHODS = ("get", "post", "put", "patch", "delete")


def find_swagger() -> Path | None:
    """The swagger file from $CML_SWAGGER, else next to the repo; None when absent."""
    configured = os.environ.get(SWAGGER_ENV)
    path = Path(configured).expanduser() if configured else DEFAULT_SWAGGER
    return path.resolve() if path.is_file() else None


def skip_reason() -> str:
    return (
        f"API v2 swagger not found: set {SWAGGER_ENV} to cml-api-v2.swagger.json "
        f"(looked at {os.environ.get(SWAGGER_ENV) or DEFAULT_SWAGGER.resolve()})"
    )


def _template_regex(template: str) -> re.Pattern[str]:
    out = ["^"]
    for i, part in enumerate(re.split(r"(\{[^}]+\})", template)):
        if part.startswith("{") and part.endswith("}"):
            name = part[1:-1]
            # ids never hold "/" or ":"; the files {path} may be empty and may hold slashes
            pattern = "[^:]*" if name == "path" else "[^/:]+"
            out.append(f"(?P<p{i}>{pattern})")
        else:
            out.append(re.escape(part))
    out.append("$")
    return re.compile("".join(out))


@dataclass(frozen=True)
class Operation:
    """One (template, verb) of the description, with the parameters a concrete path filled in."""

    template: str
    method: str
    spec: Mapping[str, Any] = field(repr=False)
    path_params: Mapping[str, str] = field(default_factory=dict)

    @property
    def operation_id(self) -> str:
        return str(self.spec.get("operationId", ""))

    def params(self, where: str) -> dict[str, Mapping[str, Any]]:
        return {p["name"]: p for p in self.spec.get("parameters", []) if p.get("in") == where}

    @property
    def query_names(self) -> set[str]:
        return set(self.params("query"))

    @property
    def takes_form_data(self) -> bool:
        return bool(self.params("formData"))


class Swagger:
    """An API v2 description with path matching and $ref-resolving schema checks."""

    def __init__(self, doc: Mapping[str, Any]) -> None:
        self.doc = doc
        self.definitions: Mapping[str, Any] = doc.get("definitions", {})
        self._templates = [(t, _template_regex(t), ops) for t, ops in doc.get("paths", {}).items()]

    @classmethod
    def from_file(cls, path: Path) -> Swagger:
        return cls(json.loads(Path(path).read_text()))

    @classmethod
    def load_or_skip(cls) -> Swagger:
        """For tests: the description, or pytest.skip with a reason that says how to provide it."""
        import pytest

        path = find_swagger()
        if path is None:
            pytest.skip(skip_reason())
        return cls.from_file(path)

    # -- paths --------------------------------------------------------------------------------------

    def templates_for(self, path: str) -> list[tuple[str, dict[str, str], list[str]]]:
        """Every template a concrete path fits: (template, path params, verbs)."""
        found = []
        for template, regex, ops in self._templates:
            m = regex.match(path)
            if m:
                names = re.findall(r"\{([^}]+)\}", template)
                found.append(
                    (
                        template,
                        dict(zip(names, m.groups(), strict=True)),
                        [v.upper() for v in ops if v in METHODS],
                    )
                )
        return found

    def match(self, method: str, path: str) -> Operation | None:
        """The operation for a concrete request; literal segments win over parameters."""
        method = method.lower()
        candidates = [
            (len(params), template, params)
            for template, params, verbs in self.templates_for(path)
            if method.upper() in verbs
        ]
        if not candidates:
            return None
        _, template, params = min(candidates)
        return Operation(template, method.upper(), self.doc["paths"][template][method], params)

    # -- schemas ------------------------------------------------------------------------------------

    def resolve(self, schema: Mapping[str, Any] | None) -> dict[str, Any]:
        """Follow $ref (repeatedly) to the definition."""
        seen = 0
        schema = dict(schema or {})
        while "$ref" in schema and seen < 20:
            name = schema["$ref"].rsplit("/", 1)[-1]
            schema = dict(self.definitions.get(name, {}))
            seen += 1
        return schema

    def body_schema(self, op: Operation) -> dict[str, Any] | None:
        for p in op.spec.get("parameters", []):
            if p.get("in") == "body":
                return self.resolve(p.get("schema"))
        return None

    def response_schema(self, op: Operation, status: int | str = 200) -> dict[str, Any] | None:
        responses = op.spec.get("responses", {})
        answer = responses.get(str(status)) or (responses.get("default") if int(status) >= 400 else None)
        return self.resolve(answer.get("schema")) if answer and answer.get("schema") else None

    def search_filter_keys(self, op: Operation) -> set[str] | None:
        """Keys the operation's search_filter documents (None when it documents none)."""
        prm = op.params("query").get("search_filter")
        text = (prm or {}).get("description", "")
        keys: set[str] = set()
        for group in re.findall(r"\[([^\]]*)\]", text):
            keys.update(tok for tok in re.split(r"[\s,\"]+", group) if tok)
        keys.update(re.findall(r"\"([\w.]+)\"\s*:", text))
        return keys or None

    # -- checks -------------------------------------------------------------------------------------

    def check_request(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        query: Iterable[str] = (),
        multipart: bool = False,
        search_filter: Mapping[str, Any] | None = None,
    ) -> list[str]:
        """Problems with one request; an empty list means it exists in the description."""
        where = f"{method.upper()} {path}"
        templates = self.templates_for(path)
        if not templates:
            return [f"{where}: no path template matches"]
        op = self.match(method, path)
        if op is None:
            verbs = sorted({v for _, _, vs in templates for v in vs})
            return [f"{where}: verb not allowed (templates {[t for t, _, _ in templates]} take {verbs})"]
        problems: list[str] = []
        unknown_query = sorted(set(query) - op.query_names)
        if unknown_query:
            problems.append(
                f"{where} ({op.template}): query parameters not in the description: {unknown_query}"
            )
        if multipart:
            if not op.takes_form_data:
                problems.append(
                    f"{where} ({op.template}): multipart body but the operation takes no form data"
                )
        elif body:
            schema = self.body_schema(op)
            if schema is None:
                problems.append(
                    f"{where} ({op.template}): sends a body {sorted(body)} but the operation takes none"
                )
            else:
                # field names and value types: an object where the message wants a string (the
                # PATCH body's environment), a number where it wants an int64 string, an unknown enum
                problems.extend(self.value_problems(schema, body, f"{where} body"))
        if search_filter:
            allowed = self.search_filter_keys(op)
            if allowed is not None:
                unknown = sorted(set(search_filter) - allowed)
                if unknown:
                    problems.append(
                        f"{where}: search_filter keys not documented: {unknown} (known: {sorted(allowed)})"
                    )
        return problems

    def check_response(self, method: str, path: str, body: Any, status: int = 200) -> list[str]:
        """Problems with one response body: fields the schema lacks, and JSON types that differ."""
        op = self.match(method, path)
        if op is None:
            return [f"{method.upper()} {path}: no such operation"]
        schema = self.response_schema(op, status)
        if schema is None:
            return (
                []
                if body in (None, {}, b"", "")
                else [f"{method.upper()} {path}: no response schema for {status}"]
            )
        return self.value_problems(schema, body, f"{method.upper()} {path} -> {status}")

    def unknown_fields(self, schema: Mapping[str, Any], data: Mapping[str, Any], where: str) -> list[str]:
        props = self.resolve(schema).get("properties")
        if props is None:
            return []  # a free-form object (map) takes any key
        return [f"{where}: field {key!r} is not in the schema" for key in data if key not in props]

    def value_problems(self, schema: Mapping[str, Any], value: Any, where: str) -> list[str]:
        """Recursive structural check: unknown fields and JSON types (int64 travels as a string)."""
        schema = self.resolve(schema)
        kind = schema.get("type") or ("object" if "properties" in schema else None)
        if value is None or kind is None:
            return []
        if kind == "object":
            if not isinstance(value, dict):
                return [f"{where}: expected an object, got {type(value).__name__}"]
            problems = self.unknown_fields(schema, value, where)
            props = schema.get("properties") or {}
            extra = schema.get("additionalProperties")
            for key, item in value.items():
                if key in props:
                    problems.extend(self.value_problems(props[key], item, f"{where}.{key}"))
                elif isinstance(extra, dict):
                    problems.extend(self.value_problems(extra, item, f"{where}.{key}"))
            return problems
        if kind == "array":
            if not isinstance(value, list):
                return [f"{where}: expected an array, got {type(value).__name__}"]
            out: list[str] = []
            for i, item in enumerate(value):
                out.extend(self.value_problems(schema.get("items") or {}, item, f"{where}[{i}]"))
            return out
        fmt = schema.get("format")
        numeric_text = isinstance(value, str) and _is_number(value)
        ok = {
            "string": isinstance(value, str) and (fmt not in ("int64", "uint64") or _is_number(value)),
            "boolean": isinstance(value, bool),
            # proto3 JSON: int64 travels as a string; any integer may be sent as a numeric string
            "integer": numeric_text or (isinstance(value, int) and not isinstance(value, bool)),
            "number": numeric_text or (isinstance(value, int | float) and not isinstance(value, bool)),
        }.get(kind, True)
        if not ok:
            return [f"{where}: expected {kind}{'/' + fmt if fmt else ''}, got {value!r}"]
        enum = schema.get("enum")
        if enum and value not in enum:
            return [f"{where}: {value!r} is not one of {enum}"]
        return []


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
