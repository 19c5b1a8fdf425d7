"""Turn pydantic's validation errors into one precise SpecError: file:line:column, the field path,
what was expected, and a "did you mean" for misspelt keys and choices.

Pydantic reports locations as model paths (with extra parts such as a union's tag or ``[key]``); they
are mapped back onto the YAML data to find the line and column the user wrote. The first problem in
file order is reported; the hint says how many more there are.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError

from automation.errors import SpecError
from automation.spec.yamlload import ABSENT, FieldPath, YamlDocument, child, dotted

EXPECTED_TYPES = {
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "string": "text",
    "dict": "a mapping (key: value)",
    "model": "a mapping (key: value)",
    "model_attributes": "a mapping (key: value)",
    "list": "a list",
}


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """The closest choice to ``word`` (case-insensitive), or None when nothing is close."""
    lowered = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[close[0]] if close else None


def describe(value: Any, secret: bool) -> str:
    """How the offending value is named in a message, never showing a secret."""
    if secret:
        return "a secret value"
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"text {shown!r}"
    return repr(value)


def _strip(tp: Any) -> Any:
    while True:
        if typing.get_origin(tp) is typing.Annotated:
            tp = typing.get_args(tp)[0]
            continue
        if typing.get_origin(tp) in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(members) == 1:
                tp = members[0]
                continue
        return tp


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def model_at(root: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class found by following a pydantic ``loc`` from ``root`` (None when it leads elsewhere)."""
    tp: Any = root
    for part in loc:
        tp = _strip(tp)
        if _is_model(tp):
            field = tp.model_fields.get(part) if isinstance(part, str) else None
            if field is None:
                return None
            tp = field.annotation
        elif typing.get_origin(tp) is dict:
            tp = typing.get_args(tp)[1]
        elif typing.get_origin(tp) is list:
            tp = typing.get_args(tp)[0]
        elif typing.get_origin(tp) in (typing.Union, types.UnionType):
            tagged = [m for m in typing.get_args(tp) if _is_model(m) and _tag_of(m) == part]
            if not tagged:
                return None
            tp = tagged[0]
        else:
            return None
    tp = _strip(tp)
    return tp if _is_model(tp) else None


def _tag_of(model: type[BaseModel]) -> Any:
    field = model.model_fields.get("kind")
    args = typing.get_args(field.annotation) if field else ()
    return args[0] if len(args) == 1 else None


def _data_path(data: Any, loc: tuple[Any, ...]) -> tuple[FieldPath, Any, list[Any]]:
    """Follow ``loc`` through the YAML data. Returns (path in data, value there, loc parts not found)."""
    path: FieldPath = ()
    node = data
    skipped: list[Any] = []
    for part in loc:
        found = child(node, part)
        if found is not ABSENT:
            path, node = (*path, part), found
        else:
            skipped.append(part)
    return path, node, skipped


def _rewrite(msg: str) -> str:
    msg = re.sub(r"^(Value|Assertion) error, ", "", msg)
    msg = msg.replace("Input should be", "must be").replace("String should", "must")
    msg = msg.replace("List should", "the list must").replace("Dictionary should", "the mapping must")
    return msg


def _one(
    error: dict[str, Any], doc: YamlDocument, data: Any, root: type[BaseModel], secrets: set[FieldPath]
) -> tuple[bool, tuple[int, int], SpecError]:
    kind: str = error["type"]
    loc: tuple[Any, ...] = tuple(error["loc"])
    path, node, skipped = _data_path(data, loc)
    secret = any(path[: i + 1] in secrets for i in range(len(path)))
    at_key = isinstance(node, dict | list) or (skipped and skipped[-1] == "[key]")
    field_path: FieldPath = path
    hint: str | None = None

    if kind == "missing":
        missing = loc[-1]
        field_path = (*path, missing)
        model = model_at(root, loc[:-1])
        info = model.model_fields.get(missing) if model and isinstance(missing, str) else None
        where = f"under '{dotted(path)}'" if path else "at the top level"
        message = f"missing required key '{missing}'"
        hint = f"add '{missing}:' {where}" + (
            f" ({info.description.rstrip('.')})" if info and info.description else ""
        )
        position = doc.position(path, key=True)
    elif kind == "extra_forbidden":
        unknown = str(loc[-1])
        model = model_at(root, loc[:-1])
        allowed = sorted(model.model_fields) if model else []
        message = f"unknown key '{unknown}'"
        close = did_you_mean(unknown, allowed)
        hint = (f"did you mean '{close}'? " if close else "") + (
            f"allowed keys here: {', '.join(allowed)}" if allowed else ""
        )
        position = doc.position(path, key=True)
    elif kind in ("union_tag_invalid", "union_tag_not_found"):
        tags = re.findall(r"'([^']*)'", str(error.get("ctx", {}).get("expected_tags", "'local', 'cml'")))
        if kind == "union_tag_not_found":
            message, position = (
                f"missing key 'kind' (one of: {', '.join(tags)})",
                doc.position(path, key=True),
            )
            field_path = (*path, "kind")
        else:
            tag = str(error.get("ctx", {}).get("tag", ""))
            message = f"unknown kind '{tag}'; expected one of: {', '.join(tags)}"
            close = did_you_mean(tag, tags)
            hint = f"did you mean '{close}'?" if close else None
            field_path = (*path, "kind")
            position = doc.position(field_path)
    elif kind in ("literal_error", "enum"):
        choices = re.findall(r"'([^']*)'", str(error.get("ctx", {}).get("expected", "")))
        message = f"expected one of: {', '.join(choices)}; got {describe(node, secret)}"
        close = did_you_mean(node, choices) if isinstance(node, str) and not secret else None
        hint = f"did you mean '{close}'?" if close else None
        position = doc.position(path)
    else:
        base = kind.rsplit("_", 1)[0] if kind.endswith(("_type", "_parsing")) else ""
        if base == "int" or kind == "int_from_float":
            message = f"expected a whole number, got {describe(node, secret)}"
        elif base in EXPECTED_TYPES:
            message = f"expected {EXPECTED_TYPES[base]}, got {describe(node, secret)}"
            if base == "string" and isinstance(node, int | float) and not isinstance(node, bool):
                hint = f"quote it: '{node}'"
        else:
            message = _rewrite(str(error.get("msg", "invalid value")))
            if not isinstance(node, dict | list) and kind != "value_error" and path == tuple(loc):
                message += f" (got {describe(node, secret)})"
        position = doc.position(path, key=bool(at_key))
    field_name = dotted(field_path) or None
    line, column = position
    error_out = SpecError(message, file=doc.file, line=line, column=column, field=field_name, hint=hint)
    return kind == "missing", position, error_out


def from_validation_error(
    exc: ValidationError, doc: YamlDocument, data: Any, root: type[BaseModel], secrets: set[FieldPath]
) -> SpecError:
    """The first problem (in file order) of a pydantic ValidationError, as a located SpecError."""
    found = [_one(e, doc, data, root, secrets) for e in exc.errors(include_url=False)]
    # Wrong or unknown keys first, in file order: a missing key is often the consequence of a misspelt one.
    found.sort(key=lambda item: (item[0], item[1]))
    first = found[0][2]
    if len(found) > 1:
        more = f"{len(found) - 1} more problem{'s' if len(found) > 2 else ''} after this one"
        first.hint = f"{first.hint}; {more}" if first.hint else more
    return first
