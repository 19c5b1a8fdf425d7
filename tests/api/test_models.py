"""Model endpoints: models, builds and deployments."""

from __future__ import annotations

import pytest

from automation.api import CMLClient
from automation.errors import Conflict, ServerError

from .wire import ACCESS_KEY, Wire, build, deployment, model, search

MODELS = "/api/v2/projects/prd1/models"


def test_list_over_pages(client: CMLClient, wire: Wire) -> None:
    wire.page(MODELS, "models", [model("m1", "a")], token=None, next_token="t")
    wire.page(MODELS, "models", [model("m2", "b")], token="t")

    assert [m.id for m in client.models.list("prd1")] == ["m1", "m2"]


def test_find_exact_name_skipping_deleted_twins(client: CMLClient, wire: Wire) -> None:
    items = [
        model("m-old", "wine-endpoint-old"),
        model("m-del", "wine-endpoint", deletion_status="deleting"),
        model("m-live", "wine-endpoint"),
    ]
    wire.page(MODELS, "models", items, token=None, query={"search_filter": search(name="wine-endpoint")})

    found = client.models.find("prd1", "wine-endpoint")

    assert found is not None and found.id == "m-live"


def test_find_only_deleted_is_none(client: CMLClient, wire: Wire) -> None:
    items = [model("m-del", "wine-endpoint", deletion_status="deleted")]
    wire.page(MODELS, "models", items, token=None, query={"search_filter": search(name="wine-endpoint")})

    assert client.models.find("prd1", "wine-endpoint") is None


def test_get_keeps_the_access_key_out_of_repr_str_and_trace(
    client: CMLClient, wire: Wire, trace_lines: list[str]
) -> None:
    wire.expect("GET", f"{MODELS}/m1", reply=model("m1"))

    got = client.models.get("prd1", "m1")

    assert any('"access_key": "***"' in line for line in trace_lines)
    client.http._emit(f"a later line quoting {ACCESS_KEY}")  # the key is now a registered secret
    assert trace_lines[-1] == "a later line quoting ***"

    assert got.access_key == ACCESS_KEY
    assert ACCESS_KEY not in repr(got) and ACCESS_KEY not in str(got) and ACCESS_KEY not in f"{got}"
    assert got.default_resources == {"cpu_millicores": "1000", "memory_mb": "2048", "nvidia_gpus": "0"}


def test_create_sends_the_create_model_request(client: CMLClient, wire: Wire) -> None:
    body = {
        "project_id": "prd1",
        "name": "wine-endpoint",
        "description": "serves wine",
        "disable_authentication": True,
        "registered_model_id": "rm-1",
    }
    wire.expect("POST", MODELS, body=body, reply=model("m1", auth_enabled=False))

    got = client.models.create(
        "prd1",
        name="wine-endpoint",
        description="serves wine",
        registered_model_id="rm-1",
        disable_authentication=True,
    )

    assert (got.id, got.auth_enabled) == ("m1", False)


def test_create_conflict_maps_to_conflict(client: CMLClient, wire: Wire) -> None:
    body = {"project_id": "prd1", "name": "x", "description": "", "disable_authentication": False}
    wire.expect(
        "POST",
        MODELS,
        body=body,
        status=409,
        reply={"error": "exists", "code": 6, "message": "model x already exists"},
    )

    with pytest.raises(Conflict) as info:
        client.models.create("prd1", name="x")

    assert "model x already exists" in str(info.value) and info.value.maybe_applied is False


def test_update_and_delete(client: CMLClient, wire: Wire) -> None:
    wire.expect("PATCH", f"{MODELS}/m1", body={"description": "v2"}, reply=model("m1", description="v2"))
    wire.expect("DELETE", f"{MODELS}/m1")

    assert client.models.update("prd1", "m1", description="v2").description == "v2"
    assert client.models.delete("prd1", "m1") is None


def test_builds_list_get_create(client: CMLClient, wire: Wire) -> None:
    wire.page(f"{MODELS}/m1/builds", "model_builds", [build("b1", "built")], token=None, next_token="n")
    wire.page(f"{MODELS}/m1/builds", "model_builds", [build("b2", "build failed")], token="n")
    wire.expect("GET", f"{MODELS}/m1/builds/b1", reply=build("b1", "pushing"))
    body = {
        "project_id": "prd1",
        "model_id": "m1",
        "registered_model_version_id": "v1",
        "runtime_identifier": "rt",
        "comment": "v1 of wine",
    }
    wire.expect("POST", f"{MODELS}/m1/builds", body=body, reply=build("b3"))

    assert [(b.id, b.status) for b in client.models.list_builds("prd1", "m1")] == [
        ("b1", "built"),
        ("b2", "build failed"),
    ]
    assert client.models.get_build("prd1", "m1", "b1").status == "pushing"
    assert (
        client.models.create_build(
            "prd1", "m1", registered_model_version_id="v1", runtime_identifier="rt", comment="v1 of wine"
        ).id
        == "b3"
    )


def test_create_build_is_not_resent_after_a_502(client: CMLClient, wire: Wire) -> None:
    body = {
        "project_id": "prd1",
        "model_id": "m1",
        "registered_model_version_id": "v1",
        "runtime_identifier": "rt",
        "comment": "",
    }
    wire.expect("POST", f"{MODELS}/m1/builds", body=body, status=502, reply="<html>Bad Gateway</html>")

    with pytest.raises(ServerError) as info:
        client.models.create_build("prd1", "m1", registered_model_version_id="v1", runtime_identifier="rt")

    assert info.value.maybe_applied is True
    assert len(wire.mock.calls) == 1


DEPS = f"{MODELS}/m1/builds/b1/deployments"


def test_deployments_list_get(client: CMLClient, wire: Wire) -> None:
    wire.page(DEPS, "model_deployments", [deployment("d1", "deployed")], token=None, next_token="n")
    wire.page(DEPS, "model_deployments", [deployment("d2", "stopped")], token="n")
    wire.expect("GET", f"{DEPS}/d1", reply=deployment("d1", "deployed"))

    assert [d.id for d in client.models.list_deployments("prd1", "m1", "b1")] == ["d1", "d2"]
    got = client.models.get_deployment("prd1", "m1", "b1", "d1")
    assert (got.replicas, got.cpu, got.environment) == (2, 1.0, {"MODEL_FLAVOR": "sklearn"})


def test_create_deployment_uses_plural_nvidia_gpus_and_map_environment(client: CMLClient, wire: Wire) -> None:
    body = {
        "project_id": "prd1",
        "model_id": "m1",
        "build_id": "b1",
        "cpu": 1,
        "memory": 2,
        "replicas": 2,
        "nvidia_gpus": 0,
        "environment": {"MODEL_FLAVOR": "sklearn"},
    }
    wire.expect("POST", DEPS, body=body, reply=deployment("d1"))

    got = client.models.create_deployment(
        "prd1", "m1", "b1", cpu=1, memory=2, replicas=2, environment={"MODEL_FLAVOR": "sklearn"}
    )

    assert got.status == "pending"


def test_stop_and_restart_deployment_use_colon_actions(client: CMLClient, wire: Wire) -> None:
    wire.expect("POST", f"{DEPS}/d1:stop", reply=deployment("d1", "stopping"))
    wire.expect("POST", f"{DEPS}/d1:restart", body={}, reply=deployment("d1", "pending"))

    assert client.models.stop_deployment("prd1", "m1", "b1", "d1").status == "stopping"
    assert client.models.restart_deployment("prd1", "m1", "b1", "d1").status == "pending"
