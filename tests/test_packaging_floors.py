"""The floors .ci/floors installs are the floors pyproject.toml declares (one list, checked)."""

from __future__ import annotations

import re
from pathlib import Path

import tomllib

REPO = Path(__file__).resolve().parents[1]


def test_ci_minimums_match_the_declared_floors() -> None:
    declared = {}
    for dep in tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]:
        name, floor = re.fullmatch(r"([A-Za-z0-9_.-]+)>=([0-9.]+)", dep).groups()
        declared[name.lower()] = floor
    pinned = {}
    for line in (REPO / ".ci" / "minimums.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pinned[name.lower()] = version
    assert set(pinned) == set(declared)
    for name, floor in declared.items():

        def three(version: str) -> list[str]:
            return (version + ".0.0").split(".")[:3]

        assert three(pinned[name]) == three(floor), (
            f"{name}: pyproject >={floor}, .ci/minimums.txt =={pinned[name]}"
        )


def test_ci_runs_the_floors_check() -> None:
    assert "bash .ci/floors" in (REPO / ".ci" / "run").read_text()
