"""Project files: upload never overwrites, one-level listing, path escapes refused, delete."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def project(api):
    return api.project("files-proj")


def _names(api, project_id: str, path: str = "") -> dict[str, dict]:
    suffix = f"/{path}" if path else ""
    return {f["path"]: f for f in api.ok("GET", f"/api/v2/projects/{project_id}/files{suffix}")["files"]}


def test_upload_twice_keeps_both(api, project, local):
    pid = project["id"]
    api.upload(pid, "notes.txt", "first")
    api.upload(pid, "notes.txt", "second!")
    folder = local.state_dir / "projects" / pid
    assert (folder / "notes.txt").read_text() == "first"
    assert (folder / "notes(1).txt").read_text() == "second!"
    listing = _names(api, pid)
    assert listing["notes.txt"] == {"path": "notes.txt", "is_dir": False, "file_size": "5"}
    assert listing["notes(1).txt"]["file_size"] == "7"


def test_nested_upload_and_one_level_listing(api, project):
    pid = project["id"]
    api.upload(pid, "code/sub/train.py", "print(1)\n")
    assert _names(api, pid)["code"]["is_dir"] is True
    assert _names(api, pid, "code") == {"sub": {"path": "sub", "is_dir": True, "file_size": "0"}}
    assert list(_names(api, pid, "code/sub")) == ["train.py"]
    assert list(_names(api, pid, "code%2Fsub")) == ["train.py"]  # an encoded slash is a slash


def test_upload_under_cml_home_prefix(api, project, local):
    api.upload(project["id"], "/home/cdsw/data/x.csv", "a,b\n")
    assert (local.state_dir / "projects" / project["id"] / "data" / "x.csv").is_file()


@pytest.mark.parametrize("bad", ["../escape.txt", "a/../../escape.txt", "/etc/escape.txt"])
def test_upload_outside_the_project_is_400(api, project, local, bad):
    resp = api.post(f"/api/v2/projects/{project['id']}/files", files={bad: ("x", b"nope")})
    assert resp.status_code == 400
    assert resp.json()["code"] == 3
    assert not list(local.state_dir.rglob("escape.txt"))


def test_listing_outside_the_project_is_400(api, project):
    resp = api.get(f"/api/v2/projects/{project['id']}/files/..%2F..%2F")
    assert resp.status_code == 400


def test_delete_file_and_folder(api, project):
    pid = project["id"]
    api.upload(pid, "tmp/gone.txt", "x")
    assert api.ok("DELETE", f"/api/v2/projects/{pid}/files/tmp/gone.txt") == {}
    assert _names(api, pid, "tmp") == {}
    assert api.ok("DELETE", f"/api/v2/projects/{pid}/files/tmp") == {}
    assert "tmp" not in _names(api, pid)
    assert api.delete(f"/api/v2/projects/{pid}/files/tmp").status_code == 404


def test_unknown_project_is_404(api):
    assert api.get("/api/v2/projects/zzzz-zzzz-zzzz-zzzz/files").status_code == 404


@pytest.mark.parametrize(
    "bad",
    [
        "a\x00b.txt",
        "x" * 300 + ".txt",
        "notes.txt/inside.txt",
        "d/" + "y" * 256,
        ("b" * 200 + "/") * 25 + "z",
    ],
)
def test_upload_names_no_file_system_can_hold_are_400_not_500(api, project, bad):
    pid = project["id"]
    api.upload(pid, "notes.txt", "first")  # so that notes.txt/... has a file where a folder should be
    resp = api.post(f"/api/v2/projects/{pid}/files", files={bad: ("x", b"nope")})
    assert resp.status_code == 400, resp.text
    assert resp.json()["code"] == 3


def test_listing_never_follows_a_link_out_and_survives_a_dangling_one(api, project, local, tmp_path):
    pid = project["id"]
    folder = local.state_dir / "projects" / pid / "links"
    folder.mkdir()
    outside = tmp_path / "outside-dir"
    outside.mkdir()
    (outside / "big.bin").write_bytes(b"0" * 5000)
    (folder / "out").symlink_to(outside, target_is_directory=True)
    (folder / "out-file").symlink_to(outside / "big.bin")
    (folder / "dangling").symlink_to(folder / "no-such-file")
    listing = _names(api, pid, "links")  # 200, not a 500 for the dangling link
    assert listing["out"]["is_dir"] is False and listing["out-file"]["file_size"] != "5000"
    assert listing["dangling"]["is_dir"] is False
    assert api.get(f"/api/v2/projects/{pid}/files/links/out").status_code == 400
    assert api.get(f"/api/v2/projects/{pid}/files/links/dangling").status_code == 404
    assert "links" in _names(api, pid)  # the parent listing still answers
