"""InputSchema: every request shape maps to the same matrix; every bad input names its problem."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from automation.local.serving.errors import RequestError
from automation.local.serving.inputs import Column, InputSchema

SCHEMA = InputSchema([Column("a", "double"), Column("b", "long"), Column("c", "double")])
ROWS = [[1.5, 2, 3.25], [4.0, 5, 6.5]]
RECORDS = [{"a": 1.5, "b": 2, "c": 3.25}, {"c": 6.5, "b": 5, "a": 4.0}]


@pytest.mark.parametrize(
    "request_obj",
    [
        {"input": ROWS},
        {"columns": ["a", "b", "c"], "data": ROWS},
        {"columns": ["c", "a", "b"], "data": [[3.25, 1.5, 2], [6.5, 4.0, 5]]},
        {"dataframe_split": {"columns": ["a", "b", "c"], "data": ROWS, "index": [7, 8]}},
        {"dataframe_split": {"data": ROWS}},
        {"dataframe_records": RECORDS},
        {"inputs": ROWS},
        {"inputs": RECORDS},
        {"inputs": {"a": [1.5, 4.0], "b": [2, 5], "c": [3.25, 6.5]}},
        {"instances": ROWS},
        {"instances": RECORDS},
        {"input": RECORDS},
    ],
)
def test_every_shape_gives_the_same_matrix(request_obj: dict[str, Any]) -> None:
    matrix = SCHEMA.to_matrix(request_obj)
    assert matrix.dtype == np.float64
    assert matrix.flags.f_contiguous  # the layout pandas hands to an estimator
    assert matrix.tolist() == [[1.5, 2.0, 3.25], [4.0, 5.0, 6.5]]


def test_a_flat_row_is_one_row() -> None:
    assert SCHEMA.to_matrix({"input": [1, 2, 3]}).tolist() == [[1.0, 2.0, 3.0]]


@pytest.mark.parametrize(
    ("request_obj", "message"),
    [
        ({"input": [[1.0, 2]]}, "wrong row length in row 0 (got 2, expected 3 columns: a, b, c)"),
        (
            {"input": [[1.0, 2, 3], [1.0, 2]]},
            "wrong row length in row 1 (got 2, expected 3 columns: a, b, c)",
        ),
        ({"input": [[1.0, 2.5, 3]]}, "non-integer value 2.5 in integer column 'b' row 0"),
        ({"input": [[1.0, 2, "x" * 100]]}, "xxxxxxxxxx... in column 'c' row 0"),
        ({"input": [[1.0, 2, {"v": 1}]]}, "nested value {'v': 1} in column 'c' row 0"),
        ({"input": [[[1.0, 2, 3]]]}, "nesting too deep in row 0"),
        ({"input": [[10**400, 2, 3]]}, "number too large in column 'a' row 0"),
        ({"input": [[float("nan"), 2, 3]]}, "NaN/inf not allowed: nan in column 'a' row 0"),
        ({"dataframe_records": [{"a": 1.0, "b": 2, "c": 3.0, "d": 4}]}, "unknown columns in record 0: d"),
        ({"dataframe_records": [{"a": 1.0}]}, "missing columns in record 0: b, c"),
        ({"dataframe_records": [RECORDS[0], 5]}, "record 1 in 'dataframe_records' must be an object"),
        ({"inputs": {"a": [1.0], "b": [1, 2], "c": [3.0]}}, "different lengths"),
        ({"inputs": {}}, "empty input"),
        ({"dataframe_split": {"columns": ["a", "b", "c"]}}, "'dataframe_split' has no 'data'"),
        (
            {"dataframe_split": {"columns": "a,b,c", "data": ROWS}},
            "'columns' in 'dataframe_split' must be a list",
        ),
        (
            {"dataframe_split": {"data": ROWS, "orient": "split"}},
            "unknown key(s) in 'dataframe_split': 'orient'",
        ),
        ({"dataframe_split": [ROWS]}, "'dataframe_split' must be an object"),
        ({"dataframe_records": {"a": 1}}, "'dataframe_records' must be a list of objects"),
        ({"input": ROWS, "params": {"x": 1}}, "unknown key(s) in 'request': 'params'"),
        ("a,b,c", "'request' must be a JSON object"),
        ({"columns": ["a", "b", "c"]}, "'columns' needs 'data'"),
        ({"columns": ["a", "a", "b"] * 5000, "data": [[1.0] * 15000]}, "duplicate column names: a, b"),
    ],
)
def test_bad_input_names_the_problem(request_obj: Any, message: str) -> None:
    with pytest.raises(RequestError) as caught:
        SCHEMA.to_matrix(request_obj)
    assert message in str(caught.value)


def test_integer_columns_check_their_range() -> None:
    schema = InputSchema([Column("n", "integer")])
    assert schema.to_matrix({"input": [[2**31 - 1]]}).tolist() == [[2**31 - 1]]
    with pytest.raises(RequestError, match="out of 32-bit range in column 'n' row 0"):
        schema.to_matrix({"input": [[2**31]]})


def test_float32_columns_are_rounded_as_pyfunc_would() -> None:
    schema = InputSchema([Column("x", "float"), Column("y", "double")])
    matrix = schema.to_matrix({"input": [[0.1, 0.1]]})
    assert matrix.dtype == np.float64
    assert matrix[0, 0] == float(np.float32(0.1))
    assert matrix[0, 1] == 0.1
    assert InputSchema([Column("x", "float")]).to_matrix({"input": [[0.1]]}).dtype == np.float32


def test_model_input_for_pyfunc_carries_the_signature_dtypes() -> None:
    frame = SCHEMA.to_model_input({"input": ROWS})
    assert list(frame.columns) == ["a", "b", "c"]
    assert [str(t) for t in frame.dtypes] == ["float64", "int64", "float64"]


def test_without_a_signature_positional_rows_get_integer_column_names() -> None:
    frame = InputSchema().to_model_input({"input": [[1, "x"], [2, "y"]]})
    assert list(frame.columns) == [0, 1]
    assert frame.to_numpy().tolist() == [[1, "x"], [2, "y"]]
    with pytest.raises(RequestError, match="wrong row length in row 1"):
        InputSchema().to_model_input({"input": [[1, 2], [3]]})
    with pytest.raises(RequestError, match="NaN/inf not allowed"):
        InputSchema().to_model_input({"input": [[float("inf")]]})


def test_the_zero_request_has_one_neutral_value_per_column() -> None:
    schema = InputSchema([Column("a", "double"), Column("s", "string"), Column("f", "boolean")])
    assert schema.zero_request() == {"input": [[0, "", False]]}
    assert InputSchema().zero_request() is None
