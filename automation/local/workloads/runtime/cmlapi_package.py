"""The ``cmlapi`` package the local workspace serves and preinstalls: its source archive and installs.

The package's source lives in ``cmlapi_dist/`` (data, never on cmlops' own import path: its folder
has no ``__init__.py`` and is not a top-level name, so ``import cmlapi`` fails in cmlops' environment
and can never shadow Cloudera's package inside CML). From it:

* ``source_archive()``: the ``cmlapi-<version>.tar.gz`` served at ``GET /api/v2/python.tar.gz``,
  built in memory on first request (deterministic bytes) and kept for the server's life; it carries
  its own standard-library build backend, so ``pip install`` needs neither the index nor setuptools;
* ``ensure_installed(site_packages)``: the same files written into a project environment, as newer
  CML runtimes ship ``cmlapi`` preinstalled. A project that installed its own ``cmlapi`` (pip's
  INSTALLER) keeps it, as a user-site install shadows the image in CML.

The version is the API description's (``26.6.13``) plus ``+cmlops.<digest of the files>``, so a
changed package replaces the preinstalled one at the next engine start.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import importlib.util
import io
import re
import shutil
import tarfile
import tempfile
from pathlib import Path
from types import ModuleType

DIST = Path(__file__).with_name("cmlapi_dist")
BACKEND = "_cmlapi_build"
INSTALLER = "cmlops-local-workspace"
PYPROJECT = f'[build-system]\nrequires = []\nbuild-backend = "{BACKEND}"\nbackend-path = ["."]\n'


@functools.lru_cache(maxsize=1)
def _backend() -> ModuleType:
    spec = importlib.util.spec_from_file_location(BACKEND, DIST / f"{BACKEND}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.lru_cache(maxsize=1)
def version() -> str:
    """``<API version>+cmlops.<first 10 hex digits of the files' SHA-256>``."""
    digest = hashlib.sha256()
    for name, content in _backend().package_files(DIST):
        digest.update(name.encode() + b"\0" + content + b"\0")
    digest.update(_backend_source())
    text = (DIST / "cmlapi" / "operations.json").read_text(encoding="utf-8")
    api = re.search(r'"api_version":\s*"([^"]+)"', text)
    release = ".".join(str(int(part)) for part in (api.group(1) if api else "0").split("."))
    return f"{release}+cmlops.{digest.hexdigest()[:10]}"


def _backend_source() -> bytes:
    return (DIST / f"{BACKEND}.py").read_bytes()


def metadata() -> str:
    return (
        "Metadata-Version: 2.1\n"
        "Name: cmlapi\n"
        f"Version: {version()}\n"
        "Summary: API v2 client for the cmlops local workspace (the part of CML's cmlapi that scripts use)\n"
        "Requires-Python: >=3.10\n"
    )


@functools.lru_cache(maxsize=1)
def source_archive() -> tuple[bytes, str]:
    """(the .tar.gz bytes, its file name): an sdist pip builds with the bundled backend."""
    base = f"cmlapi-{version()}"
    members = [
        ("PKG-INFO", metadata().encode()),
        ("pyproject.toml", PYPROJECT.encode()),
        (f"{BACKEND}.py", _backend_source()),
        *_backend().package_files(DIST),
    ]
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name, content in members:
            info = tarfile.TarInfo(f"{base}/{name}")
            info.size, info.mode, info.mtime = len(content), 0o644, 0
            archive.addfile(info, io.BytesIO(content))
    return gzip.compress(raw.getvalue(), mtime=0), f"{base}.tar.gz"


def _installed(site_packages: Path) -> list[Path]:
    return sorted(site_packages.glob("cmlapi-*.dist-info"))


def _remove(site_packages: Path, info: Path) -> None:
    record = info / "RECORD"
    lines = record.read_text(encoding="utf-8").splitlines() if record.is_file() else []
    for line in lines:
        target = site_packages / line.split(",", 1)[0]
        if target.is_file():
            target.unlink()
    shutil.rmtree(site_packages / "cmlapi", ignore_errors=True)
    shutil.rmtree(info, ignore_errors=True)


def ensure_installed(site_packages: Path) -> bool:
    """Preinstall (or update) cmlapi in ``site_packages``; False when nothing had to change."""
    backend = _backend()
    wanted = backend.dist_info(metadata())
    present = _installed(site_packages)
    if any(p.name == wanted for p in present):
        return False
    for info in present:
        installer = info / "INSTALLER"
        if not installer.is_file() or installer.read_text(encoding="utf-8").strip() != INSTALLER:
            return False  # the project installed a cmlapi of its own: it wins, as ~/.local does in CML
        _remove(site_packages, info)
    entries = backend.wheel_entries(DIST, metadata(), {"INSTALLER": f"{INSTALLER}\n".encode()})
    package = [(n, c) for n, c in entries if not n.startswith(wanted + "/")]
    for name, content in package:
        target = site_packages / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    # The .dist-info folder appears last and whole: it is what says "installed".
    staging = Path(tempfile.mkdtemp(prefix=".cmlapi-", dir=site_packages))
    for name, content in entries:
        if name.startswith(wanted + "/"):
            (staging / name.split("/", 1)[1]).write_bytes(content)
    staging.rename(site_packages / wanted)
    return True
