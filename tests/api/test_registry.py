"""The model registry: registered models and versions."""

from __future__ import annotations

import pytest

from automation.api import CMLClient
from automation.api.base import WaitEvent
from automation.api.types import RegisteredModel
from automation.clock import FakeClock
from automation.errors import (
    EXIT_TIMEOUT,
    EXIT_USAGE,
    CmlopsError,
    PermissionDenied,
    RegistryUnavailable,
    WaitTimeout,
    WorkloadFailed,
)

from .wire import Wire, model_version, registered_model, search

REG = "/api/v2/registry/models"


def test_list_over_pages(client: CMLClient, wire: Wire) -> None:
    wire.page(REG, "models", [registered_model("rm-1", "a")], token=None, next_token="t")
    wire.page(REG, "models", [registered_model("rm-2", "b")], token="t")

    assert [m.model_id for m in client.registry.list()] == ["rm-1", "rm-2"]


def test_find_uses_model_name_filter_and_exact_match(client: CMLClient, wire: Wire) -> None:
    items = [registered_model("rm-9", "wine-model-old"), registered_model("rm-1", "wine-model")]
    wire.page(REG, "models", items, token=None, query={"search_filter": search(model_name="wine-model")})

    found = client.registry.find("wine-model")

    assert found is not None and found.model_id == "rm-1"


def test_get_parses_versions(client: CMLClient, wire: Wire) -> None:
    wire.expect(
        "GET",
        f"{REG}/rm-1",
        reply=registered_model("rm-1", model_versions=[model_version("v1"), model_version("v2", number="2")]),
    )

    got = client.registry.get("rm-1")

    assert [(v.model_version_id, v.number) for v in got.model_versions] == [("v1", 1), ("v2", 2)]
    assert got.model_versions[0].run_id == "r1"
    assert got.model_versions[0].experiment_id == "mwzb-4nfp-me2y-h3z0"
    assert got.model_versions[0].tag_map == {"stage": "dev"}
    assert got.model_extra["count"] == "1"


def test_versions_follow_the_version_page_token(client: CMLClient, wire: Wire) -> None:
    wire.expect(
        "GET",
        f"{REG}/rm-1",
        query={"page_size": "100"},
        reply=registered_model(model_versions=[model_version("v1")], next_page_token="p2"),
    )
    wire.expect(
        "GET",
        f"{REG}/rm-1",
        query={"page_size": "100", "page_token": "p2"},
        reply=registered_model(model_versions=[model_version("v2")], next_page_token="p3"),
    )
    wire.expect(
        "GET",
        f"{REG}/rm-1",
        query={"page_size": "100", "page_token": "p3"},
        reply=registered_model(model_versions=[model_version("v3")], next_page_token="p3"),
    )

    assert [v.model_version_id for v in client.registry.versions("rm-1")] == ["v1", "v2", "v3"]


def test_get_version(client: CMLClient, wire: Wire) -> None:
    wire.expect("GET", f"{REG}/rm-1/versions/v1", reply=model_version("v1", status="PENDING"))

    assert client.registry.get_version("rm-1", "v1").status == "PENDING"


def test_register_sends_the_create_registered_model_request(client: CMLClient, wire: Wire) -> None:
    body = {
        "project_id": "p1",
        "experiment_id": "e1",
        "run_id": "r1",
        "model_path": "model",
        "model_name": "wine-model",
        "visibility": "PRIVATE",
        "description": "wine quality",
        "notes": "first",
        "tags": [{"key": "stage", "value": "dev"}],
    }
    wire.expect("POST", REG, body=body, reply=registered_model())

    got = client.registry.register(
        project_id="p1",
        experiment_id="e1",
        run_id="r1",
        model_path="model",
        model_name="wine-model",
        description="wine quality",
        notes="first",
        tags={"stage": "dev"},
    )

    assert got.model_versions[0].model_version_id == "v1"


def test_register_minimal_body(client: CMLClient, wire: Wire) -> None:
    body = {
        "project_id": "p1",
        "experiment_id": "e1",
        "run_id": "r1",
        "model_path": "model",
        "model_name": "m",
        "visibility": "PRIVATE",
    }
    wire.expect("POST", REG, body=body, reply=registered_model())

    assert (
        client.registry.register(
            project_id="p1", experiment_id="e1", run_id="r1", model_path="model", model_name="m"
        ).model_id
        == "rm-1"
    )


def test_update_version(client: CMLClient, wire: Wire) -> None:
    body = {
        "model_id": "rm-1",
        "model_version_id": "v1",
        "notes": "promoted",
        "tags": [{"key": "stage", "value": "prd"}],
    }
    wire.expect("PATCH", f"{REG}/rm-1", body=body, reply=model_version("v1", notes="promoted"))

    assert (
        client.registry.update_version("rm-1", "v1", notes="promoted", tags={"stage": "prd"}).notes
        == "promoted"
    )


def test_update_sets_the_description_with_the_model_id_in_the_body(client: CMLClient, wire: Wire) -> None:
    body = {"model_id": "rm-1", "description": "wine\ncmlops-promotion-lease: {}"}
    reply = registered_model("rm-1", "wine")
    wire.expect("PATCH", REG, body=body, reply={**reply, "description": body["description"]})

    assert client.registry.update("rm-1", description=body["description"]).description == body["description"]


def test_delete(client: CMLClient, wire: Wire) -> None:
    wire.expect("DELETE", f"{REG}/rm-1")

    assert client.registry.delete("rm-1") is None


# --- registry realities ---------------------------------------------------------------------------

VERSION = f"{REG}/rm-1/versions/v1"


@pytest.mark.parametrize("word", ["Ready", "READY", "ready", "Registered", "MODEL_VERSION_STATUS_READY"])
def test_ready_words_match_case_insensitively(client: CMLClient, ordered: Wire, word: str) -> None:
    ordered.expect("GET", VERSION, reply=model_version("v1", status="Registering"))
    ordered.expect("GET", VERSION, reply=model_version("v1", status=word))

    assert client.registry.wait_version("rm-1", "v1").status == word


@pytest.mark.parametrize("word", ["Failed", "FAILED", "error", "FAILED_REGISTRATION"])
def test_failed_words_match_case_insensitively(client: CMLClient, ordered: Wire, word: str) -> None:
    ordered.expect("GET", VERSION, reply=model_version("v1", status=word))

    with pytest.raises(WorkloadFailed) as info:
        client.registry.wait_version("rm-1", "v1")
    assert repr(word) in str(info.value)


def test_an_unknown_status_is_waited_on_until_the_timeout_and_named(
    client: CMLClient, ordered: Wire, clock: FakeClock
) -> None:
    for _ in range(8):
        ordered.expect("GET", VERSION, reply=model_version("v1", status="Pending Review"))
    events: list[WaitEvent] = []

    with pytest.raises(WaitTimeout) as info:
        client.registry.wait_version("rm-1", "v1", timeout=30, on_progress=events.append)

    assert "'Pending Review'" in str(info.value) and info.value.exit_code == EXIT_TIMEOUT
    assert events and {e.status for e in events} == {"Pending Review"} and clock.now() >= 30
    ordered.mock.assert_all_requests_are_fired = False  # how many polls fit in 30 s is the waiter's affair


@pytest.mark.parametrize(("status", "message"), [(404, "Not Found"), (501, "Not Implemented")])
def test_a_workspace_without_the_registry_gets_one_clear_error(
    client: CMLClient, wire: Wire, status: int, message: str
) -> None:
    wire.expect(
        "GET",
        REG,
        query={"page_size": "100", "search_filter": search(model_name="wine")},
        status=status,
        reply={"error": message, "code": 5 if status == 404 else 12, "message": message, "details": []},
    )

    with pytest.raises(RegistryUnavailable) as info:
        client.registry.find("wine")

    assert info.value.exit_code == EXIT_USAGE
    assert "Model Registry" in str(info.value) and f"HTTP {status}" in str(info.value)


def test_an_unrelated_registry_error_is_not_mistaken_for_a_missing_registry(
    client: CMLClient, wire: Wire
) -> None:
    wire.expect("GET", REG, query={"page_size": "100"}, status=403, reply={"code": 7, "message": "denied"})

    with pytest.raises(PermissionDenied):
        list(client.registry.list())


def test_the_version_of_a_run_falls_back_to_the_newest_listed_version(client: CMLClient, wire: Wire) -> None:
    answer = RegisteredModel.model_validate(registered_model(model_versions=[]))
    other_run = model_version("v0")
    other_run["model_version_metadata"]["mlflow_metadata"]["run_id"] = "r0"
    listed = [other_run, model_version("v1", number="1"), model_version("v2", number="2")]
    wire.expect(
        "GET", f"{REG}/rm-1", query={"page_size": "100"}, reply=registered_model(model_versions=listed)
    )

    assert client.registry.version_of_run(answer, "r1").model_version_id == "v2"


def test_no_version_of_the_run_is_a_clear_error_not_stop_iteration(client: CMLClient, wire: Wire) -> None:
    answer = RegisteredModel.model_validate(registered_model(model_versions=[]))
    wire.expect("GET", f"{REG}/rm-1", query={"page_size": "100"}, reply=registered_model(model_versions=[]))

    with pytest.raises(CmlopsError) as info:
        client.registry.version_of_run(answer, "r1")

    assert "no version of that model names the run" in str(info.value) and "r1" in str(info.value)
