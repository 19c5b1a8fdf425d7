"""Project-file helpers in-process: never-overwrite naming, one-entry listing of a file, multipart
parsing (what the upload route hands to store_upload)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
import requests

from automation.local.core.files import file_info, list_files, parse_multipart, store_upload
from automation.local.core.problems import ApiProblem


def test_uploads_never_overwrite_they_count_up(tmp_path: Path) -> None:
    names = [store_upload(tmp_path, "data/x.csv", f"{i}".encode()).name for i in range(4)]
    assert names == ["x.csv", "x(1).csv", "x(2).csv", "x(3).csv"]
    assert (tmp_path / "data" / "x(2).csv").read_bytes() == b"2"
    plain = [store_upload(tmp_path, "README", b"r").name for _ in range(3)]
    assert plain == ["README", "README(1)", "README(2)"]
    dotted = [store_upload(tmp_path, "a.tar.gz", b"r").name for _ in range(2)]
    assert dotted == ["a.tar.gz", "a.tar(1).gz"]


def test_upload_to_a_folder_name_is_refused(tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    for bad in ("folder", "new/"):
        with pytest.raises(ApiProblem) as caught:
            store_upload(tmp_path, bad, b"x")
        assert caught.value.status == 400 and "folder" in caught.value.message
    for root in ("", ".", "/home/cdsw/"):
        with pytest.raises(ApiProblem) as caught:
            store_upload(tmp_path, root, b"x")
        assert "not the project root" in caught.value.message


def test_listing_a_file_gives_that_one_entry(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f.txt").write_text("12345")
    assert list_files(tmp_path, "d/f.txt") == {
        "files": [{"path": "f.txt", "is_dir": False, "file_size": "5"}]
    }
    assert list_files(tmp_path, "") == {"files": [{"path": "d", "is_dir": True, "file_size": "0"}]}
    assert file_info(tmp_path / "d", tmp_path) == {"path": "d", "is_dir": True, "file_size": "0"}
    with pytest.raises(ApiProblem) as caught:
        list_files(tmp_path, "d/absent.txt")
    assert caught.value.status == 404


def multipart(files: dict[str, tuple[str, bytes]]) -> tuple[str, bytes]:
    prepared = requests.Request("POST", "http://127.0.0.1/", files=files).prepare()
    return prepared.headers["Content-Type"], prepared.body


def test_multipart_parts_come_back_as_field_name_file_name_and_bytes() -> None:
    content_type, body = multipart({"data/a.csv": ("a.csv", b"1,2\n"), "b.txt": ("other-name", b"")})
    assert parse_multipart(content_type, body) == [
        ("data/a.csv", "a.csv", b"1,2\n"),
        ("b.txt", "other-name", b""),
    ]


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "multipart/form-data", "text/plain; boundary=abc", ""],
)
def test_a_body_that_is_not_multipart_with_a_boundary_is_refused(content_type: str) -> None:
    _, body = multipart({"a": ("a", b"x")})
    with pytest.raises(ApiProblem) as caught:
        parse_multipart(content_type, body)
    assert caught.value.status == 400
    assert caught.value.message == (
        "upload must be multipart/form-data; the form field name is the destination path"
    )


def test_multipart_disposition_parameters_may_be_unquoted() -> None:
    body = (
        b"--XyZ\r\n"
        b"Content-Disposition: form-data; name=plain.txt; filename=p.txt\r\n"
        b"Content-Type: text/plain\r\n\r\n"
        b"hello\r\n"
        b"--XyZ\r\n"
        b'Content-Disposition: form-data; name="quoted \\"x\\".txt"; filename="q.txt"\r\n\r\n'
        b"q\r\n"
        b"--XyZ--\r\n"
    )
    parts = parse_multipart("multipart/form-data; boundary=XyZ", body)
    assert parts == [("plain.txt", "p.txt", b"hello"), ('quoted \\"x\\".txt', "q.txt", b"q")]


def _path_of(total: int) -> str:
    """A relative path of ``total`` bytes made of 250-byte names (the last one shorter)."""
    parts, size = [], 0
    while size + 251 < total:
        parts.append("d" * 250)
        size += 251
    parts.append("f" * (total - size))
    return "/".join(parts)


def test_an_upload_path_of_4000_bytes_is_stored_and_4001_are_refused(tmp_path: Path) -> None:
    assert len(_path_of(4000).encode()) == 4000
    assert store_upload(tmp_path, _path_of(4000), b"x").is_file()
    with pytest.raises(ApiProblem) as caught:
        store_upload(tmp_path, _path_of(4001), b"x")
    assert caught.value.status == 400 and "at most 4000 are allowed" in caught.value.message


def test_a_name_of_255_bytes_is_stored_and_256_are_refused(tmp_path: Path) -> None:
    assert store_upload(tmp_path, "n" * 255, b"x").name == "n" * 255
    with pytest.raises(ApiProblem) as caught:
        store_upload(tmp_path, "n" * 256, b"x")
    assert caught.value.status == 400 and "over 255 bytes long" in caught.value.message
    assert f"the name {'n' * 40!r}... is over" in caught.value.message  # its first 40 characters


def test_an_upload_under_an_existing_file_is_refused_naming_that_file(tmp_path: Path) -> None:
    store_upload(tmp_path, "notes.txt", b"x")
    with pytest.raises(ApiProblem) as caught:
        store_upload(tmp_path, "notes.txt/inner.txt", b"y")
    assert caught.value.status == 400 and "notes.txt is a file, not a folder" in caught.value.message


def test_file_info_shows_links_out_of_the_project_as_the_links_themselves(tmp_path: Path) -> None:
    root, outside = tmp_path / "project", tmp_path / "outside"
    root.mkdir()
    (outside / "deep").mkdir(parents=True)
    (root / "sub").mkdir()
    (root / "out").symlink_to(outside / "deep")
    (root / "in").symlink_to(root / "sub")
    (root / "gone").symlink_to(root / "missing")
    out = file_info(root / "out", root)
    assert out == {"path": "out", "is_dir": False, "file_size": str((root / "out").lstat().st_size)}
    assert file_info(root / "in", root) == {"path": "in", "is_dir": True, "file_size": "0"}
    gone = file_info(root / "gone", root)
    assert gone["is_dir"] is False and gone["file_size"] == str((root / "gone").lstat().st_size)


def _writes_fail_with(monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    """Every Path.write_bytes raises OSError(code), as the file system would."""

    def fail(self: Path, data: bytes) -> int:
        raise OSError(code, os.strerror(code), str(self))

    monkeypatch.setattr(Path, "write_bytes", fail)


@pytest.mark.parametrize(
    "code", [errno.ENAMETOOLONG, errno.ENOTDIR, errno.EEXIST, errno.EISDIR, errno.EINVAL]
)
def test_a_path_the_file_system_cannot_hold_is_a_400_naming_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    # What the file system refuses for the path itself (a component too long for this file system,
    # a name it cannot hold) is the caller's error: a 400 with the system's words, nothing stored.
    _writes_fail_with(monkeypatch, code)
    with pytest.raises(ApiProblem) as caught:
        store_upload(tmp_path, "data/x.csv", b"x")
    assert caught.value.status == 400
    assert caught.value.message == f"upload path 'data/x.csv' cannot be stored: {os.strerror(code)}"
    assert not (tmp_path / "data" / "x.csv").exists()


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EACCES, errno.EIO])
def test_a_server_side_storage_failure_is_not_blamed_on_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    # A full disk or a permission the server lacks is the server's failure: it propagates (the app
    # turns it into a 500), never a 400 telling the caller to change a path that was fine.
    _writes_fail_with(monkeypatch, code)
    with pytest.raises(OSError) as caught:
        store_upload(tmp_path, "data/x.csv", b"x")
    assert caught.value.errno == code and not isinstance(caught.value, ApiProblem)


def test_an_entry_that_vanishes_while_listed_is_shown_as_an_empty_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another process may delete a file between the folder's scan and its entry's stat: the listing
    # shows the name it saw, as an empty non-folder entry, instead of failing the whole listing.
    (tmp_path / "big.bin").write_bytes(b"x" * 100)
    real_stat = Path.stat

    def vanished(self: Path, *, follow_symlinks: bool = True) -> os.stat_result:
        if self.name == "big.bin":
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(self))
        return real_stat(self, follow_symlinks=follow_symlinks)

    monkeypatch.setattr(Path, "stat", vanished)
    assert file_info(tmp_path / "big.bin", tmp_path) == {"path": "big.bin", "is_dir": False, "file_size": "0"}
