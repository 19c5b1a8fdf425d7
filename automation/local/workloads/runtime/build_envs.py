"""Where a model build and its deployments run: the build's runtime, never cmlops' own interpreter.

CML builds a model into an image of the runtime the build names and serves it from that image. The
local workspace reproduces it with the environments of ``environments.py``:

* a **registry model** (an MLflow model version) runs in a *model environment*: the runtime's
  environment plus the model's own ``requirements.txt`` (what MLflow recorded when it was logged),
  without MLflow itself, which the runtime provides as CML's add-on. Model environments are layered
  on the runtime like project environments and shared by every build with the same Python and
  requirements (``.cmlops/envs/models/<hash>``), so a second build of the same kind costs nothing;
* a **file-based model** (``file_path`` + ``function_name``) runs in its project's environment: the
  project's files and whatever the project installed (CML's image holds ``/home/cdsw`` and its
  ``~/.local``).

The serving wrapper (``automation.local.serving``: the build check and the model server) reaches the
model's interpreter through ``PYTHONPATH``: a folder holding only the ``automation`` package (a link)
and a per-Python folder with the wrapper's HTTP stack (``serving-python.txt``: uvicorn, httptools),
built once with uv next to the runtime environments, never inside them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

from automation.local.workloads.procs import exclusive_lock
from automation.local.workloads.runtime.environments import (
    BUILD_TIMEOUT,
    ProjectEnv,
    RuntimeEnvironments,
    RuntimeUnavailable,
    uv_binary,
)
from automation.local.workloads.runtime.interpreters import find_python

SERVING_SET = Path(__file__).with_name("serving-python.txt")
MARKER = ".cmlops-serving.json"
INSTALLED = ".cmlops-requirements.json"
# The runtime's MLflow is CML's add-on (mlflow-skinny 2.19): a model's own pin is never installed over
# it (CML warns that a newer mlflow in a project breaks its plugin).
RUNTIME_PROVIDED = frozenset({"mlflow", "mlflow-skinny", "mlflow-cml-plugin"})


def serving_lines() -> list[str]:
    lines = SERVING_SET.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def _requirement_name(line: str) -> str:
    name = line
    for stop in "<>=!~;[ @":
        name = name.split(stop, 1)[0]
    return name.strip().lower().replace("_", "-")


def model_requirements(text: str) -> list[str]:
    """The lines of a model's requirements.txt a model environment installs (sorted, de-duplicated):
    package requirements only (no pip options), without the runtime's own MLflow."""
    kept = set()
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-")):
            continue
        if _requirement_name(line) in RUNTIME_PROVIDED:
            continue
        kept.add(line)
    return sorted(kept)


def _layer_root(environments: RuntimeEnvironments, python: str) -> Path:
    key = hashlib.sha256(json.dumps([python, serving_lines()]).encode()).hexdigest()[:12]
    return environments.cache / "runtimes" / f"serving-python{python}-{key}"


def serving_layer_ready(environments: RuntimeEnvironments, python: str) -> bool:
    return (_layer_root(environments, python) / MARKER).is_file()


def serving_layer(environments: RuntimeEnvironments, python: str) -> Path:
    """The wrapper's HTTP stack for ``python``, built once per machine (about a second with uv; the
    first build takes the packages from the package index, or from the workspace's find-links)."""
    root = _layer_root(environments, python)
    if (root / MARKER).is_file():
        return root
    interpreter = find_python(python)
    if interpreter is None:
        raise RuntimeUnavailable(f"no Python {python} interpreter on this machine")
    with exclusive_lock(root.with_name(root.name + ".lock")):
        if not (root / MARKER).is_file():
            environments.log.info(
                "installing the model server's packages for Python %s into %s", python, root
            )
            uv = uv_binary()
            cmd = (
                [uv, "pip", "install", "--python", interpreter]
                if uv
                else [interpreter, "-m", "pip", "install"]
            )
            links = environments.pip_find_links
            cmd += ["--quiet", *(["--find-links", links] if links else [])]
            cmd += ["--no-deps", "--target", str(root), "-r", str(SERVING_SET)]
            _run(
                cmd,
                dict(os.environ, UV_PYTHON_DOWNLOADS="never"),
                what="installing the model server's packages (`cmlops local prepare` does it while online)",
            )
            (root / MARKER).write_text(json.dumps({"packages": serving_lines()}), encoding="utf-8")
    return root


class BuildEnvironments:
    """Model environments, the serving wrapper's packages and the path to cmlops' serving code."""

    def __init__(self, environments: RuntimeEnvironments, envs_root: Path, wrapper_root: Path) -> None:
        self.environments = environments
        self.envs_root = envs_root
        self.wrapper_root = wrapper_root
        self.log: logging.Logger = environments.log
        self._lock = threading.Lock()
        self._env_locks: dict[str, threading.Lock] = {}

    # --- the serving wrapper ---------------------------------------------------------------------

    def wrapper_path(self) -> Path:
        """A folder whose only entry is a link to cmlops' ``automation`` package (the serving code)."""
        import automation

        package = Path(automation.__file__).resolve().parent
        link = self.wrapper_root / "automation"
        with self._lock:
            if not (link.is_symlink() and Path(os.readlink(link)) == package):
                self.wrapper_root.mkdir(parents=True, exist_ok=True)
                tmp = self.wrapper_root / f".automation.{os.getpid()}"
                tmp.unlink(missing_ok=True)
                tmp.symlink_to(package, target_is_directory=True)
                os.replace(tmp, link)
        return self.wrapper_root

    def python_path(self, python: str) -> list[str]:
        """What goes on ``PYTHONPATH`` of a build worker or a model server running on ``python``."""
        return [str(self.wrapper_path()), str(serving_layer(self.environments, python))]

    # --- model environments ----------------------------------------------------------------------

    def model_env(self, python: str, requirements: list[str], note: Callable[[str], None]) -> ProjectEnv:
        """The runtime of ``python`` plus ``requirements``, installed on first use (shared by builds)."""
        key = hashlib.sha256(json.dumps([python, requirements]).encode()).hexdigest()[:16]
        env = self.environments.project_env(self.envs_root / key, python)
        with self._lock:
            lock = self._env_locks.setdefault(key, threading.Lock())
        with lock:
            done = env.root / INSTALLED
            if requirements and not done.is_file():
                note(f"installing the model's requirements into {env.root}: {' '.join(requirements)}")
                # --no-compile: a third of the time; the modules a model imports compile on first use.
                cmd = [str(env.python), "-m", "pip", "install", "--quiet", "--no-compile", *requirements]
                # HOME is the environment itself, so no user pip.conf applies: the workspace's settings only.
                pip_env = {
                    **_clean_env(),
                    "HOME": str(env.root),
                    "PIP_CONFIG_FILE": str(env.root / "pip.conf"),
                }
                _run(cmd, pip_env, what="installing the model's requirements")
            if not done.is_file():
                done.write_text(json.dumps(requirements), encoding="utf-8")
        return env


def _clean_env() -> dict[str, str]:
    """pip's environment: the machine's PATH and proxies, nothing of the person's pip settings."""
    keep = ("PATH", "TMPDIR", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy")
    return {name: os.environ[name] for name in keep if name in os.environ}


def _run(cmd: list[str], env: dict[str, str], *, what: str) -> None:
    try:
        done = subprocess.run(
            cmd, env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuntimeUnavailable(f"{what} failed: {exc}") from exc
    if done.returncode != 0:
        tail = " ".join((done.stderr or done.stdout).split()[-60:])
        raise RuntimeUnavailable(f"{what} failed (exit {done.returncode}): {tail}")
