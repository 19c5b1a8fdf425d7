"""Prepare a machine for offline local workspaces: runtime environments and a wheelhouse.

``cmlops local prepare`` builds the runtime environment of each Python the workspace offers (from
the package index, once; later builds reuse uv's cache) and the model server's packages next to it
(``build_envs.serving_layer``), and, with ``--wheelhouse``, downloads the
wheels a project's ``pip install -r requirements.txt`` needs for each of those Pythons, plus what
installing cmlops itself into a project needs (the AMP's install step), into one folder. A local
workspace started with ``CMLOPS_LOCAL_PIP_FIND_LINKS=<that folder>`` and
``CMLOPS_LOCAL_PIP_NO_INDEX=1`` then runs projects' installs with no network, as an air-gapped CML
workspace does with a pip mirror. The test suite and ``.ci/run`` use exactly this.
"""

from __future__ import annotations

import importlib.metadata
import logging
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from automation.local.workloads.runtime.build_envs import serving_layer
from automation.local.workloads.runtime.environments import RuntimeEnvironments, RuntimeUnavailable, cache_dir
from automation.local.workloads.runtime.interpreters import available_pythons
from automation.local.workloads.runtimes import OFFERED_PYTHONS

BUILD_TOOLS = ("setuptools>=77", "wheel")  # pip's isolated build of a project folder (SPDX licenses: 77)


def default_wheelhouse() -> Path:
    return cache_dir() / "wheelhouse"


def cmlops_requirements() -> list[str]:
    """cmlops' own base dependencies (no extras): what ``pip install .`` of this repo needs."""
    try:
        requires = importlib.metadata.requires("cmlops") or []
    except importlib.metadata.PackageNotFoundError:
        return []
    return [r.split(";")[0].strip() for r in requires if "extra ==" not in r]


@dataclass
class PrepareReport:
    runtimes: dict[str, float] = field(default_factory=dict)  # python -> seconds (0 when cached)
    wheelhouse: str | None = None
    wheels: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, object]:
        return {
            "runtimes": self.runtimes,
            "wheelhouse": self.wheelhouse,
            "wheels": self.wheels,
            "seconds": round(self.seconds, 1),
        }


def offered() -> list[str]:
    return [p for p in OFFERED_PYTHONS if p in available_pythons()]


def prepare(
    pythons: list[str],
    *,
    requirements: list[Path],
    wheelhouse: Path | None,
    log: logging.Logger,
) -> PrepareReport:
    started = time.monotonic()
    report = PrepareReport()
    envs = RuntimeEnvironments(log)
    for python in pythons:
        t0 = time.monotonic()
        root = envs.ensure_runtime(python)
        serving_layer(envs, python)  # the model server's own packages, next to the runtime
        report.runtimes[python] = round(time.monotonic() - t0, 1)
        if wheelhouse is not None:
            _download(root, python, requirements, wheelhouse, log)
    if wheelhouse is not None:
        report.wheelhouse = str(wheelhouse)
        report.wheels = len(list(wheelhouse.glob("*.whl")))
    report.seconds = time.monotonic() - started
    return report


def _download(runtime: Path, python: str, requirements: list[Path], dest: Path, log: logging.Logger) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    cmd = [str(runtime / "bin" / "python"), "-m", "pip", "download", "--quiet", "--prefer-binary", "--dest"]
    cmd.append(str(dest))
    for req in requirements:
        cmd += ["-r", str(req)]
    cmd += [*cmlops_requirements(), *BUILD_TOOLS]
    log.info("downloading wheels for Python %s into %s", python, dest)
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = " ".join((done.stderr or done.stdout).split()[-50:])
        raise RuntimeUnavailable(f"pip download for Python {python} failed: {tail}")


def check_pythons(requested: list[str]) -> list[str]:
    """Validate ``--python`` values; an empty list means every offered Python."""
    have = offered()
    bad = [p for p in requested if not re.fullmatch(r"3\.\d+", p) or p not in have]
    if bad:
        raise ValueError(f"--python {bad[0]!r} is not offered here; offered: {', '.join(have) or 'none'}")
    return requested or have
