"""The build backend of the cmlapi source archive (PEP 517, standard library only, no build dependencies).

``pip install <workspace>/api/v2/python.tar.gz`` works offline and in a bare virtualenv: pip calls
``build_wheel`` here, which zips the ``cmlapi`` folder with its metadata (``PKG-INFO``). The local
workspace uses ``wheel_entries`` too, to preinstall the same files into project environments.
"""

from __future__ import annotations

import base64
import hashlib
import os
import tarfile
import zipfile
from pathlib import Path

PACKAGE = "cmlapi"
WHEEL = "Wheel-Version: 1.0\nGenerator: cmlapi-local\nRoot-Is-Purelib: true\nTag: py3-none-any\n"


def package_files(root: Path) -> list[tuple[str, bytes]]:
    """(path inside the package's parent, content) of every file of the package, sorted."""
    found = []
    for path in sorted((root / PACKAGE).rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            found.append((path.relative_to(root).as_posix(), path.read_bytes()))
    return found


def _field(metadata: str, name: str) -> str:
    for line in metadata.splitlines():
        if line.startswith(name + ":"):
            return line.split(":", 1)[1].strip()
    raise ValueError(f"PKG-INFO has no {name} field")


def dist_info(metadata: str) -> str:
    return f"{PACKAGE}-{_field(metadata, 'Version')}.dist-info"


def wheel_entries(
    root: Path, metadata: str, extra: dict[str, bytes] | None = None
) -> list[tuple[str, bytes]]:
    """The files of the installed package: the package, then its .dist-info (``extra`` files, RECORD last)."""
    info = dist_info(metadata)
    entries = package_files(root)
    entries.append((f"{info}/METADATA", metadata.encode("utf-8")))
    entries.append((f"{info}/WHEEL", WHEEL.encode()))
    entries.append((f"{info}/top_level.txt", f"{PACKAGE}\n".encode()))
    entries.extend((f"{info}/{name}", content) for name, content in sorted((extra or {}).items()))
    lines = []
    for name, content in entries:
        digest = base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=").decode()
        lines.append(f"{name},sha256={digest},{len(content)}")
    lines.append(f"{info}/RECORD,,")
    entries.append((f"{info}/RECORD", ("\n".join(lines) + "\n").encode()))
    return entries


def _metadata_here() -> str:
    return Path("PKG-INFO").read_text(encoding="utf-8")


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    metadata = _metadata_here()
    name = f"{PACKAGE}-{_field(metadata, 'Version')}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w", zipfile.ZIP_DEFLATED) as wheel:
        for entry, content in wheel_entries(Path("."), metadata):
            wheel.writestr(zipfile.ZipInfo(entry, date_time=(1980, 1, 1, 0, 0, 0)), content)
    return name


def build_sdist(sdist_directory, config_settings=None):
    base = f"{PACKAGE}-{_field(_metadata_here(), 'Version')}"
    with tarfile.open(os.path.join(sdist_directory, base + ".tar.gz"), "w:gz") as archive:
        for path in ("PKG-INFO", "pyproject.toml", "_cmlapi_build.py", PACKAGE):
            archive.add(
                path, arcname=f"{base}/{path}", filter=lambda t: None if "__pycache__" in t.name else t
            )
    return base + ".tar.gz"
