"""Where the local workspace keeps its state: one folder, laid out the same way every time.

Stdlib only: the control functions (imported by the CLI) and the server both use it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_STATE_DIR = Path(".cmlops")


@dataclass(frozen=True)
class StatePaths:
    """Every file and folder of one local workspace, derived from its state folder."""

    root: Path

    @classmethod
    def of(cls, state_dir: Path | str) -> StatePaths:
        return cls(Path(state_dir).expanduser().resolve())

    @property
    def db(self) -> Path:
        return self.root / "workspace.db"

    @property
    def mlflow_db(self) -> Path:
        return self.root / "mlflow.db"

    @property
    def artifacts(self) -> Path:
        return self.root / "mlartifacts"

    @property
    def projects(self) -> Path:
        return self.root / "projects"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def jobrun_logs(self) -> Path:
        return self.logs / "jobruns"

    @property
    def build_logs(self) -> Path:
        return self.logs / "builds"

    @property
    def deployment_logs(self) -> Path:
        return self.logs / "deployments"

    @property
    def deployment_configs(self) -> Path:
        return self.root / "deployments"

    @property
    def server_log(self) -> Path:
        return self.logs / "server.log"

    @property
    def server_json(self) -> Path:
        return self.root / "server.json"

    @property
    def api_key(self) -> Path:
        return self.root / "api_key"

    @property
    def lock(self) -> Path:
        return self.root / ".lock"

    @property
    def server_lock(self) -> Path:
        """Held (filelock) by the one server of this folder for its whole life."""
        return self.root / "server.lock"

    @property
    def server_owner(self) -> Path:
        """The address of the server holding ``server_lock`` (written by that server only)."""
        return self.root / "server.owner"

    @property
    def tracking_uri(self) -> str:
        """The MLflow tracking and registry URI of this workspace (an absolute sqlite path)."""
        return "sqlite:///" + str(self.mlflow_db)

    def log_files(self, ident: str) -> list[Path]:
        """Where the log of a job run, build, deployment or application with this id may be."""
        folders = (self.jobrun_logs, self.build_logs, self.deployment_logs, self.logs / "applications")
        return [folder / f"{ident}.log" for folder in folders]

    def project_dir(self, project_id: str) -> Path:
        return self.projects / project_id

    @property
    def envs(self) -> Path:
        """Per-project Python environments (CML's per-project ``~/.local``), outside the project files."""
        return self.root / "envs"

    def project_envs(self, project_id: str) -> Path:
        return self.envs / project_id

    @property
    def model_envs(self) -> Path:
        """Registry models' environments: a runtime plus a model's requirements (shared by builds)."""
        return self.envs / "models"

    @property
    def builds(self) -> Path:
        """Each build's copy of its model (``builds/<id>/``): what CML bakes into the build's image."""
        return self.root / "builds"

    @property
    def serving_wrapper(self) -> Path:
        """The folder a build worker or model server finds cmlops' serving code in (PYTHONPATH)."""
        return self.root / "serving"

    def ensure(self) -> None:
        """Create the folder tree. A root created here is private to the user (it holds the API key,
        itself 0600); an existing folder given as the state folder keeps its mode."""
        if not self.root.is_dir():
            self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(self.root, 0o700)  # mkdir's mode is filtered by the umask
        for folder in (
            self.artifacts,
            self.projects,
            self.envs,
            self.builds,
            self.logs,
            self.jobrun_logs,
            self.build_logs,
            self.deployment_logs,
            self.deployment_configs,
        ):
            folder.mkdir(parents=True, exist_ok=True)
