"""Every field the spec controls on an application is planned when it differs, and an observed
deployment's server defaults (replicas, GPUs left out) compare equal to the spec's defaults."""

from __future__ import annotations

import pytest
from fakes.fake_cml import FakeCML
from fakes.specs import REPO, make_spec

from automation.api.types import ModelDeployment
from automation.reconcile import make_plan
from automation.reconcile.desired import matches
from automation.spec import load_spec
from automation.workflows.bootstrap import bootstrap

MULTI = REPO / "tests" / "reconcile" / "spec-v2-multi.yaml"


@pytest.mark.parametrize(
    ("field", "value", "planned"),
    [
        ("description", "scores wines", ["", "scores wines"]),
        ("subdomain", "wine-scorer-2", ["wine-scorer", "wine-scorer-2"]),
        ("memory", 3, [2.0, 3.0]),
        ("gpus", 1, None),
        ("environment", {"COLOUR": "red"}, [{}, {"COLOUR": "red"}]),
        ("bypass_authentication", True, [False, True]),
    ],
)
def test_each_application_field_is_planned_when_it_differs(
    fake: FakeCML, client, field: str, value: object, planned: list | None
) -> None:
    bootstrap(client, load_spec(MULTI))
    changed = make_spec({"applications": {"wine-scorer": {field: value}}}, path=MULTI)
    changes = {a.resource: a.changes for a in make_plan(client, changed)[0].changes}
    wire = {"gpus": "nvidia_gpu"}.get(field, field)
    assert list(changes) == ["application.wine-scorer"]
    assert changes["application.wine-scorer"] == {wire: planned or [0, 1]}


def test_a_deployment_without_replicas_or_gpus_matches_the_specs_defaults() -> None:
    spec = load_spec(MULTI)
    endpoint = spec.models["wine-red"].endpoint  # cpu 1, memory 2, one replica, no GPU
    bare = ModelDeployment(id="d", cpu=1, memory=2, replicas=0, nvidia_gpu=0)
    assert matches(bare, endpoint)
    assert not matches(bare.model_copy(update={"replicas": 2}), endpoint)
