"""Paths in a spec: they are relative to the repo root and can never point outside it.

A spec is data the toolkit acts on (uploads files, runs a script in a workspace), so a path such as
``../secrets.txt`` or ``/etc/passwd`` is refused when the spec is loaded (syntactically), and
``check_files`` later proves the referenced files exist inside the repo (also through symlinks).
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

_DRIVE = re.compile(r"^[A-Za-z]:")


def check_relative_path(value: str, *, what: str = "path", allow_glob: bool = False) -> str:
    """Return ``value`` normalised (``./a//b`` -> ``a/b``) or raise ValueError saying why it is refused."""
    if not value or not value.strip():
        raise ValueError(f"the {what} is empty")
    if "\x00" in value:
        raise ValueError(f"the {what} contains a NUL character")
    if "\\" in value:
        raise ValueError(f"the {what} contains '\\'; separate folders with '/'")
    if value.startswith("/") or _DRIVE.match(value):
        raise ValueError(f"the {what} is absolute; write it relative to the repo root (no leading '/')")
    if value.startswith("~"):
        raise ValueError(f"the {what} starts with '~'; write it relative to the repo root")
    if ".." in value.split("/"):
        raise ValueError(f"the {what} contains '..' and could escape the repo; write it from the repo root")
    if not allow_glob and any(c in value for c in "*?["):
        raise ValueError(f"the {what} contains a glob character (* ? [); name one file")
    if allow_glob and any("**" in part and part != "**" for part in value.split("/")):
        raise ValueError(f"in the {what}, '**' must be a whole folder component (a/**/b.py)")
    normalised = posixpath.normpath(value)
    if normalised == ".":
        raise ValueError(f"the {what} names the repo root itself; name a file (or '**/*' for every file)")
    return normalised


ROOT_MARKERS = (".git", "pyproject.toml")


def find_repo_root(spec_path: str | Path) -> Path:
    """The nearest folder above the spec holding ``.git`` or ``pyproject.toml``; else, outside any
    repo, the spec's folder, or its parent when the spec sits in a ``specs/`` folder (the layout
    ``cmlops init`` writes).

    Every relative path of a spec is resolved against this folder, wherever cmlops is started from.
    """
    spec_path = Path(spec_path).resolve()
    for parent in spec_path.parents:
        if any((parent / marker).exists() for marker in ROOT_MARKERS):
            return parent
    folder = spec_path.parent
    return folder.parent if folder.name == "specs" else folder


def find_folder_root(folder: str | Path, markers: tuple[str, ...] = ROOT_MARKERS) -> Path | None:
    """The nearest folder at or above ``folder`` holding one of ``markers`` (None outside any)."""
    folder = Path(folder).resolve()
    for candidate in (folder, *folder.parents):
        if any((candidate / marker).exists() for marker in markers):
            return candidate
    return None
