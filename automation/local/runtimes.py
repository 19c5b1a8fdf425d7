"""The fixed runtime catalogue of the local workspace.

Every runtime runs with the server's own interpreter (``sys.executable``); the catalogue exists so
specs and clients can resolve ``runtime_identifier`` exactly as on CML (and "pick the newest
``full_version``" has something to choose from).
"""

from __future__ import annotations

from typing import Any

REPOSITORY = "docker.repository.cloudera.com/cloudera/cdsw"
EDITORS = {"Workbench": "workbench", "JupyterLab": "jupyterlab"}
PYTHONS = ("3.9", "3.10", "3.11", "3.12")
VERSIONS = ("2025.01.3-b8", "2025.09.1-b5")  # older first


def _runtime(editor: str, python: str, version: str) -> dict[str, Any]:
    slug = EDITORS[editor]
    return {
        "image_identifier": f"{REPOSITORY}/ml-runtime-{slug}-python{python}-standard:{version}",
        "editor": editor,
        "kernel": f"Python {python}",
        "edition": "Standard",
        "description": f"Standard edition Python runtime provided by Cloudera ({editor}, Python {python})",
        "full_version": version,
        "status": "ENABLED",
        "register_user_id": 0,
    }


CATALOGUE: list[dict[str, Any]] = [
    _runtime(editor, python, version) for editor in EDITORS for python in PYTHONS for version in VERSIONS
]
IDENTIFIERS = frozenset(r["image_identifier"] for r in CATALOGUE)
FILTER_KEYS = ("image_identifier", "editor", "kernel", "edition", "description", "full_version")


def is_known(identifier: str | None) -> bool:
    return bool(identifier) and identifier in IDENTIFIERS
