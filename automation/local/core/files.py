"""Project folders: safe path resolution, uploads that never overwrite, one-level listings."""

from __future__ import annotations

import errno
import os
import re
import shutil
from pathlib import Path, PurePosixPath
from typing import Any

from automation.local.core.problems import bad_request, not_found

CML_HOME = "/home/cdsw/"  # CML's project root; clients may send paths under it
MAX_NAME_BYTES = 255  # one path component (Linux NAME_MAX)
MAX_PATH_BYTES = 4000  # a whole relative path (under Linux PATH_MAX with the state folder in front)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _check_name(text: str, relative: str, field: str) -> None:
    """400 for a path no file system here (or CML's) can hold, instead of a 500 from the OS."""
    if _CONTROL.search(text):
        raise bad_request(f"{field} {relative!r} contains a control character (NUL, newline, ...)")
    try:
        encoded = text.encode("utf-8")
    except UnicodeEncodeError:
        raise bad_request(f"{field} {relative!r} is not valid UTF-8") from None
    if len(encoded) > MAX_PATH_BYTES:
        raise bad_request(f"{field} is {len(encoded)} bytes long; at most {MAX_PATH_BYTES} are allowed")
    long = next((p for p in text.split("/") if len(p.encode("utf-8")) > MAX_NAME_BYTES), None)
    if long is not None:
        raise bad_request(f"{field}: the name {long[:40]!r}... is over {MAX_NAME_BYTES} bytes long")


def resolve_inside(root: Path, relative: str, *, field: str = "path", allow_root: bool = True) -> Path:
    """``root / relative``, refusing anything that lands outside ``root`` (``..``, absolute, symlinks)."""
    text = (relative or "").replace("\\", "/")
    if text.startswith(CML_HOME):
        text = text[len(CML_HOME) :]
    if text.startswith("/"):
        raise bad_request(f"{field} {relative!r} must be relative to the project root")
    _check_name(text, relative, field)
    parts = [p for p in PurePosixPath(text).parts if p not in ("", ".")]
    if ".." in parts:
        raise bad_request(f"{field} {relative!r} must stay inside the project folder (no '..')")
    target = root.joinpath(*parts) if parts else root
    resolved_root = root.resolve()
    resolved = target.resolve()
    if resolved != resolved_root and resolved_root not in resolved.parents:
        raise bad_request(f"{field} {relative!r} points outside the project folder")
    if not allow_root and resolved == resolved_root:
        raise bad_request(f"{field} must name a file or folder inside the project, not the project root")
    return target


def free_name(target: Path) -> Path:
    """CML never overwrites an upload: an occupied ``name.ext`` becomes ``name(1).ext``, ``name(2).ext``..."""
    if not target.exists():
        return target
    suffix = "".join(target.suffixes[-1:])
    stem = target.name[: len(target.name) - len(suffix)] if suffix else target.name
    n = 1
    while True:
        candidate = target.with_name(f"{stem}({n}){suffix}")
        if not candidate.exists():
            return candidate
        n += 1


def store_upload(root: Path, destination: str, content: bytes) -> Path:
    target = resolve_inside(root, destination, field="upload path", allow_root=False)
    if destination.endswith("/"):
        raise bad_request(f"upload path {destination!r} must name a file, not a folder")
    if target.is_dir():
        raise bad_request(f"upload path {destination!r} is an existing folder")
    blocking = next((p for p in target.parents if p != root and (p.is_file() or p.is_symlink())), None)
    if blocking is not None and root in blocking.parents:
        raise bad_request(
            f"upload path {destination!r}: {blocking.relative_to(root)} is a file, not a folder"
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target = free_name(target)
        target.write_bytes(content)
    except OSError as exc:
        if exc.errno in (errno.ENAMETOOLONG, errno.ENOTDIR, errno.EEXIST, errno.EISDIR, errno.EINVAL):
            raise bad_request(f"upload path {destination!r} cannot be stored: {exc.strerror}") from None
        raise
    return target


def file_info(path: Path, root: Path) -> dict[str, Any]:
    """One listing entry. A symlink is never followed out of the project: a link leading outside, or
    to nothing, is shown as what it is (a small file), so the listing neither leaks nor fails."""
    try:
        if path.is_symlink() and not _inside(path, root):
            return {"path": path.name, "is_dir": False, "file_size": str(path.lstat().st_size)}
        is_dir = path.is_dir()
        return {"path": path.name, "is_dir": is_dir, "file_size": "0" if is_dir else str(path.stat().st_size)}
    except OSError:
        return {"path": path.name, "is_dir": False, "file_size": "0"}


def _inside(path: Path, root: Path) -> bool:
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError):  # dangling, or a loop
        return False
    real_root = root.resolve()
    return resolved == real_root or real_root in resolved.parents


def list_files(root: Path, relative: str) -> dict[str, Any]:
    target = resolve_inside(root, relative)
    if not os.path.lexists(target) or (target.is_symlink() and not _inside(target, root)):
        raise not_found("project file", relative)
    if not target.is_dir():
        return {"files": [file_info(target, root)]}
    return {"files": [file_info(p, root) for p in sorted(target.iterdir(), key=lambda p: p.name)]}


def delete_path(root: Path, relative: str) -> None:
    target = resolve_inside(root, relative, allow_root=False)
    if not target.exists() and not target.is_symlink():
        raise not_found("project file", relative)
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)
    else:
        target.unlink()


_TOKEN = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"|(\w+)=([^;\s]+)')


def parse_multipart(content_type: str, body: bytes) -> list[tuple[str, str, bytes]]:
    """multipart/form-data -> [(field name, file name, bytes)], with the stdlib email parser.

    The field name is the destination path (API v2's UploadFile convention).
    """
    from email.parser import BytesParser
    from email.policy import HTTP

    if not content_type.lower().startswith("multipart/form-data") or "boundary=" not in content_type:
        raise bad_request("upload must be multipart/form-data; the form field name is the destination path")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise bad_request("upload body is not valid multipart/form-data")
    parts: list[tuple[str, str, bytes]] = []
    for part in message.iter_parts():
        disposition = part.get("Content-Disposition", "")
        params = {m[0] or m[2]: (m[1] if m[0] else m[3]) for m in _TOKEN.findall(str(disposition))}
        name = params.get("name", "")
        filename = params.get("filename", "")
        payload = part.get_payload(decode=True) or b""
        parts.append((name, filename, payload))
    if not parts:
        raise bad_request("upload has no file parts")
    return parts
