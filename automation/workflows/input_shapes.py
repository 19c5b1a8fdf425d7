"""The shapes a model endpoint's ``request`` comes in, and the same rows written in each of them.

CML does not document which shapes the wrapper around a registry-deployed MLflow model accepts
(cml-runtime.md section 3): the tutorial sent ``{"input": [[...]]}``, its README later
``{"columns": [...], "data": [[...]]}``, a 2024 article ``{"dataframe_split": {...}}``. The smoke
test uses this module to find out, when the spec's input is refused, whether the same rows in
another shape are accepted. Pure functions, no I/O.
"""

from __future__ import annotations

from typing import Any

# Tried in this order: MLflow 2.x's split form first (what registry deployments took in 2024).
SHAPES = ("dataframe_split", "columns+data", "input", "instances", "inputs", "dataframe_records")
_NEEDS_COLUMNS = {"columns+data", "dataframe_records"}


def shape_of(request: Any) -> str:
    """The shape's name, or ``"unknown"``."""
    if not isinstance(request, dict):
        return "unknown"
    keys = set(request)
    if "columns" in keys and "data" in keys and keys <= {"columns", "data", "index"}:
        return "columns+data"
    if len(keys) == 1:
        (key,) = keys
        if key in SHAPES:
            return key
    return "unknown"


def _records(items: list[Any]) -> tuple[list[str], list[list[Any]]] | None:
    if not all(isinstance(r, dict) for r in items):
        return None
    columns = list(items[0])
    if any(list(r) != columns for r in items):
        return None
    return columns, [[r[c] for c in columns] for r in items]


def _rows(value: Any) -> tuple[list[str] | None, list[list[Any]]] | None:
    """Rows (and column names when the value carries them) of an ``input``/``instances``/``inputs``."""
    if isinstance(value, dict):  # columnar: {"a": [1, 2], "b": [3, 4]}
        columns = list(value)
        values = [v if isinstance(v, list) else [v] for v in value.values()]
        if not columns or len({len(v) for v in values}) != 1:
            return None
        return columns, [list(r) for r in zip(*values, strict=True)]
    if not isinstance(value, list) or not value:
        return None
    if isinstance(value[0], dict):
        return _records(value)
    if all(isinstance(r, list) for r in value):
        return None, value
    return None, [value]  # one flat row


def table_of(request: Any) -> tuple[list[str] | None, list[list[Any]]] | None:
    """``(column names or None, rows)`` of a request in any known shape; None if it is none of them."""
    shape = shape_of(request)
    if shape in ("columns+data", "dataframe_split"):
        split = request if shape == "columns+data" else request["dataframe_split"]
        if not isinstance(split, dict) or not isinstance(split.get("data"), list):
            return None
        columns = split.get("columns")
        return (list(columns) if isinstance(columns, list) else None), split["data"]
    if shape == "dataframe_records":
        value = request["dataframe_records"]
        return _records(value) if isinstance(value, list) and value else None
    if shape in ("input", "instances", "inputs"):
        return _rows(request[shape])
    return None


def in_shape(shape: str, columns: list[str] | None, rows: list[list[Any]]) -> dict[str, Any] | None:
    """The rows written in ``shape`` (None when the shape needs column names and there are none)."""
    if shape in _NEEDS_COLUMNS and not columns:
        return None
    if shape == "dataframe_split":
        return {"dataframe_split": {"columns": columns, "data": rows} if columns else {"data": rows}}
    if shape == "columns+data":
        return {"columns": columns, "data": rows}
    if shape == "dataframe_records":
        return {"dataframe_records": [dict(zip(columns, r, strict=False)) for r in rows]}
    if columns and shape in ("instances", "inputs"):
        return {shape: [dict(zip(columns, r, strict=False)) for r in rows]}
    return {shape: rows}


def alternatives(request: Any) -> list[tuple[str, dict[str, Any]]]:
    """The same rows in every other shape, in the order to try them."""
    table = table_of(request)
    if table is None:
        return []
    columns, rows = table
    mine = shape_of(request)
    out = []
    for shape in SHAPES:
        if shape == mine:
            continue
        converted = in_shape(shape, columns, rows)
        if converted is not None:
            out.append((shape, converted))
    return out
