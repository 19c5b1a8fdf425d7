"""FakeCML: a stateful, in-memory CML workspace speaking API v2 behind ``responses``.

Why a fake and not a list of canned answers: reconcile tests must see the workspace *change* (a
create is visible to the next list, a build moves from ``queued`` to ``built``), and must be able
to count resources to prove that a retried or resumed apply never makes a twin.

Every body starts from a recorded CML-shaped response in ``tests/fixtures/cml/*.json`` (ids in
CML's forms, int64 as strings, ``environment`` as a JSON string, zero values present as ``""``);
the fake fills in ids and fields. It records every call (method, path, query, parsed body) in
order, pages with ``page_size``/``page_token`` (page_size must be re-sent with the token, as CML
requires), filters with substring and case-sensitive ``search_filter``, and scripts status
progressions over successive GETs:

* job run ``ENGINE_SCHEDULING`` -> ``ENGINE_RUNNING`` -> ``job_outcome``; on success an experiment
  run (``EXPERIMENT_RUN_FINISHED``, metrics ``run_metrics``) is added to the experiment named by the
  job's ``EXPERIMENT_NAME`` (else ``experiment_name``), recording its model the way ``model_logging``
  says MLflow does (no cmlops tag unless asked), and, when ``script_registers`` names a model, a
  version of it registered by the script itself from that run;
* build ``queued`` -> ``pending`` -> ``build_outcome``;
* deployment ``pending`` -> ``deploying`` -> ``deploy_outcome``.

An outcome of ``None`` never finishes (for timeouts). ``fail()`` injects an HTTP error or a
dropped connection, before or after the server acted; ``interrupt()`` raises an exception (a
crash) from inside a call.
"""

from __future__ import annotations

import base64
import copy
import json
import random
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.parser import BytesParser
from email.policy import default as email_policy
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import requests
import responses

from automation.api import CMLClient
from automation.clock import FakeClock
from automation.http import HttpClient
from automation.local.workloads.schedules import DEFAULT_TIMEZONE, schedule_problem

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "cml"
BASE_URL = "https://cml.example.com"
MODEL_SERVICE_URL = "https://modelservice.cml.example.com/model"
API_KEY = "test-key"
USER = {"username": "jdoe", "name": "Jane Doe", "email": "jdoe@example.com"}
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
DEFAULT_METRICS = {"rmse": 0.6536, "mae": 0.5009, "r2": 0.3418}
_EPOCH = datetime(2024, 5, 2, 9, 0, 0, tzinfo=timezone.utc)
_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
_ID = r"[^/:?]+"


@cache
def _load(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def fixture(name: str) -> Any:
    """A fresh deep copy of a recorded response body (``tests/fixtures/cml/<name>.json``)."""
    return copy.deepcopy(_load(name))


@dataclass
class Call:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, str]
    body: Any  # parsed JSON; {destination path: bytes} for a multipart upload; None when empty
    host: str = "api"  # "api" (the workspace) or "model" (the model service)
    status: int | str = 0  # HTTP status, or "error" when a connection failure was injected
    shape: str = ""  # the path with ids replaced by their kind, taken before the call ran

    @property
    def is_write(self) -> bool:
        return self.host == "api" and self.method in WRITE_METHODS

    def __repr__(self) -> str:
        return f"Call({self.method} {self.shape or self.path} -> {self.status})"


@dataclass
class Fault:
    method: str
    pattern: re.Pattern[str]
    times: int
    status: int = 502
    after: bool = False  # True: the server acted, then the answer was lost / replaced
    connection_error: bool = False
    raise_exc: BaseException | None = None


@dataclass
class _Progress:
    """Statuses still to come for one workload; advanced on each single-object GET."""

    kind: str  # job_run | build | deployment | project
    remaining: list[str] = field(default_factory=list)


class FakeError(Exception):
    """A handler's way to answer with a runtimeError body."""

    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message


class FakeCML:
    """An in-memory CML workspace. Create it inside an active ``responses.RequestsMock``."""

    def __init__(
        self,
        mock: responses.RequestsMock,
        *,
        api_key: str = API_KEY,
        experiment_name: str = "wine-quality",
        seed: int = 0,
    ) -> None:
        self.api_key = api_key
        self.experiment_name = experiment_name
        self._rng = random.Random(seed)
        self._tick = 0
        # knobs
        self.job_outcome: str | None = "ENGINE_SUCCEEDED"
        self.build_outcome: str | None = "built"
        self.deploy_outcome: str | None = "deployed"
        self.run_metrics: dict[str, float] = dict(DEFAULT_METRICS)
        self.prediction_response: Any = {"prediction": [5.9]}
        # how the training script's MLflow records the model (see ``_model_record``)
        self.model_logging: str = "mlflow2"  # mlflow2 | mlflow3 | cmlops-tag | none
        self.script_registers: str | None = None  # the script calls mlflow.register_model(..., name)
        self.supersede_on_deploy = True  # a new deployment stops the model's others, as CML does
        self.registry_enabled = True  # False: a workspace without the Model Registry component
        self.job_patch_ignores: set[str] = set()  # Job fields a PATCH leaves unchanged (seen live)
        self.default_page_size = 10
        # state: id -> wire-shaped body
        self.runtimes: list[dict[str, Any]] = fixture("runtimes")["runtimes"]
        self.runtime_addons: list[dict[str, Any]] = fixture("runtime_addons")["runtime_addons"]
        self.projects: dict[str, dict[str, Any]] = {}
        self.files: dict[str, dict[str, bytes]] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.job_runs: dict[str, dict[str, Any]] = {}
        self.experiments: dict[str, dict[str, Any]] = {}
        self.experiment_runs: dict[str, dict[str, Any]] = {}
        self.registered_models: dict[str, dict[str, Any]] = {}
        self.model_versions: dict[str, dict[str, Any]] = {}
        self.models: dict[str, dict[str, Any]] = {}
        self.builds: dict[str, dict[str, Any]] = {}
        self.deployments: dict[str, dict[str, Any]] = {}
        self.applications: dict[str, dict[str, Any]] = {}
        self._owner: dict[str, str] = {}  # child id -> project id / model id / experiment id ...
        self._progress: dict[str, _Progress] = {}
        # records
        self.calls: list[Call] = []
        self.unrouted: list[Call] = []
        self.predictions: list[dict[str, Any]] = []
        self._faults: list[Fault] = []
        self._routes = self._build_routes()
        for method in ("GET", "POST", "PATCH", "PUT", "DELETE"):
            mock.add_callback(method, re.compile(re.escape(BASE_URL) + r"(/.*)?$"), callback=self._dispatch)
        mock.add_callback(
            "POST", re.compile(re.escape(MODEL_SERVICE_URL) + r"(\?.*)?$"), callback=self._model_call
        )

    # -- set-up helpers ---------------------------------------------------------------------

    @classmethod
    @contextmanager
    def running(cls, **kwargs: Any) -> Iterator[FakeCML]:
        """A fake inside its own RequestsMock (unknown URLs raise ConnectionError, as responses does)."""
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            yield cls(mock, **kwargs)

    def client(self, clock: FakeClock | None = None) -> CMLClient:
        """A CMLClient on this fake whose waits and retries are instant (a FakeClock)."""
        clock = clock or FakeClock()
        http = HttpClient(BASE_URL, self.api_key, clock=clock)
        return CMLClient(http, clock=clock, model_service_url=MODEL_SERVICE_URL)

    def fail(
        self,
        method: str,
        path_regex: str,
        *,
        status: int = 502,
        times: int = 1,
        after: bool = False,
        connection_error: bool = False,
    ) -> None:
        """Answer the next ``times`` matching calls with ``status`` (or drop the connection).

        ``after=True``: the server acts first (the resource is stored), then the answer is lost.
        """
        self._faults.append(
            Fault(method.upper(), re.compile(path_regex), times, status, after, connection_error)
        )

    def interrupt(
        self, method: str, path_regex: str, exc: BaseException | None = None, *, after: bool = False
    ) -> None:
        """Raise ``exc`` (default KeyboardInterrupt) out of the next matching call: a crash mid-apply."""
        self._faults.append(
            Fault(
                method.upper(), re.compile(path_regex), 1, after=after, raise_exc=exc or KeyboardInterrupt()
            )
        )

    # -- queries for assertions ----------------------------------------------------------------

    def writes(self) -> list[Call]:
        return [c for c in self.calls if c.is_write]

    def reads(self) -> list[Call]:
        return [c for c in self.calls if c.host == "api" and c.method == "GET"]

    def write_summary(self) -> list[str]:
        """Writes as 'METHOD /path' with ids replaced by their kind, for order assertions."""
        return [f"{c.method} {c.shape}" for c in self.writes()]

    def shape(self, path: str) -> str:
        """'/api/v2/projects/ab12-.../jobs' -> '/api/v2/projects/{project}/jobs'."""
        out = []
        for part in path.split("/"):
            suffix = ""
            if ":" in part:
                part, suffix = part.split(":", 1)
                suffix = ":" + suffix
            kind = self._kind_of(part)
            out.append((f"{{{kind}}}" if kind else part) + suffix)
        return "/".join(out)

    def _kind_of(self, ident: str) -> str | None:
        tables = {
            "project": self.projects,
            "job": self.jobs,
            "run": self.job_runs,
            "experiment": self.experiments,
            "experiment_run": self.experiment_runs,
            "registered_model": self.registered_models,
            "version": self.model_versions,
            "model": self.models,
            "build": self.builds,
            "deployment": self.deployments,
            "application": self.applications,
        }
        for kind, table in tables.items():
            if ident in table:
                return kind
        return None

    def named(self, table: dict[str, dict[str, Any]], name: str) -> list[dict[str, Any]]:
        return [item for item in table.values() if item.get("name") == name]

    def active_deployments(self) -> list[dict[str, Any]]:
        return [d for d in self.deployments.values() if d["status"] in ("pending", "deploying", "deployed")]

    # -- direct state changes (set-ups) ----------------------------------------------------------

    def advance_all(self) -> None:
        """Run every scripted progression to its end (what a workspace does while nobody watches)."""
        for ident in list(self._progress):
            while ident in self._progress:
                self._advance(ident)

    # -- plumbing -------------------------------------------------------------------------------

    def _now(self) -> str:
        self._tick += 1
        return (_EPOCH + timedelta(seconds=self._tick)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def _public_id(self) -> str:
        return "-".join("".join(self._rng.choice(_ALNUM) for _ in range(4)) for _ in range(4))

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _access_key(self) -> str:
        return "".join(self._rng.choice(_ALNUM) for _ in range(32))

    def _build_routes(self) -> list[tuple[str, re.Pattern[str], Callable[..., Any]]]:
        p = rf"/api/v2/projects/(?P<pid>{_ID})"
        m = rf"{p}/models/(?P<mid>{_ID})"
        b = rf"{m}/builds/(?P<bid>{_ID})"
        j = rf"{p}/jobs/(?P<jid>{_ID})"
        a = rf"{p}/applications/(?P<aid>{_ID})"
        e = rf"{p}/experiments/(?P<eid>{_ID})"
        table = [
            ("POST", r"/api/v2/auth/validate_key", self._validate_key),
            ("GET", r"/api/v2/runtimes", self._list_runtimes),
            ("GET", r"/api/v2/runtimeaddons", self._list_runtime_addons),
            ("GET", r"/api/v2/projects", self._list_projects),
            ("POST", r"/api/v2/projects", self._create_project),
            ("GET", p, self._get_project),
            ("PATCH", p, self._update_project),
            ("DELETE", p, self._delete_project),
            ("POST", rf"{p}/files", self._upload_files),
            ("GET", rf"{p}/files/?(?P<fpath>.*)", self._list_files),
            ("DELETE", rf"{p}/files/(?P<fpath>.+)", self._delete_file),
            ("GET", rf"{p}/applications", self._list_applications),
            ("POST", rf"{p}/applications", self._create_application),
            ("GET", rf"{a}", self._get_application),
            ("PATCH", rf"{a}", self._update_application),
            ("DELETE", rf"{a}", self._delete_application),
            ("POST", rf"{a}:restart", self._restart_application),
            ("POST", rf"{a}:stop", self._stop_application),
            ("GET", rf"{p}/jobs", self._list_jobs),
            ("POST", rf"{p}/jobs", self._create_job),
            ("GET", j, self._get_job),
            ("PATCH", j, self._update_job),
            ("DELETE", j, self._delete_job),
            ("GET", rf"{j}/runs", self._list_job_runs),
            ("POST", rf"{j}/runs", self._create_job_run),
            ("GET", rf"{j}/runs/(?P<rid>{_ID})", self._get_job_run),
            ("POST", rf"{j}/runs/(?P<rid>{_ID}):stop", self._stop_job_run),
            ("GET", rf"{p}/experiments", self._list_experiments),
            ("GET", e, self._get_experiment),
            ("GET", rf"{e}/runs", self._list_experiment_runs),
            ("GET", rf"{e}/runs/(?P<rid>{_ID})", self._get_experiment_run),
            ("GET", r"/api/v2/registry/models", self._list_registered),
            ("POST", r"/api/v2/registry/models", self._register),
            ("GET", rf"/api/v2/registry/models/(?P<rmid>{_ID})", self._get_registered),
            ("DELETE", rf"/api/v2/registry/models/(?P<rmid>{_ID})", self._delete_registered),
            ("GET", rf"/api/v2/registry/models/(?P<rmid>{_ID})/versions/(?P<vid>{_ID})", self._get_version),
            ("GET", rf"{p}/models", self._list_models),
            ("POST", rf"{p}/models", self._create_model),
            ("GET", m, self._get_model),
            ("PATCH", m, self._update_model),
            ("DELETE", m, self._delete_model),
            ("GET", rf"{m}/builds", self._list_builds),
            ("POST", rf"{m}/builds", self._create_build),
            ("GET", b, self._get_build),
            ("GET", rf"{b}/deployments", self._list_deployments),
            ("POST", rf"{b}/deployments", self._create_deployment),
            ("GET", rf"{b}/deployments/(?P<did>{_ID})", self._get_deployment),
            ("POST", rf"{b}/deployments/(?P<did>{_ID}):stop", self._stop_deployment),
            ("POST", rf"{b}/deployments/(?P<did>{_ID}):restart", self._restart_deployment),
        ]
        return [(method, re.compile(pattern + r"/?$"), handler) for method, pattern, handler in table]

    def _parse(self, request: Any, host: str) -> Call:
        parts = urlsplit(request.url)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        body: Any = None
        raw = request.body
        if isinstance(raw, str):
            raw = raw.encode()
        content_type = request.headers.get("Content-Type", "")
        if raw and content_type.startswith("multipart/form-data"):
            message = BytesParser(policy=email_policy).parsebytes(
                f"Content-Type: {content_type}\r\n\r\n".encode() + raw
            )
            body = {
                part.get_param("name", header="content-disposition"): part.get_payload(decode=True)
                for part in message.iter_parts()
            }
        elif raw:
            body = json.loads(raw)
        return Call(request.method, parts.path, query, body, host)

    def _fault_for(self, call: Call) -> Fault | None:
        for fault in self._faults:
            if fault.times > 0 and fault.method == call.method and fault.pattern.search(call.path):
                fault.times -= 1
                return fault
        return None

    def _error(self, status: int, kind: str, message: str | None = None) -> tuple[int, dict[str, str], str]:
        body = fixture("errors")[kind]
        if message:
            body["error"] = body["message"] = message
        return status, {"Content-Type": "application/json"}, json.dumps(body)

    def _dispatch(self, request: Any) -> tuple[int, dict[str, str], str]:
        call = self._parse(request, "api")
        call.shape = self.shape(call.path)
        self.calls.append(call)
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            call.status = 401
            return self._error(401, "unauthenticated")
        fault = self._fault_for(call)
        if fault is not None and not fault.after:
            return self._inject(call, fault)
        try:
            status, body = self._route(call)
        except FakeError as exc:
            call.status = exc.status
            return self._error(exc.status, exc.kind, exc.message)
        if fault is not None:
            return self._inject(call, fault)
        call.status = status
        return status, {"Content-Type": "application/json"}, json.dumps(body)

    def _inject(self, call: Call, fault: Fault) -> tuple[int, dict[str, str], str]:
        if fault.raise_exc is not None:
            call.status = "error"
            raise fault.raise_exc
        if fault.connection_error:
            call.status = "error"
            raise requests.exceptions.ConnectionError("Connection aborted: Remote end closed connection")
        call.status = fault.status
        kind = "unavailable" if fault.status == 503 else "internal"
        return self._error(fault.status, kind, f"injected HTTP {fault.status}")

    def _route(self, call: Call) -> tuple[int, Any]:
        if not self.registry_enabled and call.path.startswith("/api/v2/registry/"):
            raise FakeError(404, "not_found", "Not Found")  # the route does not exist there
        for method, pattern, handler in self._routes:
            if method != call.method:
                continue
            match = pattern.fullmatch(call.path)
            if match:
                params = {k: unquote(v) for k, v in match.groupdict().items()}
                return 200, handler(call, **params)
        self.unrouted.append(call)
        raise FakeError(404, "not_found", f"fake CML: no route for {call.method} {call.path}")

    # -- listing helpers ------------------------------------------------------------------------

    def _page(self, call: Call, items: list[dict[str, Any]], key: str, *, filter_keys=None) -> dict[str, Any]:
        q = call.query
        items = self._filter(items, q.get("search_filter"), filter_keys or {})
        items = self._sort(items, q.get("sort"))
        token = q.get("page_token")
        if token and "page_size" not in q:
            raise FakeError(400, "invalid_argument", "page_size must be re-sent with page_token")
        size = int(q.get("page_size") or self.default_page_size)
        start = int(base64.urlsafe_b64decode(token.encode()).decode()) if token else 0
        page = items[start : start + size]
        more = start + size < len(items)
        next_token = base64.urlsafe_b64encode(str(start + size).encode()).decode() if more else ""
        return {key: copy.deepcopy(page), "next_page_token": next_token}

    @staticmethod
    def _dig(item: dict[str, Any], dotted: str) -> Any:
        current: Any = item
        for part in dotted.split("."):
            if not isinstance(current, dict):
                return None
            current = current.get(part)
        return current

    def _filter(self, items: list[dict[str, Any]], raw: str | None, aliases: dict[str, str]) -> list:
        if not raw:
            return list(items)
        try:
            wanted = json.loads(raw)
        except ValueError:
            raise FakeError(400, "invalid_argument", "search_filter is not a JSON object") from None
        out = []
        for item in items:
            ok = True
            for key, value in wanted.items():
                got = self._dig(item, aliases.get(key, key))
                if got is None or str(value) not in str(got):  # substring, case-sensitive
                    ok = False
                    break
            if ok:
                out.append(item)
        return out

    def _sort(self, items: list[dict[str, Any]], sort: str | None) -> list[dict[str, Any]]:
        for key in reversed([k.strip() for k in (sort or "").split(",") if k.strip()]):
            desc = key.startswith("-")
            name = key.lstrip("+-")
            items = sorted(items, key=lambda i, n=name: str(self._dig(i, n) or ""), reverse=desc)
        return items

    def _get(self, table: dict[str, dict[str, Any]], ident: str, what: str) -> dict[str, Any]:
        if ident not in table:
            raise FakeError(404, "not_found", f"{what} {ident} not found")
        return table[ident]

    def _advance(self, ident: str) -> None:
        prog = self._progress.get(ident)
        if prog is None or not prog.remaining:
            self._progress.pop(ident, None)
            return
        status = prog.remaining.pop(0)
        if prog.kind == "job_run":
            self._set_run_status(self.job_runs[ident], status)
        elif prog.kind == "build":
            build = self.builds[ident]
            build["status"] = status
            build["updated_at"] = self._now()
            if status == "built":
                build["built_at"] = build["updated_at"]
        elif prog.kind == "deployment":
            dep = self.deployments[ident]
            dep["status"] = status
            dep["updated_at"] = self._now()
        elif prog.kind == "application":
            self.applications[ident]["status"] = status
        elif prog.kind == "project":
            self.projects[ident]["creation_status"] = status
        if not prog.remaining:
            del self._progress[ident]

    # -- auth, runtimes ---------------------------------------------------------------------------

    def _validate_key(self, call: Call) -> dict[str, Any]:
        return {"valid": True, "username": USER["username"], "message": ""}

    def _list_runtimes(self, call: Call) -> dict[str, Any]:
        return self._page(call, self.runtimes, "runtimes")

    def _list_runtime_addons(self, call: Call) -> dict[str, Any]:
        return self._page(call, self.runtime_addons, "runtime_addons")

    # -- projects ---------------------------------------------------------------------------------

    def _list_projects(self, call: Call) -> dict[str, Any]:
        return self._page(call, list(self.projects.values()), "projects")

    def _create_project(self, call: Call) -> dict[str, Any]:
        body = call.body or {}
        if not body.get("name"):
            raise FakeError(400, "invalid_argument", "name is required")
        project = fixture("project")
        now = self._now()
        pid = self._public_id()
        project.update(
            id=pid,
            name=body["name"],
            description=body.get("description", ""),
            visibility=body.get("visibility") or "private",
            default_engine_type=body.get("default_project_engine_type") or "ml_runtime",
            environment=json.dumps(body.get("environment") or {}, sort_keys=True),
            created_at=now,
            updated_at=now,
            slug=re.sub(r"[^a-z0-9]+", "-", body["name"].lower()).strip("-"),  # the bare project slug
        )
        if body.get("git_url"):
            project["creation_status"] = "creating"
            self._progress[pid] = _Progress("project", ["success"])
        self.projects[pid] = project
        self.files[pid] = {}
        return copy.deepcopy(project)

    @staticmethod
    def _check_message(body: dict[str, Any], message: str) -> None:
        """A PATCH body is the resource message: ``environment`` must be a JSON-encoded string.

        CML (grpc-gateway) refuses an object there with 400 INVALID_ARGUMENT.
        """
        env = body.get("environment")
        if env is None:
            return
        if not isinstance(env, str):
            raise FakeError(
                400,
                "invalid_argument",
                f"proto: syntax error: {message}.environment: expected a string, got {type(env).__name__}",
            )
        try:
            parsed = json.loads(env or "{}")
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise FakeError(400, "invalid_argument", f"{message}.environment is not a JSON object string")

    def _get_project(self, call: Call, pid: str) -> dict[str, Any]:
        project = copy.deepcopy(self._get(self.projects, pid, "project"))
        self._advance(pid)
        return project

    def _update_project(self, call: Call, pid: str) -> dict[str, Any]:
        project = self._get(self.projects, pid, "project")
        self._check_message(call.body or {}, "Project")
        for key, value in (call.body or {}).items():
            if key == "environment":
                value = json.dumps(json.loads(value or "{}"), sort_keys=True)
            if key in project and key != "id":
                project[key] = value
        project["updated_at"] = self._now()
        return copy.deepcopy(project)

    def _delete_project(self, call: Call, pid: str) -> dict[str, Any]:
        self._get(self.projects, pid, "project")
        del self.projects[pid]
        self.files.pop(pid, None)
        for mid in [i for i in self.models if self._owner[i] == pid]:
            self._drop_model(mid)
        for eid in [i for i in self.experiments if self._owner[i] == pid]:
            del self.experiments[eid]
            for rid in [r for r in self.experiment_runs if self._owner[r] == eid]:
                del self.experiment_runs[rid]
        for table in (self.jobs, self.job_runs):
            for ident in [i for i in table if self._owner[i] == pid]:
                del table[ident]
        return {}

    # -- files ------------------------------------------------------------------------------------

    def _upload_files(self, call: Call, pid: str) -> dict[str, Any]:
        self._get(self.projects, pid, "project")
        store = self.files.setdefault(pid, {})
        for dest, content in (call.body or {}).items():
            path = dest.strip("/")
            n = 0
            while path in store:  # CML never overwrites: the new file gets a (n) suffix
                n += 1
                pure = PurePosixPath(dest.strip("/"))
                path = str(pure.with_name(f"{pure.stem}({n}){pure.suffix}"))
            store[path] = content
        return {}

    def _list_files(self, call: Call, pid: str, fpath: str) -> dict[str, Any]:
        self._get(self.projects, pid, "project")
        folder = fpath.strip("/")
        prefix = f"{folder}/" if folder else ""
        entries: dict[str, dict[str, Any]] = {}
        for path, content in self.files.get(pid, {}).items():
            if not path.startswith(prefix):
                continue
            rest = path[len(prefix) :].split("/")
            if len(rest) == 1:
                entries[rest[0]] = {"path": rest[0], "is_dir": False, "file_size": str(len(content))}
            else:
                entries.setdefault(rest[0], {"path": rest[0], "is_dir": True, "file_size": "4096"})
        if folder and not entries:
            raise FakeError(404, "not_found", f"path {folder} not found")
        return {"files": [entries[k] for k in sorted(entries)]}

    def _delete_file(self, call: Call, pid: str, fpath: str) -> dict[str, Any]:
        store = self.files.get(pid, {})
        if fpath.strip("/") not in store:
            raise FakeError(404, "not_found", f"file {fpath} not found")
        del store[fpath.strip("/")]
        return {}

    # -- jobs and runs ----------------------------------------------------------------------------

    def _project_ref(self, pid: str) -> dict[str, str]:
        project = self.projects[pid]
        return {
            "public_identifier": pid,
            "name": project["name"],
            "default_project_engine": project["default_engine_type"],
            "slug": project["slug"],
        }

    def _list_applications(self, call: Call, pid: str) -> dict[str, Any]:
        self._get(self.projects, pid, "project")
        apps = [a for i, a in self.applications.items() if self._owner.get(i) == pid]
        return self._page(call, apps, "applications")

    def _create_application(self, call: Call, pid: str) -> dict[str, Any]:
        """Create and start an application (CML: "create and implicitly start")."""
        self._get(self.projects, pid, "project")
        body = call.body or {}
        for required in ("name", "subdomain", "script", "runtime_identifier"):
            if not body.get(required):
                raise FakeError(400, "invalid_argument", f"{required} is required")
        if any(a["subdomain"] == body["subdomain"] for a in self.applications.values()):
            raise FakeError(400, "invalid_argument", f"subdomain {body['subdomain']!r} is already in use")
        self._check_addons(body.get("runtime_addon_identifiers"))
        aid, now = self._public_id(), self._now()
        app = {
            "id": aid,
            "name": body["name"],
            "description": body.get("description", ""),
            "subdomain": body["subdomain"],
            "script": body["script"],
            "status": "APPLICATION_STARTING",
            "cpu": body.get("cpu", 1),
            "memory": body.get("memory", 1),
            "nvidia_gpu": body.get("nvidia_gpu", 0),
            "bypass_authentication": bool(body.get("bypass_authentication", False)),
            "environment": json.dumps(body.get("environment") or {}, sort_keys=True),
            "runtime_identifier": body["runtime_identifier"],
            "runtime_addon_identifiers": list(body.get("runtime_addon_identifiers") or []),
            "created_at": now,
            "updated_at": now,
        }
        self.applications[aid] = app
        self._owner[aid] = pid
        self._progress[aid] = _Progress("application", ["APPLICATION_RUNNING"])
        return copy.deepcopy(app)

    def _application_of(self, pid: str, aid: str) -> dict[str, Any]:
        app = self._get(self.applications, aid, "application")
        if self._owner.get(aid) != pid:
            raise FakeError(404, "not_found", f"application {aid} not found in project {pid}")
        return app

    def _get_application(self, call: Call, pid: str, aid: str) -> dict[str, Any]:
        app = copy.deepcopy(self._application_of(pid, aid))
        self._advance(aid)
        return app

    def _update_application(self, call: Call, pid: str, aid: str) -> dict[str, Any]:
        app = self._application_of(pid, aid)
        body = call.body or {}
        self._check_message(body, "Application")
        for key, value in body.items():
            if key == "environment":
                value = json.dumps(json.loads(value or "{}"), sort_keys=True)
            if key in app and key not in ("id", "status"):
                app[key] = value
        app["updated_at"] = self._now()
        return copy.deepcopy(app)

    def _restart_application(self, call: Call, pid: str, aid: str) -> dict[str, Any]:
        app = self._application_of(pid, aid)
        app["status"] = "APPLICATION_STARTING"
        self._progress[aid] = _Progress("application", ["APPLICATION_RUNNING"])
        return copy.deepcopy(app)

    def _stop_application(self, call: Call, pid: str, aid: str) -> dict[str, Any]:
        app = self._application_of(pid, aid)
        self._progress.pop(aid, None)
        app["status"] = "APPLICATION_STOPPED"
        return copy.deepcopy(app)

    def _delete_application(self, call: Call, pid: str, aid: str) -> dict[str, Any]:
        self._application_of(pid, aid)
        del self.applications[aid]
        return {}

    def _list_jobs(self, call: Call, pid: str) -> dict[str, Any]:
        self._get(self.projects, pid, "project")
        jobs = [j for i, j in self.jobs.items() if self._owner[i] == pid]
        return self._page(call, jobs, "jobs")

    def _create_job(self, call: Call, pid: str) -> dict[str, Any]:
        self._get(self.projects, pid, "project")
        body = call.body or {}
        for required in ("name", "script"):
            if not body.get(required):
                raise FakeError(400, "invalid_argument", f"{required} is required")
        if not body.get("runtime_identifier"):
            raise FakeError(400, "invalid_argument", "runtime_identifier must be set in a runtime project")
        self._check_addons(body.get("runtime_addon_identifiers"))
        self._check_trigger(
            pid, body.get("parent_id") or "", body.get("schedule") or "", body.get("timezone")
        )
        job = fixture("job")
        now = self._now()
        jid = self._public_id()
        job.update(
            id=jid,
            name=body["name"],
            script=body["script"],
            cpu=body.get("cpu", 1),
            memory=body.get("memory", 1),
            nvidia_gpu=body.get("nvidia_gpu", 0),
            arguments=body.get("arguments", ""),
            environment=json.dumps(body.get("environment") or {}, sort_keys=True),
            timeout=str(int(body.get("timeout") or 0)),
            kill_on_timeout=bool(body.get("kill_on_timeout", False)),
            runtime_identifier=body["runtime_identifier"],
            runtime_addon_identifiers=list(body.get("runtime_addon_identifiers") or []),
            parent_id=body.get("parent_id", ""),
            schedule=body.get("schedule") or "",
            timezone=body.get("timezone") or DEFAULT_TIMEZONE,
            type="dependent" if body.get("parent_id") else "cron" if body.get("schedule") else "manual",
            project=self._project_ref(pid),
            created_at=now,
            updated_at=now,
        )
        self.jobs[jid] = job
        self._owner[jid] = pid
        return copy.deepcopy(job)

    def _check_trigger(self, pid: str, parent_id: str, schedule: str, timezone: str | None) -> None:
        """CML-strict: a job follows a parent of its project or runs on a valid cron schedule, not both."""
        if parent_id and schedule:
            raise FakeError(400, "invalid_argument", "a job cannot have both a parent job and a schedule")
        if parent_id and (parent_id not in self.jobs or self._owner[parent_id] != pid):
            raise FakeError(404, "not_found", f"parent job {parent_id} not found in project {pid}")
        if schedule:
            problem = schedule_problem(schedule, timezone)
            if problem:
                raise FakeError(400, "invalid_argument", problem)
        elif timezone and schedule_problem("0 0 * * *", timezone):
            raise FakeError(400, "invalid_argument", schedule_problem("0 0 * * *", timezone) or "")

    def _check_addons(self, identifiers: Any) -> None:
        available = {a["identifier"] for a in self.runtime_addons if a["status"] == "AVAILABLE"}
        unknown = [i for i in identifiers or [] if i not in available]
        if unknown:
            raise FakeError(400, "invalid_argument", f"runtime addons not available: {unknown}")

    def _job_of(self, pid: str, jid: str) -> dict[str, Any]:
        job = self._get(self.jobs, jid, "job")
        if self._owner[jid] != pid:
            raise FakeError(404, "not_found", f"job {jid} not found in project {pid}")
        return job

    def _get_job(self, call: Call, pid: str, jid: str) -> dict[str, Any]:
        return copy.deepcopy(self._job_of(pid, jid))

    def _update_job(self, call: Call, pid: str, jid: str) -> dict[str, Any]:
        job = self._job_of(pid, jid)
        body = call.body or {}
        self._check_message(body, "Job")
        if {"parent_id", "schedule", "timezone"} & set(body):
            self._check_trigger(
                pid,
                body.get("parent_id", job["parent_id"]) or "",
                body.get("schedule", job["schedule"]) or "",
                body.get("timezone", job["timezone"]),
            )
        for key, value in body.items():
            if key == "environment":
                value = json.dumps(json.loads(value or "{}"), sort_keys=True)
            elif key == "timeout":
                value = str(int(value or 0))
            if key in self.job_patch_ignores:
                continue  # accepted with 200, not applied
            if key in job and key != "id":
                job[key] = value
        job["updated_at"] = self._now()
        return copy.deepcopy(job)

    def _delete_job(self, call: Call, pid: str, jid: str) -> dict[str, Any]:
        self._job_of(pid, jid)
        del self.jobs[jid]
        return {}

    def _list_job_runs(self, call: Call, pid: str, jid: str) -> dict[str, Any]:
        self._job_of(pid, jid)
        runs = [r for r in self.job_runs.values() if r["job_id"] == jid]
        return self._page(call, runs, "job_runs")

    def _create_job_run(self, call: Call, pid: str, jid: str) -> dict[str, Any]:
        self._job_of(pid, jid)
        return self._start_run(pid, jid, call.body or {})

    def _start_run(self, pid: str, jid: str, body: dict[str, Any]) -> dict[str, Any]:
        job = self.jobs[jid]
        run = fixture("job_run")
        now = self._now()
        rid = self._public_id()
        env = json.loads(job["environment"] or "{}")
        env.update(body.get("environment") or {})
        run.update(
            id=rid,
            project_id=pid,
            job_id=jid,
            status="ENGINE_SCHEDULING",
            created_at=now,
            scheduling_at=now,
            cpu=job["cpu"],
            memory=job["memory"],
            nvidia_gpu=job["nvidia_gpu"],
            arguments=body.get("arguments") or job["arguments"],
            environment=json.dumps(env, sort_keys=True),
            runtime_identifier=job["runtime_identifier"],
        )
        self.job_runs[rid] = run
        self._owner[rid] = pid
        script = ["ENGINE_RUNNING"] + ([self.job_outcome] if self.job_outcome else [])
        self._progress[rid] = _Progress("job_run", script)
        return copy.deepcopy(run)

    def _run_of(self, pid: str, jid: str, rid: str) -> dict[str, Any]:
        self._job_of(pid, jid)
        run = self._get(self.job_runs, rid, "job run")
        if run["job_id"] != jid:
            raise FakeError(404, "not_found", f"run {rid} not found")
        return run

    def _get_job_run(self, call: Call, pid: str, jid: str, rid: str) -> dict[str, Any]:
        run = copy.deepcopy(self._run_of(pid, jid, rid))
        self._advance(rid)
        return run

    def _stop_job_run(self, call: Call, pid: str, jid: str, rid: str) -> dict[str, Any]:
        run = self._run_of(pid, jid, rid)
        self._progress.pop(rid, None)
        self._set_run_status(run, "ENGINE_STOPPED")
        return copy.deepcopy(run)

    def _set_run_status(self, run: dict[str, Any], status: str) -> None:
        now = self._now()
        run["status"] = status
        if status == "ENGINE_RUNNING":
            run["starting_at"] = run["running_at"] = now
        elif status.startswith("ENGINE_") and status not in ("ENGINE_SCHEDULING", "ENGINE_STARTING"):
            run["finished_at"] = now
        if status == "ENGINE_SUCCEEDED" and "install" not in self.jobs[run["job_id"]]["script"]:
            self._log_experiment_run(run)  # a dependency (install) job logs no MLflow run
        if status == "ENGINE_SUCCEEDED":  # as CML: the dependent jobs start when their parent succeeds
            for cid, child in list(self.jobs.items()):
                if child["parent_id"] == run["job_id"]:
                    self._start_run(run["project_id"], cid, {})

    def _log_experiment_run(self, job_run: dict[str, Any]) -> None:
        """What the training script does inside a successful run: an MLflow run that logged the model."""
        pid = job_run["project_id"]
        env = json.loads(self.projects[pid]["environment"] or "{}")
        env.update(json.loads(job_run["environment"] or "{}"))
        name = env.get("EXPERIMENT_NAME") or self.experiment_name
        experiment = next(
            (x for i, x in self.experiments.items() if self._owner[i] == pid and x["name"] == name), None
        )
        if experiment is None:
            experiment = fixture("experiment")
            eid = self._public_id()
            experiment.update(
                id=eid,
                project_id=pid,
                name=name,
                artifact_location=f"/home/cdsw/.experiments/{eid}",
                created_at=self._now(),
                updated_at=self._now(),
            )
            self.experiments[eid] = experiment
            self._owner[eid] = pid
        eid = experiment["id"]
        run = fixture("experiment_run")
        rid = self._public_id()
        start = self._now()
        metric_time = self._now()
        run.update(
            id=rid,
            name=f"run-{len(self.experiment_runs) + 1}",
            experiment_id=eid,
            start_time=start,
            end_time=self._now(),
            artifact_uri=f"/home/cdsw/.experiments/{eid}/{rid}/artifacts",
        )
        run["data"]["metrics"] = [
            {"key": k, "value": v, "timestamp": metric_time, "step": "0"} for k, v in self.run_metrics.items()
        ]
        path = env.get("MODEL_ARTIFACT_PATH", "model")
        tags, files = self._model_record(rid, path)
        run["data"]["tags"] = [
            {"key": "mlflow.runName", "value": run["name"]},
            {"key": "mlflow.user", "value": USER["username"]},
            *tags,
        ]
        run["data"]["files"] = files
        run["data"]["registered_model_metadata"] = []
        self.experiment_runs[rid] = run
        self._owner[rid] = eid
        if self.script_registers:
            self.register_from_script(rid, self.script_registers, path)

    def _model_record(self, rid: str, path: str) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
        """Tags and ``data.files`` of a run whose script logged a model under ``path``.

        ``mlflow2``: ``log_model(model, path)`` of mlflow(-skinny) 2.19, as in CML's runtimes: the
        ``mlflow.log-model.history`` tag and the model folder among the artifacts (listed one level
        deep, as the recorded fixture shows: no ``path/MLmodel`` entry to lean on). ``mlflow3``:
        ``log_model(model, name=path)``: no tag; the files list ``path/MLmodel`` (what MLflow 3.17
        lists for the run under that path). ``cmlops-tag``: only the tag older cmlops scripts set.
        """
        if self.model_logging == "mlflow2":
            history = [
                {
                    "run_id": rid,
                    "artifact_path": path,
                    "utc_time_created": "2024-05-02 09:18:01.990000",
                    "flavors": {"python_function": {}, "sklearn": {}},
                    "mlflow_version": "2.19.0",
                }
            ]
            tag = {"key": "mlflow.log-model.history", "value": json.dumps(history)}
            return [tag], [{"path": path, "is_dir": True, "file_size": ""}]
        if self.model_logging == "mlflow3":
            names = ("MLmodel", "conda.yaml", "model.pkl", "python_env.yaml", "requirements.txt")
            return [], [{"path": f"{path}/{n}", "is_dir": False, "file_size": "120"} for n in names]
        if self.model_logging == "cmlops-tag":
            return [{"key": "model_artifact_path", "value": path}], []
        return [], []

    def register_from_script(self, rid: str, name: str, path: str = "model") -> dict[str, Any]:
        """What ``mlflow.register_model(f"runs:/{run_id}/{path}", name)`` inside the job does: a new
        version of ``name`` whose source is the run (no API call is recorded)."""
        eid = self.experiment_runs[rid]["experiment_id"]
        body = {
            "project_id": self._owner[eid],
            "experiment_id": eid,
            "run_id": rid,
            "model_path": path,
            "model_name": name,
        }
        return self._store_version(body)["model_versions"][0]

    # -- experiments ------------------------------------------------------------------------------

    def _list_experiments(self, call: Call, pid: str) -> dict[str, Any]:
        self._get(self.projects, pid, "project")
        items = [x for i, x in self.experiments.items() if self._owner[i] == pid]
        return self._page(call, items, "experiments")

    def _experiment_of(self, pid: str, eid: str) -> dict[str, Any]:
        experiment = self._get(self.experiments, eid, "experiment")
        if self._owner[eid] != pid:
            raise FakeError(404, "not_found", f"experiment {eid} not found")
        return experiment

    def _get_experiment(self, call: Call, pid: str, eid: str) -> dict[str, Any]:
        return copy.deepcopy(self._experiment_of(pid, eid))

    def _list_experiment_runs(self, call: Call, pid: str, eid: str) -> dict[str, Any]:
        self._experiment_of(pid, eid)
        items = [r for i, r in self.experiment_runs.items() if self._owner[i] == eid]
        return self._page(call, items, "experiment_runs")

    def _get_experiment_run(self, call: Call, pid: str, eid: str, rid: str) -> dict[str, Any]:
        self._experiment_of(pid, eid)
        return copy.deepcopy(self._get(self.experiment_runs, rid, "experiment run"))

    # -- registry ---------------------------------------------------------------------------------

    def _registered_view(self, rmid: str, *, versions: bool) -> dict[str, Any]:
        view = copy.deepcopy(self.registered_models[rmid])
        mine = [v for v in self.model_versions.values() if v["model_id"] == rmid]
        view["count"] = len(mine)
        if versions:
            view["model_versions"] = copy.deepcopy(sorted(mine, key=lambda v: -v["number"]))
        else:
            view.pop("model_versions", None)
            view.pop("next_page_token", None)
        return view

    def _list_registered(self, call: Call) -> dict[str, Any]:
        items = [self._registered_view(i, versions=False) for i in self.registered_models]
        return self._page(call, items, "models", filter_keys={"model_name": "name"})

    def _register(self, call: Call) -> dict[str, Any]:
        body = call.body or {}
        for required in ("experiment_id", "run_id", "model_path", "model_name"):
            if not body.get(required):
                raise FakeError(400, "invalid_argument", f"{required} is required")
        if body.get("visibility", "PRIVATE") not in ("PRIVATE", "PUBLIC"):  # an enum: exact spelling
            raise FakeError(
                400, "invalid_argument", f"unknown value {body['visibility']!r} for enum Visibility"
            )
        run = self._get(self.experiment_runs, body["run_id"], "experiment run")
        if run["experiment_id"] != body["experiment_id"]:
            raise FakeError(400, "invalid_argument", "run_id does not belong to experiment_id")
        return self._store_version(body)

    def _store_version(self, body: dict[str, Any]) -> dict[str, Any]:
        existing = next((m for m in self.registered_models.values() if m["name"] == body["model_name"]), None)
        now = self._now()
        if existing is None:
            registered = fixture("registered_model")
            template_version = registered["model_versions"][0]
            rmid = self._public_id()
            registered.update(
                model_id=rmid,
                name=body["model_name"],
                description=body.get("description", ""),
                visibility=body.get("visibility") or "PRIVATE",
                created_at=now,
                updated_at=now,
                model_versions=[],
                count=0,
            )
            self.registered_models[rmid] = registered
        else:
            rmid = existing["model_id"]
            template_version = fixture("registered_model")["model_versions"][0]
        number = 1 + sum(1 for v in self.model_versions.values() if v["model_id"] == rmid)
        version = template_version
        vid = self._public_id()
        version.update(model_id=rmid, model_version_id=vid, number=number, notes=body.get("notes", ""))
        version.update(created_at=now, updated_at=now)
        version["tags"] = list(body.get("tags") or [])
        meta = version["model_version_metadata"]
        meta["project_id"] = body.get("project_id", "")
        meta["mlflow_metadata"].update(experiment_id=body["experiment_id"], run_id=body["run_id"])
        self.model_versions[vid] = version
        # the run shows which versions came from it
        self.experiment_runs[body["run_id"]]["data"].setdefault("registered_model_metadata", []).append(
            {
                "model_path": body["model_path"],
                "model_name": body["model_name"],
                "model_id": rmid,
                "model_version_id": vid,
                "version_number": number,
                "run_id": body["run_id"],
                "created_at": now,
            }
        )
        return self._registered_view(rmid, versions=True)

    def _get_registered(self, call: Call, rmid: str) -> dict[str, Any]:
        self._get(self.registered_models, rmid, "registered model")
        view = self._registered_view(rmid, versions=True)
        versions = view.pop("model_versions")
        view.pop("next_page_token", None)
        page = self._page(call, versions, "model_versions")
        view.update(page)
        return view

    def _delete_registered(self, call: Call, rmid: str) -> dict[str, Any]:
        self._get(self.registered_models, rmid, "registered model")
        del self.registered_models[rmid]
        for vid in [v for v, x in self.model_versions.items() if x["model_id"] == rmid]:
            del self.model_versions[vid]
        return {}

    def _get_version(self, call: Call, rmid: str, vid: str) -> dict[str, Any]:
        version = self._get(self.model_versions, vid, "model version")
        if version["model_id"] != rmid:
            raise FakeError(404, "not_found", f"version {vid} not found")
        return copy.deepcopy(version)

    # -- models, builds, deployments ---------------------------------------------------------------

    def _list_models(self, call: Call, pid: str) -> dict[str, Any]:
        self._get(self.projects, pid, "project")
        items = [x for i, x in self.models.items() if self._owner[i] == pid]
        return self._page(call, items, "models")

    def _create_model(self, call: Call, pid: str) -> dict[str, Any]:
        self._get(self.projects, pid, "project")
        body = call.body or {}
        if not body.get("name"):
            raise FakeError(400, "invalid_argument", "name is required")
        rmid = body.get("registered_model_id") or ""
        if rmid and rmid not in self.registered_models:
            raise FakeError(404, "not_found", f"registered model {rmid} not found")
        model = fixture("model")
        mid = self._uuid()
        now = self._now()
        model.update(
            id=mid,
            name=body["name"],
            description=body.get("description", ""),
            access_key=self._access_key(),
            auth_enabled=not body.get("disable_authentication", False),
            registered_model_id=rmid,
            project=self._project_ref(pid),
            crn=model["crn"].rsplit("/", 1)[0] + f"/{mid}",
            created_at=now,
            updated_at=now,
        )
        self.models[mid] = model
        self._owner[mid] = pid
        return copy.deepcopy(model)

    def _model_of(self, pid: str, mid: str) -> dict[str, Any]:
        model = self._get(self.models, mid, "model")
        if self._owner[mid] != pid:
            raise FakeError(404, "not_found", f"model {mid} not found")
        return model

    def _get_model(self, call: Call, pid: str, mid: str) -> dict[str, Any]:
        return copy.deepcopy(self._model_of(pid, mid))

    def _update_model(self, call: Call, pid: str, mid: str) -> dict[str, Any]:
        model = self._model_of(pid, mid)
        for key, value in (call.body or {}).items():
            if key in ("name", "description", "visibility"):
                model[key] = value
        model["updated_at"] = self._now()
        return copy.deepcopy(model)

    def _delete_model(self, call: Call, pid: str, mid: str) -> dict[str, Any]:
        self._model_of(pid, mid)
        self._drop_model(mid)
        return {}

    def _drop_model(self, mid: str) -> None:
        del self.models[mid]
        for bid in [b for b, x in self.builds.items() if x["model_id"] == mid]:
            del self.builds[bid]
        for did in [d for d, x in self.deployments.items() if x["model_id"] == mid]:
            del self.deployments[did]

    def _list_builds(self, call: Call, pid: str, mid: str) -> dict[str, Any]:
        self._model_of(pid, mid)
        items = [b for b in self.builds.values() if b["model_id"] == mid]
        return self._page(call, items, "model_builds")

    def _create_build(self, call: Call, pid: str, mid: str) -> dict[str, Any]:
        self._model_of(pid, mid)
        body = call.body or {}
        vid = body.get("registered_model_version_id") or ""
        if vid not in self.model_versions:
            raise FakeError(404, "not_found", f"registered model version {vid!r} not found")
        if not body.get("runtime_identifier"):
            raise FakeError(400, "invalid_argument", "runtime_identifier is required")
        return self._store_build(mid, body, registered_model_version_id=vid)

    def _store_build(self, mid: str, body: dict[str, Any], **fields: Any) -> dict[str, Any]:
        """Record a queued build of model ``mid`` (progressing like every build) and return its body."""
        build = fixture("model_build")
        bid = self._uuid()
        now = self._now()
        build.update(
            id=bid,
            model_id=mid,
            comment=body.get("comment", ""),
            status="queued",
            runtime_identifier=body["runtime_identifier"],
            crn=build["crn"].rsplit("/", 1)[0] + f"/{bid}",
            created_at=now,
            updated_at=now,
            built_at=None,  # an unset Timestamp is null
            **fields,
        )
        self.builds[bid] = build
        self._progress[bid] = _Progress(
            "build", ["pending"] + ([self.build_outcome] if self.build_outcome else [])
        )
        return copy.deepcopy(build)

    def _build_of(self, pid: str, mid: str, bid: str) -> dict[str, Any]:
        self._model_of(pid, mid)
        build = self._get(self.builds, bid, "build")
        if build["model_id"] != mid:
            raise FakeError(404, "not_found", f"build {bid} not found")
        return build

    def _get_build(self, call: Call, pid: str, mid: str, bid: str) -> dict[str, Any]:
        build = copy.deepcopy(self._build_of(pid, mid, bid))
        self._advance(bid)
        return build

    def _list_deployments(self, call: Call, pid: str, mid: str, bid: str) -> dict[str, Any]:
        self._build_of(pid, mid, bid)
        items = [d for d in self.deployments.values() if d["build_id"] == bid]
        return self._page(call, items, "model_deployments")

    def _create_deployment(self, call: Call, pid: str, mid: str, bid: str) -> dict[str, Any]:
        build = self._build_of(pid, mid, bid)
        if build["status"] != "built":
            raise FakeError(400, "invalid_argument", f"build {bid} is {build['status']}, not built")
        body = call.body or {}
        dep = fixture("model_deployment")
        did = self._uuid()
        now = self._now()
        dep.update(
            id=did,
            project_id=pid,
            model_id=mid,
            build_id=bid,
            cpu=body.get("cpu", 1),
            memory=body.get("memory", 2),
            nvidia_gpu=body.get("nvidia_gpus", 0),
            replicas=body.get("replicas", 1),
            environment=json.dumps(body.get("environment") or {}, sort_keys=True),
            status="pending",
            crn=dep["crn"].rsplit("/", 1)[0] + f"/{did}",
            created_at=now,
            updated_at=now,
        )
        self.deployments[did] = dep
        if self.supersede_on_deploy:  # CML stops the model's previous deployment for the new one
            for other in self.deployments.values():
                if other["model_id"] == mid and other["id"] != did and other["status"] != "stopped":
                    self._progress.pop(other["id"], None)
                    other["status"] = "stopped"
                    other["stopped_at"] = other["updated_at"] = now
        script = ["deploying"] + ([self.deploy_outcome] if self.deploy_outcome else [])
        self._progress[did] = _Progress("deployment", script)
        return copy.deepcopy(dep)

    def _deployment_of(self, pid: str, mid: str, bid: str, did: str) -> dict[str, Any]:
        self._build_of(pid, mid, bid)
        dep = self._get(self.deployments, did, "deployment")
        if dep["build_id"] != bid:
            raise FakeError(404, "not_found", f"deployment {did} not found")
        return dep

    def _get_deployment(self, call: Call, pid: str, mid: str, bid: str, did: str) -> dict[str, Any]:
        dep = copy.deepcopy(self._deployment_of(pid, mid, bid, did))
        self._advance(did)
        return dep

    def _stop_deployment(self, call: Call, pid: str, mid: str, bid: str, did: str) -> dict[str, Any]:
        dep = self._deployment_of(pid, mid, bid, did)
        self._progress.pop(did, None)
        dep["status"] = "stopped"
        dep["stopped_at"] = dep["updated_at"] = self._now()
        return copy.deepcopy(dep)

    def _restart_deployment(self, call: Call, pid: str, mid: str, bid: str, did: str) -> dict[str, Any]:
        dep = self._deployment_of(pid, mid, bid, did)
        dep["status"] = "pending"
        dep["stopped_at"] = None
        self._progress[did] = _Progress("deployment", ["deploying", "deployed"])
        return copy.deepcopy(dep)

    # -- the model service --------------------------------------------------------------------------

    @staticmethod
    def _model_request_problem(call: Call) -> str:
        """The endpoint contract: a JSON object with ``accessKey`` (or ``?accessKey=``) and an object
        ``request``; anything else is refused before any model sees it."""
        body = call.body
        if not isinstance(body, dict):
            return 'the body must be a JSON object {"accessKey": ..., "request": {...}}'
        key = body.get("accessKey", call.query.get("accessKey"))
        if not isinstance(key, str) or not key:
            return "accessKey is missing (a string in the body or the query)"
        if not isinstance(body.get("request"), dict):
            return "request is missing or not a JSON object"
        return ""

    def _model_call(self, request: Any) -> tuple[int, dict[str, str], str]:
        headers = {"Content-Type": "application/json"}
        try:
            call = self._parse(request, "model")
        except ValueError:
            call = Call(request.method, urlsplit(request.url).path, {}, None, "model")
            call.status = 400
            self.calls.append(call)
            return 400, headers, json.dumps({"success": False, "errors": {"message": "body is not JSON"}})
        self.calls.append(call)
        problem = self._model_request_problem(call)
        if problem:
            call.status = 400
            return 400, headers, json.dumps({"success": False, "errors": {"message": problem}})
        body = call.body
        key = body.get("accessKey") or call.query.get("accessKey")
        model = next((m for m in self.models.values() if key and m["access_key"] == key), None)
        if model is None:
            call.status = 404
            return 404, headers, json.dumps({"success": False, "errors": {"message": "model not found"}})
        if model["auth_enabled"] and request.headers.get("Authorization") != f"Bearer {self.api_key}":
            call.status = 401
            return 401, headers, json.dumps({"success": False, "errors": {"message": "unauthorized"}})
        serving = [
            d for d in self.deployments.values() if d["model_id"] == model["id"] and d["status"] == "deployed"
        ]
        if not serving:
            call.status = 503
            return (
                503,
                headers,
                json.dumps({"success": False, "errors": {"message": "model is not deployed"}}),
            )
        self.predictions.append(body.get("request"))
        call.status = 200
        return 200, headers, json.dumps({"success": True, "response": self.prediction_response})
