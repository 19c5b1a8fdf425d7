"""The server's context: state folder, store, key, address, and the background workers."""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field

from automation.local.api.mlflow_tracking import TrackingServer
from automation.local.core.timefmt import now
from automation.local.state import records
from automation.local.state.keys import load_or_create_api_key
from automation.local.state.mlflow_bridge import MlflowBridge
from automation.local.state.paths import StatePaths
from automation.local.state.records import Job, Project
from automation.local.state.sessions import UiSessions, cookie_name
from automation.local.state.store import Store
from automation.local.workloads.applications import ApplicationSupervisor
from automation.local.workloads.builds import BuildWorker
from automation.local.workloads.deployments import DeploymentSupervisor
from automation.local.workloads.engines import EngineContexts, EngineLauncher
from automation.local.workloads.jobruns import JobRunner
from automation.local.workloads.runtime.environments import RuntimeEnvironments
from automation.local.workloads.schedules import Scheduler, clock_from_env, tick_from_env

DEFAULT_SERVING_MODULE = "automation.local.serving"


@dataclass
class Workspace:
    paths: StatePaths
    port: int
    log: logging.Logger
    serving_module: str = DEFAULT_SERVING_MODULE
    started_at: float = field(default_factory=now)

    def __post_init__(self) -> None:
        self.paths.ensure()
        self.api_key = load_or_create_api_key(self.paths.api_key)
        self.store = Store(self.paths.db)
        self.mlflow = MlflowBridge(self.paths, self.store, self.log.getChild("mlflow"))
        self.environments = RuntimeEnvironments.from_environment(self.log.getChild("runtimes"))
        self.engines = EngineContexts()
        self.sessions = UiSessions(self.api_key)
        self.tracking = TrackingServer(self.paths, self.api_key, self.engines, self.sessions, self.ui_cookie)
        self.launcher = EngineLauncher(self.paths, self.environments, self.engines, self)
        self.runner = JobRunner(self)
        self.builds = BuildWorker(self)
        self.deployments = DeploymentSupervisor(self)
        self.applications = ApplicationSupervisor(self)
        self.scheduler = Scheduler(
            jobs=lambda: records.load_all(self.store, Job),
            mark_fired=lambda job_id, at: records.patch(self.store, Job, job_id, last_fired_at=at),
            fire=self._fire_scheduled,
            log=self.log.getChild("scheduler"),
            clock=clock_from_env(os.environ),
            interval=tick_from_env(os.environ),
        )

    @classmethod
    def open(cls, paths: StatePaths, port: int, log: logging.Logger) -> Workspace:
        return cls(paths, port, log)

    def _fire_scheduled(self, job: Job) -> str:
        project = records.load(self.store, Project, job.project_id)
        if project is None or not project.ready:
            raise RuntimeError(f"project {job.project_id!r} is not ready")
        return self.runner.create_run(project, job, None, None).id

    @property
    def domain(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.domain}"

    @property
    def ui_cookie(self) -> str:
        """The web UI's session cookie (named per port: browsers share cookies across ports)."""
        return cookie_name(self.port)

    @property
    def model_service_url(self) -> str:
        return f"{self.url}/model"

    def start_background(self) -> None:
        """Everything slow happens after the server already answers /health."""
        self.runner.recover()
        self.deployments.mark_relaunching()  # before the server answers: calls wait for them
        if not self.mlflow.existed:
            self.mlflow.start_warm_up()

        def resume() -> None:
            self.builds.recover()
            self.deployments.restore()
            self.applications.restore()

        threading.Thread(target=resume, name="resume", daemon=True).start()
        self.scheduler.start()

    def shutdown(self) -> None:
        self.scheduler.stop()
        self.runner.stop_all("shutdown")
        self.deployments.shutdown()
        self.applications.shutdown()
        self.builds.shutdown()
