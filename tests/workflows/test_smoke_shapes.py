"""The smoke test on an endpoint that accepts only some input shapes (what CML's wrapper around a
registry model accepts is not documented): it says which shape was refused and which is accepted,
and shows the form to put in the spec; refused values are told apart from a refused shape."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from fakes.fake_cml import FakeCML

from automation.errors import SmokeTestFailed
from automation.workflows.bootstrap import bootstrap
from automation.workflows.input_shapes import alternatives, in_shape, shape_of, table_of
from automation.workflows.smoke import smoke_test

ROW = [7.4, 0.7, 0, 1.9, 0.076, 11, 34, 0.9978, 3.51, 0.56, 9.4]
COLUMNS = ["fixed acidity", "volatile acidity", "citric acid", "residual sugar", "chlorides",
           "free sulfur dioxide", "total sulfur dioxide", "density", "pH", "sulphates", "alcohol"]  # fmt: skip


class ShapeFake(FakeCML):
    """The fake whose endpoint answers 400 (as an MLflow scoring wrapper would) to shapes it does
    not take, and to rows without column names when ``needs_columns``."""

    accepts: tuple[str, ...] = ("dataframe_split",)
    needs_columns = False

    def _model_call(self, request: Any) -> tuple[int, dict[str, str], str]:
        status, headers, body = super()._model_call(request)
        if status != 200:
            return status, headers, body
        sent = json.loads(request.body)["request"]
        table = table_of(sent)
        problem = None
        if shape_of(sent) not in self.accepts:
            problem = f"unsupported input format {sorted(sent)}"
        elif self.needs_columns and (table is None or not table[0]):
            problem = "the model's signature needs named columns"
        if problem is None:
            return status, headers, body
        self.calls[-1].status = 400
        return 400, headers, json.dumps({"success": False, "errors": {"request": problem}})


@pytest.fixture
def shape_fake() -> Iterator[ShapeFake]:
    with ShapeFake.running(experiment_name="wine-test") as workspace:
        yield workspace


def _model_of(fake: FakeCML, client):
    prd = next(p for p in fake.projects.values() if p["name"].endswith("prd"))
    return next(iter(client.models.list(prd["id"])))


def _converged(fake: ShapeFake, spec) -> Any:
    client = fake.client()
    fake.accepts = (*fake.accepts, "input")  # bootstrap's own smoke test passes
    bootstrap(client, spec)
    fake.accepts = ShapeFake.accepts
    fake.calls.clear()
    return client


def test_a_refused_shape_is_named_with_the_accepted_one_and_the_form_for_the_spec(shape_fake, spec) -> None:
    client = _converged(shape_fake, spec)
    with pytest.raises(SmokeTestFailed) as caught:
        smoke_test(client, _model_of(shape_fake, client), spec.model_named(None).endpoint.smoke)
    err = caught.value
    assert err.exit_code == 7
    assert "refused the spec's input in the 'input' shape (request: unsupported input format" in err.message
    assert "accepted the same rows in the 'dataframe_split' shape" in err.message
    assert "about the input's shape" in err.message
    assert (
        err.hint
        == "put this in deployment.smoke.input (and send this shape to the endpoint): "
        + json.dumps({"dataframe_split": {"data": [ROW]}})
    )
    assert (
        err.to_dict()["shapes"]["refused"] == "input"
        and err.to_dict()["shapes"]["accepted"] == "dataframe_split"
    )
    sent = [c.body["request"] for c in shape_fake.calls if c.host == "model"]
    assert sent == [{"input": [ROW]}, {"dataframe_split": {"data": [ROW]}}]  # the spec's first, then one more


def test_the_columns_of_the_specs_input_go_into_the_suggested_form(shape_fake, spec) -> None:
    client = _converged(shape_fake, spec)
    smoke = SimpleNamespace(input={"dataframe_records": [dict(zip(COLUMNS, ROW, strict=True))]}, expect=None)
    shape_fake.accepts = ("columns+data",)
    with pytest.raises(SmokeTestFailed) as caught:
        smoke_test(client, _model_of(shape_fake, client), smoke)
    assert caught.value.shapes["refused"] == "dataframe_records"
    assert caught.value.shapes["accepted"] == "columns+data"
    assert caught.value.shapes["accepted_input"] == {"columns": COLUMNS, "data": [ROW]}


def test_when_every_shape_is_refused_it_is_the_values_and_the_hint_asks_for_column_names(
    shape_fake, spec
) -> None:
    client = _converged(shape_fake, spec)
    shape_fake.accepts = ("dataframe_split", "columns+data", "input", "instances", "inputs")
    shape_fake.needs_columns = True
    with pytest.raises(SmokeTestFailed) as caught:
        smoke_test(client, _model_of(shape_fake, client), spec.model_named(None).endpoint.smoke)
    err = caught.value
    assert (
        "the same rows were refused in the 'dataframe_split', 'instances', 'inputs' shape(s) too"
        in err.message
    )
    assert "needs column names" in err.hint and '"dataframe_split": {"columns"' in err.hint
    assert err.shapes["accepted"] is None


def test_an_accepted_input_makes_one_call_only(shape_fake, spec) -> None:
    client = _converged(shape_fake, spec)
    shape_fake.accepts = ("input",)
    result = smoke_test(client, _model_of(shape_fake, client), spec.model_named(None).endpoint.smoke)
    assert result["predictions"] == [5.9]
    assert len([c for c in shape_fake.calls if c.host == "model"]) == 1


@pytest.mark.parametrize(
    "request_obj",
    [
        {"input": [ROW]},
        {"input": ROW},
        {"columns": COLUMNS, "data": [ROW]},
        {"dataframe_split": {"columns": COLUMNS, "data": [ROW]}},
        {"dataframe_records": [dict(zip(COLUMNS, ROW, strict=True))]},
        {"instances": [ROW]},
        {"inputs": {c: [v] for c, v in zip(COLUMNS, ROW, strict=True)}},
    ],
)
def test_every_shape_converts_to_the_same_table(request_obj: dict) -> None:
    columns, rows = table_of(request_obj)
    assert rows == [ROW] and columns in (None, COLUMNS)
    for shape, converted in alternatives(request_obj):
        assert shape != shape_of(request_obj)
        assert table_of(converted)[1] == [ROW]
        assert shape_of(converted) == shape
    assert in_shape("dataframe_records", None, [ROW]) is None  # records need names
