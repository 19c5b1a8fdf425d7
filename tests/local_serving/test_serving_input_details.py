"""InputSchema's details that mutation testing found unguarded: what error messages call a bad value,
how they shorten it, optional columns, columnar input out of order, and signatures of every kind."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from mlflow.models import ModelSignature
from mlflow.types import ColSpec, Schema, TensorSpec

from automation.local.serving.errors import RequestError
from automation.local.serving.inputs import Column, InputSchema

SCHEMA = InputSchema([Column("a", "double"), Column("b", "long"), Column("c", "double")])
OPTIONAL_C = InputSchema([Column("a", "double"), Column("b", "long"), Column("c", "double", required=False)])


def refusal(schema: InputSchema, request: Any) -> str:
    with pytest.raises(RequestError) as caught:
        schema.to_matrix(request) if schema.numeric else schema.rows(request)
    return str(caught.value)


@pytest.mark.parametrize(
    ("request_obj", "kind"),
    [
        ([1, 2], "a list"),
        ("rows", "a string"),
        (None, "null"),
        (3, "a number"),
        (2.5, "a number"),
        (True, "bool"),
    ],
)
def test_a_request_that_is_not_an_object_is_named_by_its_kind(request_obj, kind):
    assert refusal(SCHEMA, request_obj).endswith(f"(got {kind})")


def test_a_bad_form_value_is_named_by_its_kind():
    assert refusal(SCHEMA, {"dataframe_split": [1]}).endswith("(got a list)")
    assert refusal(SCHEMA, {"dataframe_records": {"a": 1}}).endswith("(got an object)")
    assert refusal(SCHEMA, {"input": "x"}).endswith("(got a string)")


@pytest.mark.parametrize(("value", "shown"), [(True, "true"), (False, "false"), ("7", "'7'")])
def test_non_numeric_values_are_shown_as_json_would(value, shown):
    assert f"non-numeric value {shown} in column 'a' row 0" in refusal(SCHEMA, {"input": [[value, 1, 2.0]]})


def test_a_long_value_is_shortened_to_40_characters():
    exact = "x" * 38  # repr adds two quotes: 40 characters, shown whole
    assert f"'{exact}'" in refusal(SCHEMA, {"input": [[exact, 1, 2.0]]})
    longer = "x" * 39  # 41 with quotes: 37 characters and an ellipsis
    message = refusal(SCHEMA, {"input": [[longer, 1, 2.0]]})
    assert "'" + "x" * 36 + "..." in message and longer not in message


@pytest.mark.parametrize(("count", "listed_all"), [(20, True), (21, False)])
def test_unknown_column_lists_stop_at_20_names(count, listed_all):
    record = {"a": 1.0, "b": 1, "c": 1.0, **{f"u{i:02d}": 0 for i in range(count)}}
    message = refusal(SCHEMA, {"dataframe_records": [record]})
    assert "u19" in message and "u20" not in message  # the 20th name is the last one shown
    assert (f"({count} in all)" in message) is (not listed_all)


def test_a_record_may_leave_out_an_optional_column():
    names, rows = OPTIONAL_C.rows({"dataframe_records": [{"a": 1.0, "b": 2}, {"a": 3.0, "b": 4, "c": 5.0}]})
    assert names == ["a", "b", "c"] and rows == [[1.0, 2, None], [3.0, 4, 5.0]]
    assert "missing columns in record 0: c" in refusal(SCHEMA, {"dataframe_records": [{"a": 1.0, "b": 2}]})


def test_columnar_input_in_another_order_lands_in_schema_order():
    matrix = SCHEMA.to_matrix({"inputs": {"c": [3.0], "a": [1.0], "b": [2]}})
    assert matrix.tolist() == [[1.0, 2.0, 3.0]]


def test_no_rows_and_data_without_columns():
    assert "empty input" in refusal(SCHEMA, {"columns": ["a", "b", "c"], "data": []})
    assert "unknown key(s) in 'request': 'data'" in refusal(SCHEMA, {"data": [[1.0, 2, 3.0]]})


def test_columns_are_required_unless_the_signature_says_otherwise():
    assert Column("a", "double").required is True
    assert SCHEMA.numeric is True and OPTIONAL_C.numeric is False


# --- from_signature -------------------------------------------------------------------------------


def test_no_signature_or_no_inputs_gives_an_open_schema():
    for signature in (None, SimpleNamespace(inputs=None)):
        schema = InputSchema.from_signature(signature)
        assert schema.columns == () and schema.tensor_dtype is None


def test_a_column_signature_keeps_names_types_and_optionality():
    signature = ModelSignature(inputs=Schema([ColSpec("double", "a"), ColSpec("long", "b", required=False)]))
    schema = InputSchema.from_signature(signature)
    assert schema.columns == (Column("a", "double", True), Column("b", "long", False))


def test_unnamed_columns_are_numbered():
    schema = InputSchema.from_signature(ModelSignature(inputs=Schema([ColSpec("double"), ColSpec("float")])))
    assert schema.names == ("0", "1") and schema.columns[1].type == "float"


def test_a_tensor_signature_keeps_its_dtype_when_single():
    one = ModelSignature(inputs=Schema([TensorSpec(np.dtype("float32"), (-1, 3))]))
    assert InputSchema.from_signature(one).tensor_dtype == "float32"
    assert InputSchema.from_signature(one).columns == ()
    two = ModelSignature(
        inputs=Schema(
            [TensorSpec(np.dtype("float32"), (-1, 3), "x"), TensorSpec(np.dtype("int64"), (-1,), "y")]
        )
    )
    assert InputSchema.from_signature(two).tensor_dtype is None


def test_split_with_index_and_columnar_instances_are_accepted():
    split = {"columns": ["a", "b", "c"], "data": [[1.0, 2, 3.0]], "index": [9]}
    assert SCHEMA.to_matrix(split).tolist() == [[1.0, 2.0, 3.0]]
    assert SCHEMA.to_matrix({"instances": {"b": [2], "a": [1.0], "c": [3.0]}}).tolist() == [[1.0, 2.0, 3.0]]


def test_the_first_bad_record_is_named_by_its_own_kind():
    message = refusal(SCHEMA, {"dataframe_records": [5, {"a": 1.0, "b": 2, "c": 3.0}]})
    assert message == "record 0 in 'dataframe_records' must be an object (got a number)"


def test_records_without_a_schema_must_all_have_the_first_records_columns():
    assert "missing columns in record 1: y" in refusal(
        InputSchema(), {"dataframe_records": [{"x": 1, "y": 2}, {"x": 3}]}
    )


def test_a_short_row_under_named_columns_says_the_count_only():
    message = refusal(SCHEMA, {"columns": ["a", "b", "c"], "data": [[1.0, 2]]})
    assert message == "wrong row length in row 0 (got 2, expected 3)"
    positional = refusal(SCHEMA, {"input": [[1.0, 2]]})
    assert positional == "wrong row length in row 0 (got 2, expected 3 columns: a, b, c)"


@pytest.mark.parametrize(
    ("value", "ok"), [(-(2**31), True), (-(2**31) - 1, False), (2**31 - 1, True), (2**31, False)]
)
def test_integer_columns_hold_exactly_the_32_bit_range(value, ok):
    schema = InputSchema([Column("n", "integer")])
    if ok:
        assert schema.to_matrix({"input": [[value]]}).tolist() == [[float(value)]]
    else:
        assert "out of 32-bit range" in refusal(schema, {"input": [[value]]})


def test_model_input_carries_the_signatures_dtypes():
    frame = SCHEMA.to_model_input({"input": [[1.5, 2, 3.25]]})
    assert list(frame.columns) == ["a", "b", "c"]
    assert str(frame.dtypes["b"]) == "int64" and str(frame.dtypes["a"]) == "float64"


def test_an_open_schema_is_not_numeric():
    assert InputSchema().numeric is False


def test_a_number_too_large_for_a_float_is_named_by_its_own_column():
    message = refusal(SCHEMA, {"input": [[1.0, 2, 10**400]]})
    assert message.startswith("number too large in column 'c' row 0: ")


def test_a_row_of_numeric_strings_is_refused_not_converted():
    # numpy would read "1.5" as 1.5: every value of the row must be checked, even when none is a number
    one_column = InputSchema([Column("a", "double")])
    assert "non-numeric value '1.5' in column 'a' row 0" in refusal(one_column, {"input": [["1.5"]]})
    assert "non-numeric value '1' in column 'a' row 1" in refusal(
        SCHEMA, {"input": [[1, 2, 3], ["1", "2", "3"]]}
    )


def test_the_generic_path_gets_a_frame_with_the_signature_dtypes():
    frame = SCHEMA.to_model_input({"input": [[1.5, 2, 3.25]]})
    assert list(frame.columns) == ["a", "b", "c"]
    assert str(frame.dtypes["b"]) == "int64" and frame.iloc[0].tolist() == [1.5, 2, 3.25]
    floats = InputSchema([Column("x", "float"), Column("y", "double")])
    typed = floats.to_model_input({"input": [[0.5, 0.25]]})
    assert str(typed.dtypes["x"]) == "float32" and str(typed.dtypes["y"]) == "float64"


def test_a_tensor_signature_gets_an_array_of_its_dtype():
    tensor = InputSchema.from_signature(
        ModelSignature(inputs=Schema([TensorSpec(np.dtype("float32"), (-1, 2))]))
    )
    array = tensor.to_model_input({"inputs": [[1.5, 2.0], [3.0, 4.5]]})
    assert isinstance(array, np.ndarray) and array.dtype == np.float32
    assert array.tolist() == [[1.5, 2.0], [3.0, 4.5]]


def test_only_the_repeated_column_names_are_called_duplicates():
    split = {"dataframe_split": {"columns": ["a", "b", "a"], "data": [[1.0, 2, 3.0]]}}
    assert refusal(SCHEMA, split).endswith("duplicate column names: a")


def test_a_column_spec_without_required_counts_as_required():
    # ColSpec objects of older MLflow versions have no `required` attribute
    old_style = SimpleNamespace(name="a", type=SimpleNamespace(name="double"))
    inputs = SimpleNamespace(is_tensor_spec=lambda: False, inputs=[old_style])
    schema = InputSchema.from_signature(SimpleNamespace(inputs=inputs))
    assert schema.columns == (Column("a", "double", required=True),)
