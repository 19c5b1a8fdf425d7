"""What one promote or rollback reports: the versions involved, the steps, the outcome (data only)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from automation.errors import EXIT_OK


@dataclass
class VersionRef:
    """A registered model version (or a run not registered yet) and its MLflow run's metrics."""

    number: int | None
    version_id: str | None
    run_id: str
    experiment_id: str = ""
    project_id: str = ""
    metrics: dict[str, float] | None = None
    metrics_error: str | None = None
    stage: str | None = None
    build_id: str | None = None
    deployment_id: str | None = None

    @property
    def label(self) -> str:
        return f"version {self.number}" if self.number is not None else f"run {self.run_id} (unregistered)"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Step:
    step: str
    status: str  # ok | failed | skipped | planned
    seconds: float = 0.0
    detail: str = ""


@dataclass
class PromotionReport:
    """Everything CI needs to know about one promote or rollback (``--report FILE``)."""

    action: str  # promote | rollback
    spec: str
    dry_run: bool = False
    candidate: dict[str, Any] | None = None
    previous: dict[str, Any] | None = None
    gates: list[dict[str, Any]] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    outcome: str = ""  # promoted | noop | refused | planned | failed | busy
    failed_step: str | None = None
    rolled_back: bool = False
    serving: str | None = None  # what the endpoint answered with at the end (it was called)
    git_commit: str | None = None
    started_at: str = ""
    finished_at: str = ""
    error: dict[str, Any] | None = None
    exit_code: int = EXIT_OK

    @property
    def ok(self) -> bool:
        return self.exit_code == EXIT_OK

    @property
    def gates_passed(self) -> bool:
        return all(g["passed"] for g in self.gates)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        data["gates_passed"] = self.gates_passed
        return data
