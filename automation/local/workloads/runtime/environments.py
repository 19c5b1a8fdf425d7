"""Python environments for workloads: one per runtime (shared, cached), one per project (its own).

CML runs a workload in its runtime's image, and ``pip install`` inside it lands in the project's
``~/.local``: kept across that project's runs, invisible to other projects, never touching the
image. The local workspace reproduces that with two layers:

* a **runtime environment** per Python version: a virtualenv holding the Standard package set
  (``standard-python.txt``), built once with ``uv`` from its shared cache and reused by every
  project and every local workspace on the machine (``$CMLOPS_CACHE_DIR/runtimes``, default
  ``~/.cache/cmlops/runtimes``). It is never written to after it is built;
* a **project environment** per project and Python version, under the workspace's state folder: an
  empty virtualenv whose ``site-packages`` lists the runtime environment's after its own (a ``.pth``
  file), with ``pip``/``pip3`` commands on ``PATH``. A project's ``pip install`` goes there; pip
  refuses to uninstall what lies outside it, so upgrading a runtime package shadows it for that
  project only, as a user-site install does in CML. Each project environment also gets the local
  workspace's ``cmlapi`` package preinstalled (``cmlapi_package``), as newer CML runtimes have it.

Workspace-wide pip settings, like an administrator's pip mirror in CML, come from the server's
environment: ``CMLOPS_LOCAL_PIP_FIND_LINKS`` (a folder of wheels) and ``CMLOPS_LOCAL_PIP_NO_INDEX=1``
(no package index: offline machines and the test suite). They are written into each project
environment's ``pip.conf``; nothing of the person's own pip configuration reaches a workload.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from automation.local.workloads.procs import exclusive_lock
from automation.local.workloads.runtime import cmlapi_package
from automation.local.workloads.runtime.interpreters import find_python

PACKAGE_SET = Path(__file__).with_name("standard-python.txt")
MARKER = ".cmlops-runtime.json"
PTH_NAME = "_cml_runtime.pth"
BUILD_TIMEOUT = 900.0


def runtime_pth_line(env: ProjectEnv) -> str:
    """The ``.pth`` line that puts the runtime's packages after the project's own.

    ``site.addsitedir`` (not a bare path) so the runtime's own ``.pth`` files are processed too. In
    CML the runtime's packages are the system site-packages, which pip's isolated build environment
    hides from a build backend; here they come through this line, so it steps aside inside such an
    environment (pip puts its ``pip-build-env-*`` folder on ``sys.path`` before ``.pth`` files run).
    Otherwise ``pip install .`` of a project needing a newer setuptools than the runtime's builds
    with the runtime's and fails, where CML succeeds.
    """
    runtime_site = str(_site_packages(env.runtime_root, env.python_version))
    return (
        "import site, sys; any('pip-build-env-' in p for p in sys.path) or "
        f"site.addsitedir({runtime_site!r})\n"
    )


def _write_runtime_pth(env: ProjectEnv) -> None:
    (env.site_packages / PTH_NAME).write_text(runtime_pth_line(env), encoding="utf-8")


class RuntimeUnavailable(Exception):
    """The runtime's environment cannot be built here; the message says why and what to do."""


def cache_dir() -> Path:
    """Where runtime environments (and the shared pip cache of project environments) live."""
    explicit = os.environ.get("CMLOPS_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cmlops"


def package_lines() -> list[str]:
    lines = PACKAGE_SET.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def _site_packages(env: Path, python: str) -> Path:
    if os.name == "nt":  # pragma: no cover - the local workspace is documented as POSIX-only
        return env / "Lib" / "site-packages"
    return env / "lib" / f"python{python}" / "site-packages"


def _bin(env: Path) -> Path:
    return env / ("Scripts" if os.name == "nt" else "bin")


def uv_binary() -> str | None:
    """The ``uv`` executable: next to this interpreter (the ``uv`` package), else on PATH."""
    try:
        import uv  # the PyPI package ships the binary

        return str(uv.find_uv_bin())
    except (ImportError, FileNotFoundError):
        return shutil.which("uv")


@dataclass(frozen=True)
class ProjectEnv:
    """A project's environment for one Python version."""

    root: Path
    python_version: str
    runtime_root: Path

    @property
    def python(self) -> Path:
        return _bin(self.root) / ("python.exe" if os.name == "nt" else "python")

    @property
    def bin(self) -> Path:
        return _bin(self.root)

    @property
    def site_packages(self) -> Path:
        return _site_packages(self.root, self.python_version)

    @property
    def path_entries(self) -> list[str]:
        """What goes first on a workload's PATH: the project's commands, then the runtime's."""
        return [str(self.bin), str(_bin(self.runtime_root))]


class RuntimeEnvironments:
    """Builds and finds runtime and project environments; safe to call from several threads."""

    def __init__(
        self,
        log: logging.Logger,
        *,
        cache: Path | None = None,
        pip_find_links: str | None = None,
        pip_no_index: bool = False,
    ) -> None:
        self.log = log
        self.cache = cache or cache_dir()
        self.pip_find_links = pip_find_links
        self.pip_no_index = pip_no_index
        self._lock = threading.Lock()
        self._project_locks: dict[str, threading.Lock] = {}
        self._roots: dict[str, Path] = {}

    @classmethod
    def from_environment(cls, log: logging.Logger) -> RuntimeEnvironments:
        links = os.environ.get("CMLOPS_LOCAL_PIP_FIND_LINKS") or None
        no_index = os.environ.get("CMLOPS_LOCAL_PIP_NO_INDEX", "").strip().lower() in ("1", "true", "yes")
        return cls(log, pip_find_links=links, pip_no_index=no_index)

    # --- runtime environments ---------------------------------------------------------------

    def runtime_key(self, python: str, interpreter: str) -> str:
        text = json.dumps([python, os.path.realpath(interpreter), package_lines()])
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def runtime_root(self, python: str) -> Path:
        """Where the runtime of ``python`` lives (keyed by interpreter and package set; computed once)."""
        root = self._roots.get(python)
        if root is None:
            interpreter = find_python(python)
            if interpreter is None:
                raise RuntimeUnavailable(f"no Python {python} interpreter on this machine")
            key = self.runtime_key(python, interpreter)
            root = self._roots[python] = self.cache / "runtimes" / f"standard-python{python}-{key}"
        return root

    def runtime_ready(self, python: str) -> bool:
        try:
            return (self.runtime_root(python) / MARKER).is_file()
        except RuntimeUnavailable:
            return False

    def ensure_runtime(self, python: str, progress: logging.Logger | None = None) -> Path:
        """The runtime environment of ``python`` ("3.10"), built on first use (about 5 s with a warm
        uv cache; the first ever build downloads the package set from the package index)."""
        root = self.runtime_root(python)
        if (root / MARKER).is_file():
            return root
        with exclusive_lock(root.with_name(root.name + ".lock")):
            if (root / MARKER).is_file():
                return root
            self._build_runtime(python, root, progress or self.log)
        return root

    def _build_runtime(self, python: str, root: Path, log: logging.Logger) -> None:
        interpreter = find_python(python)
        assert interpreter is not None
        if root.exists():
            shutil.rmtree(root)  # a build that died half-way
        started = time.monotonic()
        log.info("building the Standard runtime environment for Python %s in %s", python, root)
        uv = uv_binary()
        env = dict(os.environ, UV_PYTHON_DOWNLOADS="never")
        if uv:
            self._run([uv, "venv", "--quiet", "--python", interpreter, str(root)], env)
            # Bytecode compiled once here, so no engine pays for compiling IPython or MLflow.
            install = [
                uv,
                "pip",
                "install",
                "--quiet",
                "--compile-bytecode",
                "--python",
                str(_bin(root) / "python"),
            ]
        else:
            self._run([interpreter, "-m", "venv", str(root)], env)
            install = [str(_bin(root) / "python"), "-m", "pip", "install", "--quiet"]
        self._run([*install, "-r", str(PACKAGE_SET)], env)
        marker = {"python": python, "interpreter": interpreter, "packages": package_lines()}
        marker["seconds"] = round(time.monotonic() - started, 1)
        (root / MARKER).write_text(json.dumps(marker, indent=1), encoding="utf-8")
        log.info("runtime environment for Python %s built in %.1f s", python, marker["seconds"])

    def _run(self, cmd: list[str], env: dict[str, str]) -> None:
        try:
            done = subprocess.run(
                cmd, env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise RuntimeUnavailable(f"{Path(cmd[0]).name} failed: {exc}") from exc
        if done.returncode != 0:
            tail = " ".join((done.stderr or done.stdout).split()[-60:])
            raise RuntimeUnavailable(
                f"building the runtime environment failed ({Path(cmd[0]).name} exit {done.returncode}): {tail}; "
                "the first build needs the package index (or a uv cache that holds the packages)"
            )

    # --- project environments ----------------------------------------------------------------

    def project_env(self, envs_root: Path, python: str, progress: logging.Logger | None = None) -> ProjectEnv:
        """The project's environment for ``python``, created on first use under ``envs_root``."""
        runtime = self.ensure_runtime(python, progress)
        root = envs_root / f"python{python}"
        env = ProjectEnv(root, python, runtime)
        with self._lock:
            lock = self._project_locks.setdefault(str(root), threading.Lock())
        with lock:
            if not (env.site_packages / PTH_NAME).is_file():
                self._create_project_env(env)
            elif (env.site_packages / PTH_NAME).read_text(encoding="utf-8") != runtime_pth_line(env):
                _write_runtime_pth(env)  # made by an older cmlops: same packages, current rule
            self._write_pip_conf(env)
            if cmlapi_package.ensure_installed(env.site_packages):
                self.log.info("cmlapi %s installed in %s", cmlapi_package.version(), env.root)
        return env

    def _create_project_env(self, env: ProjectEnv) -> None:
        interpreter = find_python(env.python_version)
        assert interpreter is not None
        if env.root.exists():
            shutil.rmtree(env.root)
        env.root.parent.mkdir(parents=True, exist_ok=True)
        self._run([interpreter, "-m", "venv", "--without-pip", str(env.root)], dict(os.environ))
        _write_runtime_pth(env)
        for name in ("pip", "pip3", f"pip{env.python_version}"):
            script = env.bin / name
            # A shell wrapper: a '#!' line naming a long state path can pass the kernel's limit.
            script.write_text(f'#!/bin/sh\nexec "{env.python}" -m pip "$@"\n', encoding="utf-8")
            script.chmod(0o755)

    def _write_pip_conf(self, env: ProjectEnv) -> None:
        lines = ["[global]", "disable-pip-version-check = true", f"cache-dir = {self.cache / 'pip'}"]
        if self.pip_find_links:
            lines.append(f"find-links = {self.pip_find_links}")
        if self.pip_no_index:
            lines.append("no-index = true")
        text = "\n".join(lines) + "\n"
        conf = env.root / "pip.conf"
        if not conf.is_file() or conf.read_text(encoding="utf-8") != text:
            conf.write_text(text, encoding="utf-8")


def kernel_runner_path() -> Path:
    """The script that runs a workload the way CML's Jupyter kernel does (stdlib + IPython)."""
    return Path(__file__).with_name("kernel_runner.py")
