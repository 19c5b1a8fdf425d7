"""Projects: CRUD, paging, search_filter semantics, error shapes, git projects, runtimes."""

from __future__ import annotations

import json
import re
import subprocess

from local_support import wait_for

ID_4X4 = re.compile(r"^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$")
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$")


def test_create_get_patch_delete(api, local):
    created = api.project("crud-proj", description="d", environment={"A": "1", "N": 2})
    assert ID_4X4.match(created["id"])
    assert created["creation_status"] == "success"
    assert json.loads(created["environment"]) == {"A": "1", "N": "2"}
    assert created["owner"]["username"] == "local-user"
    assert created["default_engine_type"] == "ml_runtime"
    assert RFC3339.match(created["created_at"])
    assert (local.state_dir / "projects" / created["id"]).is_dir()

    pid = created["id"]
    assert api.ok("GET", f"/api/v2/projects/{pid}") == created
    patched = api.ok(
        "PATCH", f"/api/v2/projects/{pid}", json={"description": "new", "environment": '{"B": "2"}'}
    )
    assert patched["description"] == "new"
    assert json.loads(patched["environment"]) == {"B": "2"}
    assert patched["name"] == "crud-proj"  # untouched fields stay
    # the PATCH body is the Project message: an object environment is refused, as CML does
    refused = api.patch(f"/api/v2/projects/{pid}", json={"environment": {"B": "3"}})
    assert refused.status_code == 400 and refused.json()["code"] == 3
    assert "environment" in refused.json()["message"] and "JSON-encoded string" in refused.json()["message"]
    assert json.loads(api.ok("GET", f"/api/v2/projects/{pid}")["environment"]) == {"B": "2"}

    assert api.ok("DELETE", f"/api/v2/projects/{pid}") == {}
    assert not (local.state_dir / "projects" / pid).exists()
    resp = api.get(f"/api/v2/projects/{pid}")
    assert resp.status_code == 404
    body = resp.json()
    assert body["code"] == 5 and body["details"] == [] and pid in body["message"]


def test_duplicate_name_is_409_code_6(api):
    api.project("dup-proj")
    resp = api.post("/api/v2/projects", json={"name": "dup-proj", "template": "blank"})
    assert resp.status_code == 409
    assert resp.json()["code"] == 6


def test_paging_follows_tokens_without_gaps(api):
    names = {f"page-proj-{i:02d}" for i in range(12)}
    for name in sorted(names):
        api.project(name)
    seen: list[str] = []
    token = ""
    pages = 0
    while True:
        query = {"page_size": 5, "search_filter": json.dumps({"name": "page-proj-"})}
        if token:
            query["page_token"] = token
        body = api.ok("GET", "/api/v2/projects", params=query)
        assert len(body["projects"]) <= 5
        seen += [p["name"] for p in body["projects"]]
        token = body["next_page_token"]
        pages += 1
        if not token:
            break
    assert pages == 3
    assert sorted(seen) == sorted(names)
    default = api.ok("GET", "/api/v2/projects", params={"searchFilter": json.dumps({"name": "page-proj-"})})
    assert len(default["projects"]) == 10  # CML's default page size, camelCase accepted
    assert default["next_page_token"]
    camel = api.ok(
        "GET", "/api/v2/projects", params={"pageSize": 20, "searchFilter": '{"name": "page-proj-"}'}
    )
    assert len(camel["projects"]) == 12 and camel["next_page_token"] == ""


def test_search_filter_is_substring_and_case_sensitive(api):
    api.project("Alpha-DSE-team")
    assert [
        p["name"]
        for p in api.ok("GET", "/api/v2/projects", params={"search_filter": '{"name": "DS"}'})["projects"]
    ] == ["Alpha-DSE-team"]
    assert api.ok("GET", "/api/v2/projects", params={"search_filter": '{"name": "dse"}'})["projects"] == []
    both = api.ok(
        "GET", "/api/v2/projects", params={"search_filter": '{"name": "DSE", "owner.username": "local"}'}
    )
    assert len(both["projects"]) == 1
    none = api.ok(
        "GET", "/api/v2/projects", params={"search_filter": '{"name": "DSE", "owner.username": "other"}'}
    )
    assert none["projects"] == []


def test_sort_descending_by_name(api):
    for name in ("sort-b", "sort-a", "sort-c"):
        api.project(name)
    body = api.ok("GET", "/api/v2/projects", params={"search_filter": '{"name": "sort-"}', "sort": "-name"})
    assert [p["name"] for p in body["projects"]] == ["sort-c", "sort-b", "sort-a"]


def test_bad_list_parameters_are_400(api):
    for params, word in (
        ({"search_filter": "{not json"}, "search_filter"),
        ({"search_filter": '{"colour": "x"}'}, "colour"),
        ({"search_filter": '["name"]'}, "object"),
        ({"sort": "colour"}, "colour"),
        ({"page_size": "ten"}, "page_size"),
        ({"page_token": "garbage!"}, "page_token"),
    ):
        resp = api.get("/api/v2/projects", params=params)
        assert resp.status_code == 400, params
        assert resp.json()["code"] == 3
        assert word in resp.json()["message"]


def test_validation_errors_are_400_naming_the_field(api):
    resp = api.post("/api/v2/projects", json={"name": "typed", "shared_memory_limit": "lots"})
    assert resp.status_code == 400
    assert resp.json()["code"] == 3 and "shared_memory_limit" in resp.json()["message"]
    resp = api.post("/api/v2/projects", json={"template": "blank"})
    assert resp.status_code == 400 and "name" in resp.json()["message"]
    resp = api.post("/api/v2/projects", data="{oops", headers={"content-type": "application/json"})
    assert resp.status_code == 400 and "JSON" in resp.json()["message"]
    resp = api.post("/api/v2/projects", json={"name": "tpl", "template": "Churn Predictor"})
    assert resp.status_code == 400 and "template" in resp.json()["message"]


def test_unknown_body_fields_are_ignored(api):
    body = api.project("ignore-extra", colour="blue", replicas=3)
    assert "colour" not in body and body["name"] == "ignore-extra"


def test_git_project_from_a_local_repository(api, tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "train.py").write_text("print('hi')\n")
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "-C", str(repo), "add", "."], check=True)
    subprocess.run([*git, "-C", str(repo), "commit", "-q", "-m", "init"], check=True)

    created = api.project("git-proj", git_url=f"file://{repo}", template="git")
    assert created["creation_status"] in ("creating", "success")
    done = wait_for(
        lambda: api.ok("GET", f"/api/v2/projects/{created['id']}"),
        lambda p: p["creation_status"] != "creating",
    )
    assert done["creation_status"] == "success"
    files = api.ok("GET", f"/api/v2/projects/{created['id']}/files")["files"]
    assert "train.py" in [f["path"] for f in files]


def test_git_project_from_a_remote_url_fails_offline(api, local):
    created = api.project("git-remote", git_url="https://github.com/example/repo.git")
    done = wait_for(
        lambda: api.ok("GET", f"/api/v2/projects/{created['id']}"),
        lambda p: p["creation_status"] != "creating",
    )
    assert done["creation_status"] == "failure"
    assert "no network access" in (local.state_dir / "logs" / "server.log").read_text()


def test_runtimes_catalogue(api):
    first = api.ok("GET", "/api/v2/runtimes")
    assert len(first["runtimes"]) == 10 and first["next_page_token"]
    everything = api.ok("GET", "/api/v2/runtimes", params={"page_size": 100})["runtimes"]
    assert {r["editor"] for r in everything} == {"Workbench", "PBJ Workbench", "JupyterLab"}
    # Only the Pythons this machine has (the suite needs 3.10 and 3.11); never 3.9.
    kernels = {r["kernel"] for r in everything}
    assert {"Python 3.10", "Python 3.11"} <= kernels <= {"Python 3.10", "Python 3.11", "Python 3.12"}
    assert all(r["status"] == "ENABLED" for r in everything)
    assert {r["edition"] for r in everything} == {"Standard", "Nvidia GPU"}
    gpu = [r for r in everything if r["edition"] == "Nvidia GPU"]
    assert gpu and all("-cuda:" in r["image_identifier"] for r in gpu)
    assert {r["editor"] for r in gpu} == {"Workbench", "JupyterLab"}
    picked = api.ok(
        "GET",
        "/api/v2/runtimes",
        params={
            "search_filter": '{"kernel": "Python 3.10", "editor": "Workbench", "edition": "Standard"}',
            "sort": "-full_version",
        },
    )["runtimes"]
    picked = [r for r in picked if r["editor"] == "Workbench"]  # search_filter matches substrings, as CML's
    assert len(picked) == 2
    assert picked[0]["full_version"] > picked[1]["full_version"]
    assert picked[0]["image_identifier"].startswith(
        "docker.repository.cloudera.com/cloudera/cdsw/ml-runtime-workbench-python3.10-standard:"
    )
