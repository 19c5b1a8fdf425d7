"""Turn the ``request`` object of a model call into validated model input.

Accepted shapes of ``request`` (exactly one of them):

* ``{"input": rows}`` -- the tutorial's form: a list of positional rows mapped to the signature's
  input columns in order, or one flat row ``[..]``, or a list of records;
* ``{"columns": [...], "data": [[...]]}`` -- pandas *split* orient without a wrapper (MLflow 1.x era);
* ``{"dataframe_split": {"columns": [...], "data": [...], "index": [...]}}``;
* ``{"dataframe_records": [{column: value}, ...]}``;
* ``{"inputs": ...}`` / ``{"instances": ...}`` -- a list of rows, a list of records, one flat row,
  or a column-to-values object.

Every shape is normalised to rows in the signature's column order, then checked once in plain
Python: row lengths, unknown or missing column names, value types (numbers only for numeric
columns; ``true``/``false`` and numeric strings are refused, as MLflow's schema enforcement does),
finite values, integral values for integer columns. Problems raise ``RequestError`` with a message
naming the row and column, which the endpoint returns as a 400.

Why not let pyfunc do it: MLflow's per-call schema enforcement on a pandas frame costs about a
millisecond per request, several times the prediction itself. ``to_matrix`` instead builds the float
array the estimator would have received from pyfunc, in the same (column-major) memory layout as a
pandas frame's ``to_numpy()``, so the fast path's predictions are bit-identical to pyfunc's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from automation.local.serving.errors import RequestError

NUMERIC_TYPES = frozenset(("double", "float", "long", "integer"))
_NUMBER = frozenset((int, float))
_FORMS = ("input", "columns+data", "dataframe_split", "dataframe_records", "inputs", "instances")
_INT32 = 2**31


@dataclass(frozen=True)
class Column:
    """One input column of a model signature (``type`` is MLflow's DataType name, or ``any``)."""

    name: str
    type: str = "any"
    required: bool = True


def _show(value: Any, limit: int = 40) -> str:
    """A short, JSON-looking rendering of a bad value for an error message."""
    if value is None:
        text = "null"
    elif value is True or value is False:
        text = "true" if value else "false"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _list_names(names: Sequence[Any], limit: int = 20) -> str:
    shown = ", ".join(str(n) for n in names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    return "a number" if type(value) in _NUMBER else type(value).__name__


class InputSchema:
    """The input columns a model expects, and the conversions from a ``request`` to model input.

    An empty schema (a model logged without a signature) accepts any rectangular table: positional
    rows get integer column names, as ``pandas.DataFrame(rows)`` would give them.
    """

    def __init__(self, columns: Sequence[Column] = (), *, tensor_dtype: str | None = None) -> None:
        self.columns = tuple(columns)
        self.names = tuple(c.name for c in self.columns)
        self.tensor_dtype = tensor_dtype
        self._index = {name: i for i, name in enumerate(self.names)}
        self.numeric = bool(self.columns) and all(
            c.type in NUMERIC_TYPES and c.required for c in self.columns
        )
        self._int_cols = [i for i, c in enumerate(self.columns) if c.type in ("long", "integer")]
        self._f32_cols = [i for i, c in enumerate(self.columns) if c.type == "float"]

    @classmethod
    def from_signature(cls, signature: Any) -> InputSchema:
        """Build from an ``mlflow.models.ModelSignature`` (or None for a model without one)."""
        if signature is None or signature.inputs is None:
            return cls()
        inputs = signature.inputs
        if inputs.is_tensor_spec():
            specs = inputs.inputs
            dtype = str(specs[0].type) if len(specs) == 1 else None
            return cls(tensor_dtype=dtype)
        columns = []
        for i, spec in enumerate(inputs.inputs):
            name = spec.name if spec.name is not None else str(i)
            type_name = getattr(spec.type, "name", None) or "any"
            columns.append(Column(name=name, type=type_name, required=bool(getattr(spec, "required", True))))
        return cls(columns)

    # --- shape: request -> (names, rows) -----------------------------------------------------

    def rows(self, request: Any) -> tuple[list[Any], list[list[Any]]]:
        """Normalise ``request`` to (column names, rows in that order); the names are the schema's
        when there is one. Checks shape only, not the values."""
        names, rows = self._extract(request)
        if not isinstance(rows, list) or not rows:
            raise RequestError("empty input: the request has no rows")
        return self._align(names, rows)

    def _extract(self, request: Any) -> tuple[list[Any] | None, Any]:
        if not isinstance(request, dict):
            raise RequestError(
                f"'request' must be a JSON object with one of: {', '.join(_FORMS)} (got {_kind(request)})"
            )
        keys = set(request)
        if "columns" in keys and keys <= {"columns", "data", "index"}:
            if "data" not in keys:
                raise RequestError("'columns' needs 'data': send {\"columns\": [...], \"data\": [[...]]}")
            return self._split(request, "request")
        forms = [
            k for k in ("input", "dataframe_split", "dataframe_records", "inputs", "instances") if k in keys
        ]
        if len(forms) != 1 or len(keys) != 1:
            if not keys:
                raise RequestError(
                    f"empty input: 'request' is an empty object; send one of: {', '.join(_FORMS)}"
                )
            unknown = sorted(keys - {"input", "dataframe_split", "dataframe_records", "inputs", "instances"})
            if unknown:
                raise RequestError(
                    f"unknown key(s) in 'request': {', '.join(map(repr, unknown))}; "
                    f"send exactly one of: {', '.join(_FORMS)}"
                )
            raise RequestError(f"'request' has several input forms ({', '.join(forms)}); send exactly one")
        form = forms[0]
        value = request[form]
        if form == "dataframe_split":
            if not isinstance(value, dict):
                raise RequestError(
                    f"'dataframe_split' must be an object with 'columns' and 'data' (got {_kind(value)})"
                )
            extra = sorted(set(value) - {"columns", "data", "index"})
            if extra:
                raise RequestError(f"unknown key(s) in 'dataframe_split': {', '.join(map(repr, extra))}")
            if "data" not in value:
                raise RequestError("'dataframe_split' has no 'data'")
            return self._split(value, "dataframe_split")
        if form == "dataframe_records":
            if not isinstance(value, list):
                raise RequestError(f"'dataframe_records' must be a list of objects (got {_kind(value)})")
            return self._records(value, form)
        if isinstance(value, dict) and form in ("inputs", "instances"):
            return self._columnar(value, form)
        if not isinstance(value, list):
            raise RequestError(f"'{form}' must be a list of rows (got {_kind(value)})")
        if not value:
            raise RequestError(f"empty input: '{form}' has no rows")
        first = value[0]
        if isinstance(first, dict):
            return self._records(value, form)
        if isinstance(first, list):
            return None, value
        return None, [value]  # one flat row

    @staticmethod
    def _split(value: dict[str, Any], where: str) -> tuple[list[Any] | None, Any]:
        names = value.get("columns")
        if names is not None and (not isinstance(names, list) or not all(isinstance(n, str) for n in names)):
            raise RequestError(f"'columns' in '{where}' must be a list of column names (strings)")
        data = value.get("data")
        if not isinstance(data, list):
            raise RequestError(f"'data' in '{where}' must be a list of rows (got {_kind(data)})")
        return names, data

    def _records(self, records: list[Any], where: str) -> tuple[list[Any], list[list[Any]]]:
        if not records:
            raise RequestError(f"empty input: '{where}' has no records")
        if not isinstance(records[0], dict):
            raise RequestError(f"record 0 in '{where}' must be an object (got {_kind(records[0])})")
        names = list(self.names) if self.columns else list(records[0])
        known = set(names)
        rows = []
        for i, rec in enumerate(records):
            if not isinstance(rec, dict):
                raise RequestError(f"record {i} in '{where}' must be an object (got {_kind(rec)})")
            if len(rec) == len(names) and all(n in rec for n in names):
                rows.append([rec[n] for n in names])
                continue
            unknown = [k for k in rec if k not in known]
            if unknown:
                raise RequestError(
                    f"unknown columns in record {i}: {_list_names(unknown)} (expected: {_list_names(names)})"
                )
            missing = [n for n in names if n not in rec and self._required(n)]
            if missing:
                raise RequestError(f"missing columns in record {i}: {_list_names(missing)}")
            rows.append([rec.get(n) for n in names])
        return names, rows

    @staticmethod
    def _columnar(value: dict[str, Any], where: str) -> tuple[list[Any], list[list[Any]]]:
        if not value:
            raise RequestError(f"empty input: '{where}' has no columns")
        names = list(value)
        columns = [v if isinstance(v, list) else [v] for v in value.values()]
        lengths = {len(c) for c in columns}
        if len(lengths) != 1:
            raise RequestError(f"the columns in '{where}' have different lengths ({sorted(lengths)})")
        return names, [list(r) for r in zip(*columns, strict=True)]

    def _required(self, name: str) -> bool:
        i = self._index.get(name)
        return True if i is None else self.columns[i].required

    def _align(self, names: list[Any] | None, rows: list[Any]) -> tuple[list[Any], list[list[Any]]]:
        if names is not None:
            if len(set(names)) != len(names):
                dups = sorted(n for n, count in Counter(names).items() if count > 1)
                raise RequestError(f"duplicate column names: {_list_names(dups)}")
            width = len(names)
        elif self.columns:
            width = len(self.columns)
        else:
            first = rows[0]
            width = len(first) if isinstance(first, list) else 0
        for i, row in enumerate(rows):
            if not isinstance(row, list):
                raise RequestError(f"row {i} must be a list of values (got {_kind(row)})")
            if len(row) != width:
                if any(isinstance(v, (list, dict)) for v in row):
                    raise RequestError(
                        f"nesting too deep in row {i}: a row is a flat list of values, this one holds "
                        f"{_kind(next(v for v in row if isinstance(v, (list, dict))))}"
                    )
                if names is None and self.columns:
                    raise RequestError(
                        f"wrong row length in row {i} (got {len(row)}, expected {width} columns: "
                        f"{_list_names(self.names)})"
                    )
                raise RequestError(f"wrong row length in row {i} (got {len(row)}, expected {width})")
        if not self.columns:
            return (names if names is not None else list(range(width))), rows
        if names is None or tuple(names) == self.names:
            return list(self.names), rows
        unknown = [n for n in names if n not in self._index]
        if unknown:
            raise RequestError(
                f"unknown columns: {_list_names(unknown)} (expected: {_list_names(self.names)})"
            )
        where = {n: k for k, n in enumerate(names)}
        missing = [c.name for c in self.columns if c.name not in where and c.required]
        if missing:
            raise RequestError(
                f"missing columns: {_list_names(missing)} (expected: {_list_names(self.names)})"
            )
        order = [where.get(n) for n in self.names]
        return list(self.names), [[None if k is None else row[k] for k in order] for row in rows]

    # --- values --------------------------------------------------------------------------------

    def to_matrix(self, request: Any) -> np.ndarray:
        """Validated float matrix in the signature's column order, laid out like pandas' to_numpy()
        (Fortran order), so an estimator computes exactly what it computes under pyfunc."""
        if not self.numeric:
            raise TypeError("to_matrix needs a signature whose columns are all required numbers")
        _, rows = self.rows(request)
        for i, row in enumerate(rows):
            for v in row:
                if type(v) not in _NUMBER:
                    self._raise_bad_value(rows, i)
        try:
            matrix = np.array(rows, dtype=np.float64, order="F")
        except OverflowError:
            i, j = next(
                (i, j)
                for i, row in enumerate(rows)
                for j, v in enumerate(row)
                if type(v) is int and abs(v) > 1e308
            )
            raise RequestError(
                f"number too large in column {self.names[j]!r} row {i}: {_show(rows[i][j])}"
            ) from None
        if not np.isfinite(matrix).all():
            i, j = (int(k) for k in np.argwhere(~np.isfinite(matrix))[0])
            raise RequestError(
                f"NaN/inf not allowed: {_show(rows[i][j])} in column {self.names[j]!r} row {i}"
            )
        for j in self._int_cols:
            self._check_integral(matrix, rows, j)
        if self._f32_cols:
            matrix = self._as_float32(matrix)
        return matrix

    def _raise_bad_value(self, rows: list[list[Any]], i: int) -> None:
        for j, v in enumerate(rows[i]):
            if type(v) in _NUMBER:
                continue
            name = self.names[j]
            if v is None:
                raise RequestError(f"missing value (null) in column {name!r} row {i}")
            if isinstance(v, (list, dict)):
                raise RequestError(
                    f"nested value {_show(v)} in column {name!r} row {i}; expected a number (nesting too deep)"
                )
            raise RequestError(f"non-numeric value {_show(v)} in column {name!r} row {i}")

    def _check_integral(self, matrix: np.ndarray, rows: list[list[Any]], j: int) -> None:
        column = matrix[:, j]
        bad = np.flatnonzero(column != np.trunc(column))
        name, kind = self.names[j], self.columns[j].type
        if bad.size:
            i = int(bad[0])
            raise RequestError(f"non-integer value {_show(rows[i][j])} in integer column {name!r} row {i}")
        if kind == "integer":
            out = np.flatnonzero((column < -_INT32) | (column >= _INT32))
            if out.size:
                i = int(out[0])
                raise RequestError(
                    f"value {_show(rows[i][j])} out of 32-bit range in column {name!r} row {i}"
                )

    def _as_float32(self, matrix: np.ndarray) -> np.ndarray:
        """Round float32 columns as pyfunc's cast would; an all-float32 table stays float32."""
        if len(self._f32_cols) == len(self.columns):
            converted = matrix.astype(np.float32, order="F")
            if not np.isfinite(converted).all():
                raise RequestError("value out of float32 range")
            return converted
        for j in self._f32_cols:
            matrix[:, j] = matrix[:, j].astype(np.float32)
        if not np.isfinite(matrix).all():
            raise RequestError("value out of float32 range")
        return matrix

    def to_model_input(self, request: Any) -> Any:
        """Input for the generic path (pyfunc ``predict``): a pandas frame with the signature's
        dtypes, or an array for a tensor signature."""
        import pandas as pd

        if self.numeric:
            matrix = self.to_matrix(request)
            frame = pd.DataFrame(matrix, columns=list(self.names))
            cast = {"long": "int64", "integer": "int32", "float": "float32"}
            dtypes = {c.name: cast[c.type] for c in self.columns if c.type in cast}
            return frame.astype(dtypes) if dtypes else frame
        names, rows = self.rows(request)
        self._check_plain_values(names, rows)
        if self.tensor_dtype is not None:
            try:
                return np.asarray(rows, dtype=self.tensor_dtype)
            except (TypeError, ValueError) as exc:
                raise RequestError(
                    f"input does not fit the model's tensor type {self.tensor_dtype}: {exc}"
                ) from None
        return pd.DataFrame(rows, columns=names)

    @staticmethod
    def _check_plain_values(names: list[Any], rows: list[list[Any]]) -> None:
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                if isinstance(v, (list, dict)):
                    raise RequestError(f"nested value {_show(v)} in column {names[j]!r} row {i}")
                if type(v) is float and not np.isfinite(v):
                    raise RequestError(f"NaN/inf not allowed: {_show(v)} in column {names[j]!r} row {i}")

    def zero_request(self) -> dict[str, Any] | None:
        """A one-row request of neutral values built from the signature (None without one)."""
        if not self.columns:
            return None
        zeros = {"string": "", "boolean": False, "binary": ""}
        return {"input": [[zeros.get(c.type, 0) for c in self.columns]]}
