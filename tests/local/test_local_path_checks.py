"""The two path checks of the local workspace's project files, each one alone.

``..`` is refused by name, and whatever is left must resolve inside the project folder. Each check
hides the other on the usual attacks (``../x`` fails both), so the cases below are chosen so that
exactly one check stands between the request and the file system:

* ``sub/../name``: stays inside the folder once resolved; only the ``..`` refusal rejects it.
* ``link/name`` where ``link`` is a symlink out of the project: no ``..`` anywhere; only
  resolving the path finds that it lands outside.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from automation.local.core.files import delete_path, list_files, resolve_inside, store_upload
from automation.local.core.problems import ApiProblem


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "project"
    outside = tmp_path / "outside"
    (root / "sub").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.txt").write_text("outside the project")
    (root / "sub" / "kept.txt").write_text("inside")
    (root / "escape").symlink_to(outside, target_is_directory=True)
    (root / "escape-file").symlink_to(outside / "secret.txt")
    (root / "inner-link").symlink_to(root / "sub", target_is_directory=True)
    return root, outside


def refused(call, *args, **kwargs) -> str:
    with pytest.raises(ApiProblem) as caught:
        call(*args, **kwargs)
    assert caught.value.status == 400 and caught.value.code == 3
    return caught.value.message


# -- the ".." refusal alone ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["sub/../kept.txt", "sub/../sub/kept.txt", "./sub/..", "sub\\..\\x.txt"])
def test_dotdot_is_refused_even_when_it_resolves_inside(layout, path: str) -> None:
    root, _ = layout
    message = refused(resolve_inside, root, path)
    assert "no '..'" in message and repr(path) in message


def test_upload_with_an_inner_dotdot_writes_nothing(layout) -> None:
    root, _ = layout
    before = sorted(p.name for p in root.rglob("*"))
    message = refused(store_upload, root, "sub/../planted.txt", b"x")
    assert "upload path" in message and "no '..'" in message
    assert sorted(p.name for p in root.rglob("*")) == before


# -- the resolve-inside check alone ---------------------------------------------------------------


@pytest.mark.parametrize("path", ["escape/secret.txt", "escape/new.txt", "escape", "escape-file"])
def test_a_symlink_out_of_the_project_is_refused(layout, path: str) -> None:
    root, _ = layout
    message = refused(resolve_inside, root, path)
    assert "points outside the project folder" in message


def test_upload_through_a_symlink_out_of_the_project_writes_nothing_outside(layout) -> None:
    root, outside = layout
    refused(store_upload, root, "escape/planted.txt", b"x")
    refused(store_upload, root, "escape/secret.txt", b"x")
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    assert (outside / "secret.txt").read_text() == "outside the project"


def test_listing_and_deleting_through_a_symlink_out_are_refused(layout) -> None:
    root, outside = layout
    refused(list_files, root, "escape")
    refused(delete_path, root, "escape/secret.txt")
    assert (outside / "secret.txt").is_file()


def test_a_symlink_that_stays_inside_is_followed(layout) -> None:
    root, _ = layout
    assert resolve_inside(root, "inner-link/kept.txt") == root / "inner-link" / "kept.txt"
    assert list_files(root, "inner-link")["files"] == [
        {"path": "kept.txt", "is_dir": False, "file_size": "6"}
    ]


# -- both, and the plain cases ---------------------------------------------------------------------


@pytest.mark.parametrize("path", ["../x.txt", "sub/../../x.txt"])
def test_dotdot_that_leaves_the_folder_is_refused(layout, path: str) -> None:
    root, _ = layout
    refused(resolve_inside, root, path)


def test_absolute_paths_are_refused_but_cml_home_is_the_root(layout) -> None:
    root, _ = layout
    assert "relative to the project root" in refused(resolve_inside, root, "/etc/passwd")
    assert resolve_inside(root, "/home/cdsw/sub/kept.txt") == root / "sub" / "kept.txt"


def test_inside_paths_resolve_and_the_root_is_allowed_only_where_asked(layout) -> None:
    root, _ = layout
    assert resolve_inside(root, "sub/kept.txt") == root / "sub" / "kept.txt"
    assert resolve_inside(root, "./sub//kept.txt") == root / "sub" / "kept.txt"
    assert resolve_inside(root, "") == root and resolve_inside(root, ".") == root
    assert "not the project root" in refused(resolve_inside, root, "", allow_root=False)
    assert "not the project root" in refused(delete_path, root, ".")


def test_a_resolved_root_with_a_symlinked_parent_still_works(tmp_path: Path) -> None:
    real = tmp_path / "real"
    (real / "p").mkdir(parents=True)
    alias = tmp_path / "alias"
    os.symlink(real, alias)
    root = alias / "p"
    assert resolve_inside(root, "a/b.txt") == root / "a" / "b.txt"
    store_upload(root, "a/b.txt", b"ok")
    assert (real / "p" / "a" / "b.txt").read_bytes() == b"ok"


def test_live_upload_through_a_symlink_out_of_the_project_is_400(api, local, tmp_path: Path) -> None:
    """The same through the server: a project folder holding a symlink to a folder outside it."""
    project = api.project("symlink-escape")
    outside = tmp_path / "outside-live"
    outside.mkdir()
    (local.state_dir / "projects" / project["id"] / "out").symlink_to(outside, target_is_directory=True)
    base = f"/api/v2/projects/{project['id']}/files"

    resp = api.post(base, files={"out/planted.txt": ("planted.txt", b"nope")})
    assert resp.status_code == 400 and resp.json()["code"] == 3
    assert "outside the project folder" in resp.json()["message"]
    assert list(outside.iterdir()) == []
    assert api.get(f"{base}/out").status_code == 400
    inner = api.post(base, files={"sub/../inner.txt": ("inner.txt", b"nope")})
    assert inner.status_code == 400 and "'..'" in inner.json()["message"]
