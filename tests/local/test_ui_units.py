"""The web UI's parts that need no server: sessions and tokens, the gate, charts, error panels."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from automation.local.state.sessions import SESSION_TTL, TOKEN_TTL, UiSessions, cookie_name, cookie_value
from automation.local.ui.auth import UiGate
from automation.local.ui.charts import metric_chart
from automation.local.ui.overview import Overview, Section, _section, mlflow_run_link, mlflow_version_link
from automation.local.ui.templates import render

KEY = "k" * 40


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_login_token_works_once_and_expires():
    clock = Clock()
    sessions = UiSessions(KEY, clock=clock)
    token = sessions.issue_token()
    cookie = sessions.redeem(token)
    assert cookie is not None and sessions.valid(cookie)
    assert sessions.redeem(token) is None  # spent
    late = sessions.issue_token()
    clock.now += TOKEN_TTL + 1
    assert sessions.redeem(late) is None
    assert sessions.redeem("never-issued") is None


def test_a_session_cookie_is_signed_by_the_workspace_key_and_expires():
    clock = Clock()
    sessions = UiSessions(KEY, clock=clock)
    cookie = sessions.login(KEY)
    assert cookie is not None and KEY not in cookie
    assert sessions.login("wrong") is None
    assert not UiSessions("another key " * 4, clock=clock).valid(cookie)  # a new key ends every session
    expiry, nonce, signature = cookie.split(".")
    assert not sessions.valid(f"{int(expiry) + 999}.{nonce}.{signature}")  # a forged expiry
    assert not sessions.valid(f"{expiry}.{nonce}.{'0' * len(signature)}")
    for bad in ("", "x", "a.b", "1.2.3.4", None):
        assert not sessions.valid(bad)
    clock.now += SESSION_TTL - 5
    assert sessions.valid(cookie)
    clock.now += 10
    assert not sessions.valid(cookie)


def test_cookies_are_read_by_exact_name():
    headers = [(b"accept", b"*/*"), (b"cookie", b"a=1; cmlops_ui_80=v1; cmlops_ui_8080=v2")]
    assert cookie_value(headers, cookie_name(8080)) == "v2"
    assert cookie_value(headers, cookie_name(80)) == "v1"
    assert cookie_value(headers, cookie_name(1)) is None
    assert cookie_value([], "a") is None


def _through_gate(path: str, cookie: str | None) -> tuple[int, bytes]:
    sessions = UiSessions(KEY)
    reached: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        reached.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"inside"})

    gate = UiGate(app, sessions, cookie_name(9))
    value = sessions.login(KEY) if cookie == "good" else cookie
    headers = [(b"cookie", f"{cookie_name(9)}={value}".encode())] if value else []
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": path, "headers": headers, "query_string": b""}
    asyncio.run(gate(scope, receive, send))
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], body


@pytest.mark.parametrize("path", ["/ui", "/ui/", "/ui/api/panels", "/ui/logs/abc", "/ui/static/ui.js"])
def test_the_gate_refuses_ui_paths_without_a_valid_cookie(path: str):
    for cookie in (None, "forged.0.0"):
        status, body = _through_gate(path, cookie)
        assert status == 401 and b"inside" not in body
    assert _through_gate(path, "good") == (200, b"inside")


@pytest.mark.parametrize("path", ["/ui/login", "/ui/token", "/api/v2/projects", "/health", "/uix"])
def test_the_gate_leaves_other_paths_alone(path: str):
    assert _through_gate(path, None) == (200, b"inside")


def test_a_metric_chart_places_each_version_and_escapes_the_name():
    svg = str(metric_chart("rmse<x>", [(1, 0.8), (2, 0.7), (4, 0.75)]))
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "rmse&lt;x&gt;" in svg and "<x>" not in svg
    points = [tuple(map(float, p.split(","))) for p in re.search(r'points="([^"]+)"', svg).group(1).split()]
    xs, ys = zip(*points, strict=True)
    assert xs[0] < xs[1] < xs[2] and (xs[2] - xs[1]) == pytest.approx(2 * (xs[1] - xs[0]), abs=0.2)
    assert ys[1] > ys[2] > ys[0]  # SVG's y grows downwards: the smallest value is lowest
    assert [f"v{v}" for v in (1, 2, 4)] == re.findall(r">(v\d)</text>", svg)
    single = str(metric_chart("r2", [(3, 0.1)]))
    assert "polyline" not in single and "v3" in single and "0.1" in single


def test_a_section_that_fails_shows_its_error_and_the_others_still_render():
    def broken() -> list[Any]:
        raise RuntimeError("the store is locked")

    failed = _section(broken)
    assert failed.rows == [] and failed.error == "RuntimeError: the store is locked"
    overview = Overview(
        projects=failed,
        models=Section(rows=[]),
        registry=Section(rows=[]),
        applications=Section(rows=[]),
        promotions=Section(rows=[]),
    )
    html = render("panels.html", o=overview, now=0.0)
    assert "Could not read this part of the workspace: RuntimeError: the store is locked" in html
    assert "No models yet." in html and "No projects yet" not in html


def test_the_panels_escape_what_users_named():
    overview = Overview(
        projects=Section(rows=[{"id": "p1", "name": "<script>alert(1)</script>", "jobs": []}]),
        models=Section(),
        registry=Section(),
        applications=Section(),
        promotions=Section(),
    )
    html = render("panels.html", o=overview, now=0.0)
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html


def test_links_into_mlflow_ui_use_its_routes():
    assert mlflow_run_link("3", "abc") == "/mlflow/#/experiments/3/runs/abc"
    assert mlflow_version_link("wine model/x", 2) == "/mlflow/#/models/wine%20model%2Fx/versions/2"


class _Bridge:
    """What promotions.py asks of the MLflow bridge: version ids to (name, number)."""

    def __init__(self, versions: dict[str, tuple[str, str]]) -> None:
        self.versions = versions

    def version_key(self, version_id: str) -> tuple[str, str]:
        from automation.local.core.problems import not_found

        if version_id not in self.versions:
            raise not_found("registered model version", version_id)
        return self.versions[version_id]

    def model_name(self, model_id: str) -> str:
        return "wine"


def test_the_promotion_timeline_reads_builds_deployments_and_promotion_tags(tmp_path):
    from types import SimpleNamespace

    from automation.local.state.store import Store
    from automation.local.ui.promotions import timelines

    store = Store(tmp_path / "w.db")
    store.insert("project", "p", {"id": "p", "name": "wine-prd"})
    store.insert("model", "m", {"id": "m", "name": "endpoint", "project_id": "p"}, parent="p")
    store.insert("model", "idle", {"id": "idle", "name": "never built", "project_id": "p"}, parent="p")
    for n, at in ((1, 100.0), (2, 200.0)):
        store.insert(
            "build",
            f"b{n}",
            {"id": f"b{n}", "status": "built", "created_at": at, "registered_model_version_id": f"v{n}"},
            parent="m",
        )
        status = "stopped" if n == 1 else "deployed"
        store.insert(
            "deployment", f"d{n}", {"id": f"d{n}", "status": status, "created_at": at + 5}, parent=f"b{n}"
        )
    gates = '[{"gate":"rmse","metric":"rmse","value":0.7,"threshold":0.9,"passed":true}]'
    versions = [
        SimpleNamespace(
            version="1", run_id="r1", tags={"stage": "archived", "archived_at": "2026-01-02T00:00:00.000000Z"}
        ),
        SimpleNamespace(
            version="2",
            run_id="r2",
            tags={"stage": "production", "promoted_at": "2026-01-02T00:00:00.000000Z", "gates": gates},
        ),
    ]
    metrics = {"r1": {"rmse": 0.8, "r2": 0.1}, "r2": {"rmse": 0.7, "r2": 0.2}}
    client = SimpleNamespace(
        search_model_versions=lambda *a, **k: versions,
        get_run=lambda run_id: SimpleNamespace(data=SimpleNamespace(metrics=metrics[run_id])),
    )
    ws = SimpleNamespace(store=store, mlflow=_Bridge({"v1": ("wine", "1"), "v2": ("wine", "2")}))
    (line,) = timelines(ws, client)
    assert (line.model, line.project, line.registered) == ("endpoint", "wine-prd", "wine")
    said = [(e.version, e.what, e.state) for e in line.events]
    assert said[:2] == [
        ("v2", "promoted to production", "production"),
        ("v1", "archived (replaced)", "archived"),
    ]
    assert said[2:] == [
        ("v2", "deployment", "deployed"),
        ("v2", "build", "built"),
        ("v1", "deployment", "stopped"),
        ("v1", "build", "built"),
    ]
    (chart,) = line.charts  # the gate's metric only, once a promotion named it
    assert 'data-metric="rmse"' in chart and ">v1<" in chart and ">v2<" in chart
    store.close()


def test_local_ui_opens_a_browser_only_where_one_can_show(monkeypatch: pytest.MonkeyPatch):
    from automation.cli.local_cmds import _has_display

    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert _has_display() is False  # a console browser would take over the terminal
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    assert _has_display() is True
    monkeypatch.setattr("sys.platform", "darwin")
    monkeypatch.delenv("WAYLAND_DISPLAY")
    assert _has_display() is True


@pytest.mark.parametrize(
    ("model_id", "text", "message"),
    [
        ("nope", '{"input": [[1]]}', "no model 'nope'"),
        ("m", "   ", "the input is empty"),
        ("m", None, "the input is empty"),
        ("m", "{not json", "the input is not valid JSON"),
        ("m", "x" * (2 << 20), "the input is over 1024 KiB"),
    ],
)
def test_the_test_box_names_bad_input_and_calls_nothing(model_id: str, text: Any, message: str):
    from types import SimpleNamespace

    from automation.local.ui.predict import call_endpoint

    models = {"m": {"id": "m", "access_key": "a", "auth_enabled": True}}
    ws = SimpleNamespace(
        store=SimpleNamespace(get=lambda kind, ident: models.get(ident)), model_service_url=""
    )
    status, body = asyncio.run(call_endpoint(ws, model_id, text))
    assert status == 400 and body["error"].startswith(message), body
