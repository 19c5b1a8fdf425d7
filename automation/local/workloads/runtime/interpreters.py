"""Find a CPython interpreter of a given minor version on this machine (stdlib only).

A runtime's Python is the machine's: ``python3.X`` on PATH, a pyenv or uv-managed install, or the
usual system locations. Each candidate is run once to check its version (pyenv shims exist for
versions that are not active, and answer with an error), and the answer is cached for the process.
``CMLOPS_PYTHON_3_10`` (and so on) names an interpreter explicitly.
"""

from __future__ import annotations

import functools
import glob
import os
import shutil
import subprocess
from pathlib import Path

CANDIDATE_VERSIONS = ("3.10", "3.11", "3.12", "3.13")


def _candidates(version: str) -> list[str]:
    found: list[str] = []
    explicit = os.environ.get("CMLOPS_PYTHON_" + version.replace(".", "_"))
    if explicit:
        found.append(explicit)
    pyenv_root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    found += sorted(glob.glob(f"{pyenv_root}/versions/{version}.*/bin/python{version}"), reverse=True)
    uv_root = os.environ.get("UV_PYTHON_INSTALL_DIR") or str(Path.home() / ".local/share/uv/python")
    found += sorted(glob.glob(f"{uv_root}/cpython-{version}.*/bin/python{version}"), reverse=True)
    on_path = shutil.which(f"python{version}")
    if on_path:
        found.append(on_path)
    found += [f"/usr/bin/python{version}", f"/usr/local/bin/python{version}"]
    return [c for c in dict.fromkeys(found) if os.path.isfile(c) and os.access(c, os.X_OK)]


def _version_of(executable: str) -> str | None:
    try:
        out = subprocess.run(
            [executable, "-I", "-c", "import sys; print('%d.%d' % sys.version_info[:2], sys.executable)"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    parts = out.stdout.split()
    return parts[0] if out.returncode == 0 and parts else None


@functools.cache
def find_python(version: str) -> str | None:
    """An interpreter whose ``sys.version_info[:2]`` is ``version`` (e.g. "3.10"), or None."""
    for candidate in _candidates(version):
        if _version_of(candidate) == version:
            return candidate
    return None


@functools.lru_cache(maxsize=1)
def available_pythons() -> tuple[str, ...]:
    """The minor versions this machine can run, oldest first."""
    return tuple(v for v in CANDIDATE_VERSIONS if find_python(v))
