"""The local workspace's runtime catalogue: Cloudera's ML Runtime identifiers, and what each one runs.

CML runs every workload in an ML Runtime image named by ``runtime_identifier``
(``.../ml-runtime-<editor>-python<X.Y>-<edition>:<release>``). The local workspace lists the same
identifiers for the Workbench, PBJ Workbench and JupyterLab editors, Standard and Nvidia GPU
editions, for each Python this machine has (3.10, 3.11 and 3.12 are offered when an interpreter of
that version is found; see ``interpreters.py``). A Standard runtime runs in a per-project
environment seeded with the Standard package set (``runtime/standard-python.txt``: no scikit-learn,
``mlflow-skinny`` 2.19 as CML's MLflow add-on). A GPU runtime is listed, as in a workspace with GPU
nodes, but a workload on it is refused: the local workspace has no GPU.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from automation.local.workloads.runtime.interpreters import available_pythons

REPOSITORY = "docker.repository.cloudera.com/cloudera/cdsw"
# editor name -> image slug; PBJ ("Powered by Jupyter") runs the script through a Jupyter kernel too.
EDITORS = {"Workbench": "workbench", "PBJ Workbench": "pbj-workbench", "JupyterLab": "jupyterlab"}
# edition name -> image suffix; GPU editions exist for the Workbench and JupyterLab editors.
EDITIONS = {"Standard": "standard", "Nvidia GPU": "cuda"}
GPU_EDITORS = ("Workbench", "JupyterLab")
OFFERED_PYTHONS = ("3.10", "3.11", "3.12")
VERSIONS = ("2025.01.3-b8", "2025.09.1-b5")  # older first
FILTER_KEYS = ("image_identifier", "editor", "kernel", "edition", "description", "full_version")
_IMAGE = re.compile(
    r"^" + re.escape(REPOSITORY) + r"/ml-runtime-(?P<editor>[a-z-]+?)-python(?P<python>\d+\.\d+)-"
    r"(?P<edition>standard|cuda):(?P<version>[\w.-]+)$"
)


@dataclass(frozen=True)
class RuntimeProfile:
    """What a runtime identifier means for the local workspace."""

    identifier: str
    editor: str
    python: str
    edition: str
    full_version: str

    @property
    def gpu(self) -> bool:
        return self.edition != "Standard"

    @property
    def kernel(self) -> str:
        return f"Python {self.python}"


def _describe(profile: RuntimeProfile) -> dict[str, Any]:
    return {
        "image_identifier": profile.identifier,
        "editor": profile.editor,
        "kernel": profile.kernel,
        "edition": profile.edition,
        "description": f"{profile.edition} edition Python runtime provided by Cloudera "
        f"({profile.editor}, Python {profile.python})",
        "full_version": profile.full_version,
        "status": "ENABLED",
        "register_user_id": 0,
    }


def _identifier(editor: str, python: str, edition: str, version: str) -> str:
    return f"{REPOSITORY}/ml-runtime-{EDITORS[editor]}-python{python}-{EDITIONS[edition]}:{version}"


@functools.lru_cache(maxsize=1)
def _profiles() -> tuple[RuntimeProfile, ...]:
    pythons = [p for p in OFFERED_PYTHONS if p in available_pythons()]
    out: list[RuntimeProfile] = []
    for editor in EDITORS:
        for edition in EDITIONS:
            if edition != "Standard" and editor not in GPU_EDITORS:
                continue
            for python in pythons:
                for version in VERSIONS:
                    ident = _identifier(editor, python, edition, version)
                    out.append(RuntimeProfile(ident, editor, python, edition, version))
    return tuple(out)


def catalogue() -> list[dict[str, Any]]:
    """Every runtime the local workspace lists (GET /api/v2/runtimes)."""
    return [_describe(p) for p in _profiles()]


def profile_of(identifier: str | None) -> RuntimeProfile | None:
    """The offered runtime behind ``identifier``, or None when the catalogue has no such image."""
    if not identifier:
        return None
    for profile in _profiles():
        if profile.identifier == identifier:
            return profile
    return None


def default_identifier() -> str | None:
    """The newest Workbench Standard runtime of the oldest offered Python (what a bare workload gets)."""
    standard = [p for p in _profiles() if p.editor == "Workbench" and not p.gpu]
    if not standard:
        return None
    oldest_python = standard[0].python
    return [p for p in standard if p.python == oldest_python][-1].identifier


def is_known(identifier: str | None) -> bool:
    return profile_of(identifier) is not None


def why_unknown(identifier: str) -> str:
    """Explain a refused identifier: a Python this machine lacks, or not a runtime image at all."""
    match = _IMAGE.match(identifier)
    offered = ", ".join(p for p in OFFERED_PYTHONS if p in available_pythons()) or "none"
    if match and match["python"] not in available_pythons():
        return (
            f"runtime_identifier {identifier!r} needs Python {match['python']}, which the local workspace "
            f"does not offer on this machine (Pythons offered: {offered}); list runtimes with GET /api/v2/runtimes"
        )
    return (
        f"runtime_identifier {identifier!r} is not an available runtime; list them with GET /api/v2/runtimes"
    )


def gpu_refusal(profile: RuntimeProfile) -> str:
    return (
        f"no GPU on the local workspace: runtime {profile.identifier!r} is a {profile.edition} edition; "
        f"use the Standard edition of the same editor and kernel ({profile.editor}, {profile.kernel})"
    )
