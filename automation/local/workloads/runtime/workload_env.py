"""The environment a workload starts with: what a CML engine has, and nothing of the person's shell.

CML starts an engine in a container: a fixed system ``PATH`` (plus the runtime's and the project's
commands), ``HOME`` the project folder (``/home/cdsw``), and then the workspace's, project's, job's
and run's variables and CML's own (``CDSW_*``). None of the variables of the shell that started the
local workspace reach a workload (no ``AWS_*``, ``GITHUB_TOKEN``, ``CML_API_KEY``, virtualenv or
pyenv settings), except the machine's network settings (proxy variables), which a workspace
administrator would configure for engines in CML too.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

SYSTEM_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
NETWORK_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")
# What a cmlops service process (a model server, a build check) keeps of the server's environment:
# where Python finds cmlops (PYTHONPATH, for source checkouts), HOME and TMPDIR for libraries' caches.
SERVICE_VARIABLES = ("PYTHONPATH", "HOME", "TMPDIR")


def _compose(
    kept: Iterable[str], base: Mapping[str, str], layers: Iterable[Mapping[str, str] | None]
) -> dict[str, str]:
    """``kept`` variables of the server's environment, then ``base``, then each layer in order."""
    env = {name: os.environ[name] for name in kept if name in os.environ}
    env.update({"LANG": "C.UTF-8", "PYTHONUNBUFFERED": "1", **base})
    for layer in layers:
        env.update({str(k): str(v) for k, v in (layer or {}).items()})
    return env


def engine_environment(
    *,
    home: Path,
    path_entries: Iterable[str],
    layers: Iterable[Mapping[str, str] | None],
    cml: Mapping[str, str],
    hostname: str,
) -> dict[str, str]:
    """Build a workload's environment, lowest precedence first; ``cml`` is set last (not overridable)."""
    base = {
        "PATH": os.pathsep.join([*path_entries, *SYSTEM_PATH]),
        "HOME": str(home),
        "SHELL": "/bin/bash",
        "USER": "cdsw",
        "LOGNAME": "cdsw",
        "HOSTNAME": hostname,
    }
    return _compose(NETWORK_VARIABLES, base, [*layers, cml])


def service_environment(layers: Iterable[Mapping[str, str] | None]) -> dict[str, str]:
    """The environment of a model server or build check: cmlops' interpreter on a system PATH, the
    network settings, and ``layers`` (MLflow's store, the deployment's variables); nothing else of the
    server's shell (no API keys, cloud credentials or CML_/CDSW_ settings), as CML's model replicas
    see only what the model is given."""
    base = {"PATH": os.pathsep.join([str(Path(sys.executable).parent), *SYSTEM_PATH])}
    return _compose((*NETWORK_VARIABLES, *SERVICE_VARIABLES), base, layers)


def runtime_service_environment(
    *,
    path_entries: Iterable[str],
    python_path: Iterable[str],
    home: Path,
    layers: Iterable[Mapping[str, str] | None],
) -> dict[str, str]:
    """The environment of a build worker or a model server on a runtime's Python: the environment's
    commands on a system PATH, the serving wrapper on PYTHONPATH, ``HOME`` the project folder, the
    network settings and ``layers``; nothing else of the server's shell, as for ``service_environment``."""
    base = {
        "PATH": os.pathsep.join([*path_entries, *SYSTEM_PATH]),
        "PYTHONPATH": os.pathsep.join(python_path),
        "HOME": str(home),
    }
    return _compose((*NETWORK_VARIABLES, "TMPDIR"), base, layers)
