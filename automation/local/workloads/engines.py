"""Prepare an engine: the command and environment a job run or an application starts with.

One place decides how a workload runs, so jobs and applications behave alike and as in CML:
the runtime named by ``runtime_identifier`` (a GPU edition is refused: the local workspace has no
GPU), the project's own environment for that runtime's Python (built on first use), the
IPython-compatible kernel runner, CML's variables, and MLflow reached through the workspace's
tracking server with the engine's identity (``mlflow_tracking.py``).
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from automation.local.core.shapes import USERNAME
from automation.local.state.paths import StatePaths
from automation.local.state.records import Project
from automation.local.workloads.runtime.environments import (
    RuntimeEnvironments,
    RuntimeUnavailable,
    kernel_runner_path,
)
from automation.local.workloads.runtime.workload_env import engine_environment
from automation.local.workloads.runtimes import gpu_refusal, profile_of, why_unknown

PREFIX = "/mlflow"  # where the workspace serves MLflow's tracking server (api/mlflow_tracking.py)
ENGINES = "/engines/"


class EngineContexts:
    """engine id -> the tags a run created by that engine gets (registered at spawn)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tags: dict[str, dict[str, str]] = {}

    def register(self, engine_id: str, tags: dict[str, str]) -> None:
        with self._lock:
            self._tags[engine_id] = {**tags, "cml.engine_id": engine_id}

    def forget(self, engine_id: str) -> None:
        with self._lock:
            self._tags.pop(engine_id, None)

    def tags(self, engine_id: str) -> dict[str, str] | None:
        with self._lock:
            found = self._tags.get(engine_id)
            return dict(found) if found is not None else None


def tracking_uri(workspace_url: str, engine_id: str) -> str:
    return f"{workspace_url}{PREFIX}{ENGINES}{engine_id}"


class LaunchRefused(Exception):
    """The workload cannot start here; the message says why (it goes into the workload's log)."""


class WorkspaceIdentity(Protocol):
    @property
    def url(self) -> str: ...

    @property
    def domain(self) -> str: ...

    api_key: str


@dataclass(frozen=True)
class EngineLaunch:
    cmd: list[str]
    env: dict[str, str]
    engine_id: str
    needle: str  # a string unique to this engine's command line (to recognise its process later)


def check_runtime(runtime_identifier: str | None) -> str | None:
    """Why a workload on this runtime cannot run locally, or None when it can."""
    profile = profile_of(runtime_identifier)
    if profile is None:
        return why_unknown(runtime_identifier or "")
    if profile.gpu:
        return gpu_refusal(profile)
    return None


class EngineLauncher:
    def __init__(
        self,
        paths: StatePaths,
        environments: RuntimeEnvironments,
        engines: EngineContexts,
        identity: WorkspaceIdentity,
    ) -> None:
        self.paths = paths
        self.environments = environments
        self.engines = engines
        self.identity = identity

    def prepare(
        self,
        *,
        project: Project,
        runtime_identifier: str | None,
        script: Path,
        arguments: list[str],
        layers: list[Mapping[str, str] | None],
        engine_id: str,
        tags: Mapping[str, str],
        extra_cml: Mapping[str, str] | None = None,
        note: Callable[[str], None] = lambda _text: None,
    ) -> EngineLaunch:
        refusal = check_runtime(runtime_identifier)
        if refusal:
            raise LaunchRefused(refusal)
        profile = profile_of(runtime_identifier)
        assert profile is not None
        if not self.environments.runtime_ready(profile.python):
            note(
                f"preparing the Standard runtime environment for Python {profile.python} "
                "(first use on this machine; every later engine reuses it)"
            )
        try:
            env = self.environments.project_env(self.paths.project_envs(project.id), profile.python)
        except RuntimeUnavailable as exc:
            raise LaunchRefused(str(exc)) from exc
        connection = str(Path(tempfile.gettempdir()) / f"kernel-{engine_id}.json")
        cmd = [
            str(env.python),
            str(kernel_runner_path()),
            profile.editor,
            str(script),
            connection,
            *arguments,
        ]
        url = self.identity.url
        mlflow = {
            "MLFLOW_TRACKING_URI": tracking_uri(url, engine_id),
            "MLFLOW_TRACKING_TOKEN": self.identity.api_key,
        }
        cml = {
            "CDSW_PROJECT_ID": project.id,
            "CDSW_PROJECT": project.name,
            "CDSW_PROJECT_URL": f"{url}/api/v1/projects/{USERNAME}/{project.slug}",
            "CDSW_ENGINE_ID": engine_id,
            "CDSW_API_URL": f"{url}/api/v1",
            "CDSW_DOMAIN": self.identity.domain,
            "CDSW_APIV2_KEY": self.identity.api_key,
            "PROJECT_OWNER": USERNAME,
            **(extra_cml or {}),
        }
        self.engines.register(engine_id, {"cml.project_id": project.id, **tags})
        environment = engine_environment(
            home=self.paths.project_dir(project.id),
            path_entries=env.path_entries,
            layers=[mlflow, *layers],
            cml=cml,
            hostname=engine_id,
        )
        return EngineLaunch(cmd, environment, engine_id, connection)
