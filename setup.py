"""Builds the wheel with the flagship example inside (``cmlops init`` writes it into a new project).

The example's files live once in git, at the repo root (``specs/wine-quality.yaml``, ``code/``,
``requirements.txt``), where the README's clone path uses them. At build time they are copied into
``automation/examples/wine-quality/`` of the built package; a source checkout reads them from the
repo root instead (``automation.examples.example_root``). Everything else is in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
EXAMPLE_FILES = ("specs/wine-quality.yaml", "requirements.txt")
EXAMPLE_TREES = ("code",)


class BuildPyWithExample(build_py):
    """``build_py`` plus the flagship example's files as package data."""

    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "automation" / "examples" / "wine-quality"
        if target.exists():
            shutil.rmtree(target)
        for rel in EXAMPLE_FILES:
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, target / rel)
        for tree in EXAMPLE_TREES:
            shutil.copytree(ROOT / tree, target / tree, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildPyWithExample})
