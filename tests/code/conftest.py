"""Fixtures for the code/ scripts: a temporary MLflow store, a script runner, a local data server.

Every script runs as a subprocess with ``sys.executable`` against one SQLite tracking store per test
session (``sqlite:///<tmp>/mlflow.db``). Artifacts: with a SQLite store and no artifact root, MLflow
gives each new experiment ``./mlruns/<id>`` of the process that creates it, stored as an absolute
path; so the scripts run with the store's folder as working directory and everything (database,
artifacts, predictions) stays in that temporary folder, found by later processes wherever they run.

Speed (2 cores; importing mlflow costs ~2 s a process): the runs that write to the store happen
once per session, one after the other (``trained``); read-only and failing runs are batched and run
two at a time (``Store.run_all``), and tests assert on the results.
"""

from __future__ import annotations

import hashlib
import http.server
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CODE_DIR = REPO_ROOT / "code"
DATA_SHA256 = "66b071bfe464e02aaef19d61fe28ce99b6f75efebb81be0fb58555713c3ab7a6"
SCRIPT_TIMEOUT = 180  # a guard against a hung subprocess, not a performance assertion

# Variables that would change what a script does; each test sets the ones it means to.
_SCRUBBED = {
    "WINE_DATA",
    "WINE_DATA_URL",
    "EXPERIMENT_NAME",
    "EXPERIMENT_ID",
    "ALPHA",
    "L1_RATIO",
    "MODEL_URI",
    "MODEL_ARTIFACT_PATH",
    "REGISTER_MODEL_NAME",
}
_FINAL_LINE = re.compile(r"^run_id=(?P<run_id>\S+) experiment_id=(?P<experiment_id>\S+)")


def wine_data_path() -> Path:
    """The real data file: ``WINE_DATA`` if set (CI sets it), else the shared copy beside the repo."""
    return Path(os.environ.get("WINE_DATA") or REPO_ROOT.parent / "shared" / "data" / "wine-quality.csv")


@pytest.fixture(scope="session")
def wine_data() -> Path:
    path = wine_data_path()
    if not path.is_file():
        pytest.fail(f"wine data not found at {path}; set WINE_DATA to wine-quality.csv")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == DATA_SHA256, f"{path} is not the expected file"
    return path


@pytest.fixture(scope="session")
def features(wine_data: Path) -> list[str]:
    """The 11 feature names as the data file's header spells them (every column but ``quality``)."""
    header = wine_data.read_text(encoding="utf-8").splitlines()[0]
    names = [name.strip('"') for name in header.split(",")]
    assert names[-1] == "quality" and len(names) == 12, header
    return names[:-1]


@pytest.fixture(scope="session")
def wine() -> ModuleType:
    """``code/wine.py`` imported in-process (code/ is a folder of scripts, not a package)."""
    spec = importlib.util.spec_from_file_location("wine", CODE_DIR / "wine.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("wine", module)
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class Ran:
    """A finished script run, with the assertions every test makes on one."""

    proc: subprocess.CompletedProcess[str]

    @property
    def stdout(self) -> str:
        return self.proc.stdout

    @property
    def stderr(self) -> str:
        return self.proc.stderr

    def ok(self) -> Ran:
        """Assert the script succeeded, showing its output when it did not."""
        assert self.proc.returncode == 0, (
            f"exit {self.proc.returncode}\nstdout:\n{self.stdout}\nstderr:\n{self.stderr}"
        )
        return self

    def last_line(self) -> str:
        lines = self.stdout.strip().splitlines()
        assert lines, f"no output; stderr:\n{self.stderr}"
        return lines[-1]

    def ids(self) -> tuple[str, str]:
        """``(run_id, experiment_id)`` from a script's last stdout line."""
        match = _FINAL_LINE.match(self.last_line())
        assert match, f"unexpected final line: {self.last_line()!r}"
        return match["run_id"], match["experiment_id"]

    def one_line_error(self, code: int, *needles: str) -> str:
        """Assert exit ``code``, exactly one ``error:`` line on stderr, no traceback; return the line."""
        assert self.proc.returncode == code, f"exit {self.proc.returncode}\nstderr:\n{self.stderr}"
        assert "Traceback" not in self.stderr, self.stderr
        errors = [line for line in self.stderr.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1, self.stderr
        for needle in needles:
            assert needle in errors[0], errors[0]
        return errors[0]


@dataclass(frozen=True)
class Job:
    """One script invocation: ``code_dir/script args`` in ``cwd``; env values of None unset a variable."""

    script: str
    args: tuple[str, ...] = ()
    env: dict[str, str | None] = field(default_factory=dict)
    cwd: Path | None = None
    code_dir: Path = CODE_DIR


@dataclass
class Store:
    """A temporary tracking store and a way to run the scripts against it."""

    root: Path
    data: Path
    uri: str = field(init=False)

    def __post_init__(self) -> None:
        self.uri = f"sqlite:///{self.root / 'mlflow.db'}"

    def env(self, extra: dict[str, str | None]) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in _SCRUBBED and not key.startswith(("MLFLOW_", "CDSW_"))
        }
        env.update(MLFLOW_TRACKING_URI=self.uri, WINE_DATA=str(self.data), PYTHONDONTWRITEBYTECODE="1")
        for key, value in extra.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return env

    def execute(self, job: Job) -> Ran:
        proc = subprocess.run(
            [sys.executable, str(job.code_dir / job.script), *job.args],
            cwd=job.cwd or self.root,
            env=self.env(job.env),
            capture_output=True,
            text=True,
            timeout=SCRIPT_TIMEOUT,
            check=False,
        )
        return Ran(proc)

    @staticmethod
    def job(
        script: str, *args: str, cwd: Path | None = None, code_dir: Path = CODE_DIR, **env: str | None
    ) -> Job:
        """Describe ``code/<script> args``; keyword arguments set (or with None, unset) env vars."""
        return Job(script, args, env, cwd, code_dir)

    def run(self, script: str, *args: str, cwd: Path | None = None, **env: str | None) -> Ran:
        """Run ``code/<script>`` now (see ``job``)."""
        return self.execute(self.job(script, *args, cwd=cwd, **env))

    def run_all(self, jobs: dict[str, Job]) -> dict[str, Ran]:
        """Run independent jobs two at a time (at most one of them may write to the store)."""
        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = {name: pool.submit(self.execute, job) for name, job in jobs.items()}
            return {name: future.result() for name, future in futures.items()}

    def client(self):  # -> mlflow.MlflowClient, imported lazily
        from mlflow import MlflowClient

        return MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)


@pytest.fixture(scope="session")
def store(tmp_path_factory: pytest.TempPathFactory, wine_data: Path) -> Store:
    return Store(root=tmp_path_factory.mktemp("mlflow-store"), data=wine_data)


@pytest.fixture(autouse=True)
def _in_process_mlflow_uses_the_store(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process MLflow calls that ignore a client's URI (MLflow 3 resolves a run's logged models
    through the global URI) must hit the temporary store, never create ./mlflow.db in the repo."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store.uri)


@dataclass(frozen=True)
class Trained:
    """What the session's writing runs produced (see ``trained``)."""

    part1_run: str  # 01_Experiment.py, positional hyper-parameters, experiment "part1-only"
    plain_run: str  # 02 with defaults: artifact "model", no CML tags, not registered
    cml_run: str  # 02 as a CML job runs it: env hyper-parameters, CML tags, registered
    experiment_id: str  # wine-quality-test, holding plain_run and cml_run
    plain: Ran
    cml: Ran
    tour_active: Ran  # api_tour/01_Active_Experiment.py
    tour_artifacts: Ran  # api_tour/02_Log_Artifacts_Tags.py --experiment tour-artifacts
    cml_artifact: str = "wine_model"
    registered_name: str = "wine-quality-model"


@pytest.fixture(scope="session")
def trained(store: Store) -> Trained:
    """Every run that writes to the store, once per session and one at a time."""
    part1_run, _ = store.run("01_Experiment.py", "0.25", "0.75", "--experiment", "part1-only").ok().ids()
    plain = store.run("02_Experiment_log_model.py").ok()
    cml = store.run(
        "02_Experiment_log_model.py",
        ALPHA="0.1",
        L1_RATIO="0.2",
        MODEL_ARTIFACT_PATH="wine_model",
        REGISTER_MODEL_NAME="wine-quality-model",
        CDSW_ENGINE_ID="engine-abc123",
        CDSW_PROJECT_ID="proj-xyz789",
    ).ok()
    (plain_run, experiment_id), (cml_run, cml_experiment_id) = plain.ids(), cml.ids()
    assert cml_experiment_id == experiment_id
    tour_active = store.run("api_tour/01_Active_Experiment.py")
    tour_artifacts = store.run("api_tour/02_Log_Artifacts_Tags.py", "--experiment", "tour-artifacts")
    return Trained(part1_run, plain_run, cml_run, experiment_id, plain, cml, tour_active, tour_artifacts)


class _Handler(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}

    def do_GET(self) -> None:
        body = self.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/csv")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass


@dataclass(frozen=True)
class DataServer:
    """Loopback URLs: ``good`` serves the real file, ``corrupt`` a copy with one bit flipped."""

    good: str
    corrupt: str
    missing: str


@pytest.fixture(scope="session")
def data_server(wine_data: Path) -> Iterator[DataServer]:
    real = wine_data.read_bytes()
    corrupt = real[:100] + bytes([real[100] ^ 1]) + real[101:]
    handler = type("Handler", (_Handler,), {"files": {"/wine-quality.csv": real, "/corrupt.csv": corrupt}})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield DataServer(f"{base}/wine-quality.csv", f"{base}/corrupt.csv", f"{base}/nothing-here.csv")
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="session")
def repo_copy(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Make a throwaway repo root holding a copy of code/, so a script's data/ cache lands in it."""

    def make(name: str) -> Path:
        root = tmp_path_factory.mktemp(name)
        shutil.copytree(CODE_DIR, root / "code", ignore=shutil.ignore_patterns("__pycache__"))
        return root

    return make
