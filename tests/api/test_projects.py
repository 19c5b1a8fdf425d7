"""Projects and project files: every call's method, path, query and body."""

from __future__ import annotations

import pytest
from responses import matchers

from automation.api import CMLClient
from automation.api.types import Project

from .wire import ANY_BODY, Wire, project, search


def test_list_follows_pages_and_resends_page_size(client: CMLClient, wire: Wire) -> None:
    path = "/api/v2/projects"
    q = {"search_filter": search(name="wine"), "sort": "-created_at", "include_public_projects": "true"}
    wire.page(path, "projects", [project("p1", "wine-a")], token=None, next_token="t1", query=q)
    wire.page(path, "projects", [project("p2", "wine-b")], token="t1", next_token="t2", query=q)
    wire.page(path, "projects", [project("p3", "wine-c")], token="t2", next_token="", query=q)

    got = list(
        client.projects.list(search_filter={"name": "wine"}, sort="-created_at", include_public_projects=True)
    )

    assert [p.id for p in got] == ["p1", "p2", "p3"]
    assert all(isinstance(p, Project) for p in got)


def test_list_stops_on_a_repeated_page_token(client: CMLClient, wire: Wire) -> None:
    wire.page("/api/v2/projects", "projects", [project("p1")], token=None, next_token="same")
    wire.page("/api/v2/projects", "projects", [project("p2")], token="same", next_token="same")

    assert [p.id for p in client.projects.list()] == ["p1", "p2"]


def test_find_rechecks_the_exact_name(client: CMLClient, wire: Wire) -> None:
    # search_filter matches substrings: the server returns both; only the exact name counts
    items = [project("p-old", "wine-dev-old"), project("p-dev", "wine-dev"), project("p-up", "WINE-DEV")]
    wire.page(
        "/api/v2/projects", "projects", items, token=None, query={"search_filter": search(name="wine-dev")}
    )

    found = client.projects.find("wine-dev")

    assert found is not None and found.id == "p-dev"


def test_find_returns_none_when_only_substring_matches(client: CMLClient, wire: Wire) -> None:
    items = [project("p-old", "wine-dev-old")]
    wire.page(
        "/api/v2/projects", "projects", items, token=None, query={"search_filter": search(name="wine-dev")}
    )

    assert client.projects.find("wine-dev") is None


def test_get_parses_environment_string_and_tolerates_unknown_fields(client: CMLClient, wire: Wire) -> None:
    wire.expect("GET", "/api/v2/projects/p1", reply=project("p1", environment='{"STAGE":"dev","N":"3"}'))

    got = client.projects.get("p1")

    assert got.environment == {"STAGE": "dev", "N": "3"}
    assert got.owner == {"username": "alice", "name": "Alice", "email": "alice@example.com"}
    assert got.default_engine_type == "ml_runtime"
    assert got.model_extra["a_field_from_a_newer_release"] == {"x": 1}


@pytest.mark.parametrize("raw", ["", "{}", None, "not json"])
def test_environment_degenerate_values_parse_to_empty(client: CMLClient, wire: Wire, raw: object) -> None:
    wire.expect("GET", "/api/v2/projects/p1", reply=project("p1", environment=raw))

    assert client.projects.get("p1").environment == {}


def test_create_blank_project_sends_map_environment(client: CMLClient, wire: Wire) -> None:
    body = {
        "name": "wine-prd",
        "description": "serving",
        "visibility": "private",
        "default_project_engine_type": "ml_runtime",
        "template": "blank",
        "environment": {"STAGE": "prd"},
    }
    wire.expect(
        "POST", "/api/v2/projects", body=body, reply=project("p9", "wine-prd", environment='{"STAGE":"prd"}')
    )

    got = client.projects.create("wine-prd", description="serving", environment={"STAGE": "prd"})

    assert (got.id, got.environment) == ("p9", {"STAGE": "prd"})


def test_create_from_git_sends_template_git_and_ref(client: CMLClient, wire: Wire) -> None:
    body = {
        "name": "wine-dev",
        "description": "",
        "visibility": "private",
        "default_project_engine_type": "ml_runtime",
        "template": "git",
        "git_url": "https://github.com/example/wine.git",
        "git_ref": "main",
    }
    wire.expect("POST", "/api/v2/projects", body=body, reply=project("p1", creation_status="creating"))

    got = client.projects.create("wine-dev", git_url="https://github.com/example/wine.git", git_ref="main")

    assert got.creation_status == "creating"


def test_update_patches_only_given_fields(client: CMLClient, wire: Wire) -> None:
    # the PATCH body is the Project message: its environment is a JSON-encoded string
    body = {"description": "new", "environment": '{"A": "1"}'}
    wire.expect("PATCH", "/api/v2/projects/p1", body=body, reply=project("p1", description="new"))

    assert client.projects.update("p1", description="new", environment={"A": "1"}).description == "new"


def test_delete(client: CMLClient, wire: Wire) -> None:
    wire.expect("DELETE", "/api/v2/projects/p1", reply={})

    assert client.projects.delete("p1") is None


def test_list_files_encodes_the_path_and_parses_int64_sizes(client: CMLClient, wire: Wire) -> None:
    files = [
        {"path": "train.py", "is_dir": False, "file_size": "1024"},
        {"path": "data", "is_dir": True, "file_size": "0"},
    ]
    wire.expect("GET", "/api/v2/projects/p1/files/code%2Fsub", reply={"files": files})

    got = client.projects.list_files("p1", "/code/sub/")

    assert [(f.path, f.is_dir, f.file_size) for f in got] == [("train.py", False, 1024), ("data", True, 0)]


def test_list_files_at_the_root(client: CMLClient, wire: Wire) -> None:
    wire.expect("GET", "/api/v2/projects/p1/files/", reply={})

    assert client.projects.list_files("p1") == []


def test_upload_file_uses_the_destination_path_as_field_name(client: CMLClient, wire: Wire) -> None:
    content = b"print('train')\n"
    multipart = matchers.multipart_matcher(
        {"code/train.py": ("train.py", content, "application/octet-stream")}
    )
    wire.expect("POST", "/api/v2/projects/p1/files", body=ANY_BODY, reply={}, match=[multipart])

    assert client.projects.upload_file("p1", "code/train.py", content) is None


def test_upload_file_is_not_resent_after_a_500(client: CMLClient, wire: Wire) -> None:
    # CML never overwrites: a blind re-send would store "train(1).py"
    wire.expect(
        "POST", "/api/v2/projects/p1/files", body=ANY_BODY, status=500, reply={"code": 13, "message": "boom"}
    )

    with pytest.raises(Exception) as info:
        client.projects.upload_file("p1", "code/train.py", b"x")

    assert info.value.maybe_applied is True
    assert len(wire.mock.calls) == 1


def test_delete_file(client: CMLClient, wire: Wire) -> None:
    wire.expect("DELETE", "/api/v2/projects/p1/files/code%2Ftrain.py", reply={})

    assert client.projects.delete_file("p1", "code/train.py") is None
